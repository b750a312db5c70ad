// Data readers: PNG/JPEG decoding against the project's own PGM digits,
// MNIST IDX (.gz) and deflated .npz from ../shared/data, zlib errors, and
// datasets from folders (class sub-folders, labels.csv) with their errors.
import CNNTools
import Foundation
import Testing

private let images = repoRoot.appendingPathComponent("Tests/Golden/images")
private let digits = repoRoot.appendingPathComponent("samples/mnist")

private func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

private func meanAbsDiff(_ a: [UInt8], _ b: [UInt8]) -> Double {
  zip(a, b).reduce(0.0) { $0 + Double(abs(Int($1.0) - Int($1.1))) } / Double(max(a.count, 1))
}

@Suite struct DataReaderTests {
  @Test func png_decodes_to_the_exact_pixels_of_the_pgm_it_was_made_from() throws {
    let png = try ImageFile.read(path: images.appendingPathComponent("digit_3_0.png").path)
    let pgm = try PNM.read(path: digits.appendingPathComponent("digit_3_0.pgm").path)
    #expect(png == pgm)
  }

  @Test func rgb_png_keeps_three_channels_and_its_size() throws {
    let img = try ImageFile.read(path: images.appendingPathComponent("digit_2_0_rgb56.png").path)
    #expect(img.width == 56 && img.height == 56 && img.channels == 3)
    let pgm = try PNM.read(path: digits.appendingPathComponent("digit_2_0.pgm").path)
    // Nearest-neighbour 2× upscale of a gray image: pixel (2x, 2y) is the source pixel, in every channel.
    for y in 0..<28 { for x in 0..<28 { for c in 0..<3 {
      #expect(img.pixels[((2 * y) * 56 + 2 * x) * 3 + c] == pgm.pixels[y * 28 + x])
    } } }
  }

  @Test func jpeg_decodes_close_to_its_source() throws {
    let gray = try ImageFile.read(path: images.appendingPathComponent("digit_7_1.jpg").path)
    let src7 = try PNM.read(path: digits.appendingPathComponent("digit_7_1.pgm").path)
    #expect(gray.width == 28 && gray.height == 28 && gray.channels == 1)
    #expect(meanAbsDiff(gray.pixels, src7.pixels) < 4)
    let rgb = try ImageFile.read(path: images.appendingPathComponent("digit_8_1_rgb.jpg").path)
    #expect(rgb.channels == 3)
    let src8 = try PNM.read(path: digits.appendingPathComponent("digit_8_1.pgm").path)
    let green = stride(from: 1, to: rgb.pixels.count, by: 3).map { rgb.pixels[$0] }
    #expect(meanAbsDiff(green, src8.pixels) < 4)
  }

  @Test func truncated_or_corrupt_images_give_errors() throws {
    let png = try bytes(images.appendingPathComponent("digit_3_0.png"))
    let jpg = try bytes(images.appendingPathComponent("digit_7_1.jpg"))
    for cut in [8, 40, png.count / 2, png.count - 13] {
      #expect(throws: DataError.self) { try ImageFile.decode(Array(png.prefix(cut))) }
    }
    for cut in [3, 20, jpg.count / 2, jpg.count - 2] {
      #expect(throws: DataError.self) { try ImageFile.decode(Array(jpg.prefix(cut))) }
    }
    var flipped = png
    flipped[png.count / 2] ^= 0xFF
    #expect(throws: DataError.self) { try ImageFile.decode(flipped) }
    let e = #expect(throws: DataError.self) { try ImageFile.decode(Array("hello world".utf8)) }
    #expect(e?.description.contains("not a PNG, JPEG") == true)
  }

  @Test func mnist_idx_gz_test_set_with_its_sibling_labels() throws {
    let dir = try sharedDataDir().appendingPathComponent("mnist")
    let ds = try Dataset.load(dir.appendingPathComponent("t10k-images-idx3-ubyte.gz").path)
    #expect(ds.count == 10_000)
    #expect(ds.labelSource?.hasSuffix("t10k-labels-idx1-ubyte.gz") == true)
    let labels = try ds.classIndices(modelLabels: [], classCount: 10)
    // Every digit occurs, about 1,000 times each (MNIST's test set is balanced to ±15 %).
    let counts = (0..<10).map { d in labels.filter { $0 == d }.count }
    #expect(counts.allSatisfy { $0 > 850 && $0 < 1_200 })
    guard case .image(let first) = ds.samples[0] else { Issue.record("expected images"); return }
    #expect(first.width == 28 && first.height == 28 && first.channels == 1)
    #expect(first.pixels.contains { $0 > 200 } && first.pixels.filter { $0 == 0 }.count > 400)
  }

  @Test func idx_parser_checks_its_header_and_size() throws {
    let plain: [UInt8] = [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]
    let a = try IDXArray(bytes: plain)
    #expect(a.shape == [2, 3] && a.values == [1, 2, 3, 4, 5, 6])
    #expect(throws: DataError.self) { try IDXArray(bytes: Array(plain.prefix(15))) }
    #expect(throws: DataError.self) { try IDXArray(bytes: [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]) }
    #expect(throws: DataError.self) { try IDXArray(bytes: [1, 2, 3]) }
  }

  @Test func gzip_round_trip_and_corrupt_streams() throws {
    try withTempDir { dir in
      let payload = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) }
      let file = dir.appendingPathComponent("p.bin")
      try Data(payload).write(to: file)
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      p.arguments = ["gzip", "-9", file.path]
      try p.run()
      p.waitUntilExit()
      let gz = try bytes(dir.appendingPathComponent("p.bin.gz"))
      #expect(Inflate.isGzip(gz))
      #expect(try Inflate.inflate(gz) == payload)
      #expect(throws: DataError.self) { try Inflate.inflate(Array(gz.prefix(gz.count / 2))) }
      var bad = gz
      bad[20] ^= 0x55
      #expect(throws: DataError.self) { try Inflate.inflate(bad) }
      #expect(throws: DataError.self) { try Inflate.inflate(gz, limit: 1000) }
    }
  }

  @Test func deflated_npz_images_with_sibling_labels() throws {
    let x = try sharedDataDir().appendingPathComponent("cifar10/neuralnetvis_cifar10_train_preview100_x.npz")
    let ds = try Dataset.load(x.path, limit: 60)
    #expect(ds.count == 60)
    #expect(ds.labelSource?.hasSuffix("_y.npz") == true)
    guard case .image(let img) = ds.samples[59] else { Issue.record("expected images"); return }
    #expect(img.width == 32 && img.height == 32 && img.channels == 3)
    let labels = try ds.classIndices(modelLabels: [], classCount: 10)
    #expect(Set(labels).count >= 8)
  }

  @Test func folder_with_class_subfolders_and_flat_folder_with_csv() throws {
    try withTempDir { dir in
      let fm = FileManager.default
      for (cls, file) in [("three", "digit_3_0.png"), ("seven", "digit_7_1.jpg"), ("eight", "digit_8_1_rgb.jpg")] {
        try fm.createDirectory(at: dir.appendingPathComponent("classes/\(cls)"), withIntermediateDirectories: true)
        try fm.copyItem(at: images.appendingPathComponent(file), to: dir.appendingPathComponent("classes/\(cls)/\(file)"))
      }
      let byFolder = try Dataset.load(dir.appendingPathComponent("classes").path)
      #expect(byFolder.labels == ["eight", "seven", "three"])
      let names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
      #expect(try byFolder.classIndices(modelLabels: names, classCount: 10) == [8, 7, 3])
      let unknown = #expect(throws: DataError.self) { try byFolder.classIndices(modelLabels: [], classCount: 10) }
      #expect(unknown?.description.contains("'eight'") == true)

      let flat = dir.appendingPathComponent("flat")
      try fm.createDirectory(at: flat, withIntermediateDirectories: true)
      for f in ["digit_3_0.png", "digit_7_1.jpg"] {
        try fm.copyItem(at: images.appendingPathComponent(f), to: flat.appendingPathComponent(f))
      }
      #expect(try Dataset.load(flat.path).labels == nil)
      try "file,label\ndigit_3_0.png,3\ndigit_7_1.jpg,7\n".write(to: flat.appendingPathComponent("labels.csv"),
                                                                 atomically: true, encoding: .utf8)
      let csv = try Dataset.load(flat.path)
      #expect(try csv.classIndices(modelLabels: [], classCount: 10) == [3, 7])

      let empty = dir.appendingPathComponent("empty")
      try fm.createDirectory(at: empty, withIntermediateDirectories: true)
      let e = #expect(throws: DataError.self) { try Dataset.load(empty.path) }
      #expect(e?.description.contains("no images") == true)
    }
  }
}
