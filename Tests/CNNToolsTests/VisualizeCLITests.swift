// `cnnrt visualize`: files written, their pixel sizes (layout in
// Sources/CNNTools/Pictures.swift: tiles enlarged to ~48 px, 2-px gaps,
// ceil(sqrt(n)) columns), and, for the lecture notes' X detector built by
// hand, the feature-map picture's brightest pixels where the notes' 7×7
// feature map has its 9s.
import CNNRuntime
import CNNTools
import Foundation
import Testing

@Suite struct VisualizeCLITests {
  let mnist = repoRoot.appendingPathComponent("models/mnist.cnnrt").path

  func png(_ dir: URL, _ name: String) throws -> PNMImage {
    try ImageFile.read(path: dir.appendingPathComponent(name).path)
  }

  /// Grid side in pixels: `cols` tiles of `side` values enlarged `zoom` times, 2-px gaps.
  func side(_ cols: Int, _ tile: Int, _ zoom: Int) -> Int { cols * tile * zoom + (cols + 1) * 2 }

  @Test func mnist_digit_gives_filters_one_grid_per_conv_and_pool_layer_and_index() throws {
    try withTempDir { dir in
      let out = dir.appendingPathComponent("out")
      let r = try cnnrt(["visualize", mnist, "samples/mnist/digit_3_0.pgm", "-o", out.path], in: dir)
      #expect(r.code == 0, "\(r.stderr)")
      #expect(r.stdout.contains("top: 3 "), "\(r.stdout)")
      let files = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
      #expect(files == ["filters.png", "index.html", "input.png", "layer_00_conv2d.png", "layer_01_conv2d.png",
                        "layer_02_maxpool2d.png", "layer_03_conv2d.png", "layer_04_maxpool2d.png"])
      // 16 gray 3x3 filters: 4 columns of 48-px tiles.
      let f = try png(out, "filters.png")
      #expect((f.width, f.height) == (side(4, 3, 16), side(4, 3, 16)))
      // [1,28,28,16]: 4x4 tiles of 28 px; [1,28,28,32]: 6 columns, 6 rows; [1,14,14,32]: 6x6 of 14x3;
      // [1,14,14,64]: 8x8 of 14x3; [1,7,7,64]: 8x8 of 7x6.
      let expected: [(String, Int)] = [("layer_00_conv2d.png", side(4, 28, 1)), ("layer_01_conv2d.png", side(6, 28, 1)),
                                       ("layer_02_maxpool2d.png", side(6, 14, 3)), ("layer_03_conv2d.png", side(8, 14, 3)),
                                       ("layer_04_maxpool2d.png", side(8, 7, 6))]
      for (name, s) in expected {
        let p = try png(out, name)
        #expect((p.width, p.height) == (s, s), "\(name)")
        #expect(p.channels == 3)
      }
      let input = try png(out, "input.png")
      #expect((input.width, input.height, input.channels) == (28, 28, 1))
      let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
      for needle in ["filters.png", "layer_00_conv2d.png", "layer_04_maxpool2d.png", "relu1_out (Conv2D)",
                     "[1, 28, 28, 16]", ">160<", ">112,896<", "logits (FullyConnected)", "total MACs: 7,369,600", "3: 99.6%"] {
        #expect(html.contains(needle), "index.html lacks \(needle)")
      }
    }
  }

  /// The notes' X detector: 9×9 image of ±1, the diagonal filter
  /// [1 -1 -1; -1 1 -1; -1 -1 1] (unit scales), pixels mapped to ±1 by the
  /// model's preprocessing (x = pixel × 2/255 − 1). The 7×7 map is also
  /// flattened into 49 "classes" (cnn_classify, which visualize runs, needs
  /// a class vector as the output).
  func xDetector() throws -> [UInt8] {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 9, 9, 1], scale: 1, zeroPoint: 0, name: "input")
    let f = try b.addConstant([1, -1, -1, -1, 1, -1, -1, -1, 1] as [Int8], shape: [1, 3, 3, 1], scale: 1, name: "X filter")
    let y = try b.conv2D(x, filter: f, bias: nil, stride: (1, 1), padding: .valid, activation: .none,
                         outputScale: 1, outputZeroPoint: 0, name: "feature_map")
    let flat = try b.reshape(y, to: [1, 49], name: "positions")
    try b.markInput(x)
    try b.markOutput(flat)
    b.metadata = ModelMetadata(name: "notes X detector", imageWidth: 9, imageHeight: 9, imageChannels: 1,
                               channelOrder: .gray, pixelScale: 2.0 / 255, mean: [1], std: [1])
    return try b.serialize()
  }

  static let xImage: [[Int]] = [
    [-1, -1, -1, -1, -1, -1, -1, -1, -1],
    [-1, 1, -1, -1, -1, -1, -1, 1, -1],
    [-1, -1, 1, -1, -1, -1, 1, -1, -1],
    [-1, -1, -1, 1, -1, 1, -1, -1, -1],
    [-1, -1, -1, -1, 1, -1, -1, -1, -1],
    [-1, -1, -1, 1, -1, 1, -1, -1, -1],
    [-1, -1, 1, -1, -1, -1, 1, -1, -1],
    [-1, 1, -1, -1, -1, -1, -1, 1, -1],
    [-1, -1, -1, -1, -1, -1, -1, -1, -1],
  ]
  /// The notes' feature map of that image and filter.
  static let xFeatureMap: [[Int]] = [
    [7, -1, 1, 3, 5, -1, 3],
    [-1, 9, -1, 3, -1, 1, -1],
    [1, -1, 9, -3, 1, -1, 5],
    [3, 3, -3, 5, -3, 3, 3],
    [5, -1, 1, -3, 9, -1, 1],
    [-1, 1, -1, 3, -1, 9, -1],
    [3, -1, 5, 3, 1, -1, 7],
  ]

  @Test func x_detector_feature_map_picture_is_brightest_where_the_notes_map_has_9() throws {
    try withTempDir { dir in
      let model = dir.appendingPathComponent("x.cnnrt")
      try Data(try xDetector()).write(to: model)
      let image = dir.appendingPathComponent("x.pgm")
      try Data(Array("P5\n9 9\n255\n".utf8) + Self.xImage.flatMap { $0.map { $0 > 0 ? UInt8(255) : 0 } }).write(to: image)
      let out = dir.appendingPathComponent("out")
      let r = try cnnrt(["visualize", model.path, image.path, "-o", out.path], in: dir)
      #expect(r.code == 0, "\(r.stderr)")
      // Positions (1, 1), (2, 2), (4, 4) score 9 (printed as 900 %: the output is not a probability).
      #expect(r.stdout.contains("top: class 8 900.0%\ntop: class 16 900.0%\ntop: class 32 900.0%\n"), "\(r.stdout)")
      #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
                == ["filters.png", "index.html", "input.png", "layer_00_conv2d.png"])

      // One 7×7 map enlarged 6 times (42 px) inside a 2-px frame.
      let map = try png(out, "layer_00_conv2d.png")
      #expect((map.width, map.height) == (46, 46))
      func rgb(_ p: PNMImage, _ y: Int, _ x: Int) -> [UInt8] { Array(p.pixels[(y * p.width + x) * 3..<(y * p.width + x) * 3 + 3]) }
      for y in 0..<7 { for x in 0..<7 {
        let v = Self.xFeatureMap[y][x]
        let level = UInt8((255 * Double(abs(v)) / 9).rounded())
        for (dy, dx) in [(0, 0), (5, 5), (3, 2)] {  // every pixel of the 6×6 block has the value's colour
          let c = rgb(map, 2 + y * 6 + dy, 2 + x * 6 + dx)
          if v == 9 { #expect(c == [255, 255, 255], "(\(y), \(x)) should be white") }
          if v >= 0 { #expect(c == [level, level, level], "(\(y), \(x)) = \(v)") } else { #expect(c == [0, 0, level], "(\(y), \(x)) = \(v) is blue") }
        }
      } }
      var white = 0
      for i in stride(from: 0, to: map.pixels.count, by: 3) where map.pixels[i] == 255 && map.pixels[i + 1] == 255 && map.pixels[i + 2] == 255 {
        white += 1
      }
      #expect(white == 4 * 36, "the four 9s, 6×6 pixels each, and nothing else is white")

      // The filter: one 3×3 gray tile enlarged 16 times; +1 white, −1 black.
      let filt = try png(out, "filters.png")
      #expect((filt.width, filt.height) == (52, 52))
      for ky in 0..<3 { for kx in 0..<3 {
        let g: UInt8 = ky == kx ? 255 : 1
        #expect(rgb(filt, 2 + ky * 16 + 8, 2 + kx * 16 + 8) == [g, g, g])
      } }
    }
  }

  @Test func imported_tflite_model_with_rgb_filters() throws {
    try withTempDir { dir in
      let model = dir.appendingPathComponent("m.cnnrt").path
      let imp = try cnnrt(["import", "Tests/Golden/tflm/models/zoo_mobilenetv3_block.tflite", "-o", model], in: dir)
      #expect(imp.code == 0, "\(imp.stderr)")
      let out = dir.appendingPathComponent("out")
      let r = try cnnrt(["visualize", model, "Tests/Golden/images/digit_8_1_rgb.jpg", "-o", out.path, "--top", "2"], in: dir)
      #expect(r.code == 0, "\(r.stderr)")
      #expect(r.stdout.components(separatedBy: "top: ").count - 1 == 2)
      let files = try FileManager.default.contentsOfDirectory(atPath: out.path)
      // Every Conv2D and DepthwiseConv2D output of the block (layers 0, 2, 4, 7, 8, 11, 13).
      let layers = files.filter { $0.hasPrefix("layer_") }
      #expect(layers.count == 7, "\(files.sorted())")
      #expect(files.contains("index.html") && files.contains("input.png"))
      // 16 RGB 3x3 filters: colour tiles, 4 columns.
      let f = try png(out, "filters.png")
      #expect((f.width, f.height) == (side(4, 3, 16), side(4, 3, 16)))
      let px = f.pixels
      var colourful = 0
      for i in stride(from: 0, to: px.count, by: 3) where px[i] != px[i + 1] || px[i + 1] != px[i + 2] { colourful += 1 }
      #expect(colourful > 16 * 9 * 16 * 16 / 2, "most filter pixels have colour")
      let l0 = try png(out, "layer_00_conv2d.png")  // [1,16,16,16]: 4x4 tiles of 16x3
      #expect((l0.width, l0.height) == (side(4, 16, 3), side(4, 16, 3)))
    }
  }

  @Test func visualize_refuses_a_bad_image_with_exit_4() throws {
    try withTempDir { dir in
      let bad = dir.appendingPathComponent("bad.png")
      try Data("no".utf8).write(to: bad)
      let r = try cnnrt(["visualize", mnist, bad.path, "-o", dir.appendingPathComponent("o").path], in: dir)
      #expect(r.code == 4)
      #expect(r.stderr.hasPrefix("cnnrt: \(bad.path): "), "\(r.stderr)")
    }
  }
}
