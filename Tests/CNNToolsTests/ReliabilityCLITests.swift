// CLI reliability: error messages name the file once; classifying a large
// PNG keeps a single copy of the decoded pixels.
import Foundation
import Testing

@Suite struct ReliabilityCLITests {
  let model = repoRoot.appendingPathComponent("models/mnist.cnnrt").path

  func occurrences(of needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
  }

  @Test func classify_errors_name_the_image_file_once() throws {
    try withTempDir { dir in
      let png = try Data(contentsOf: repoRoot.appendingPathComponent("Tests/Golden/images/digit_3_0.png"))
      let cases: [(String, Data?)] = [
        ("truncated.png", png.prefix(png.count / 2)),        // corrupt PNG
        ("header-only.png", png.prefix(8)),                  // not a readable PNG
        ("text.png", Data("hello".utf8)),                    // not an image at all
        ("missing.png", nil),                                // cannot read the file
      ]
      for (name, contents) in cases {
        let path = dir.appendingPathComponent(name).path
        if let contents { try contents.write(to: URL(fileURLWithPath: path)) }
        let r = try cnnrt(["classify", model, path], in: dir)
        #expect(r.code == 4, "\(name): \(r.stderr)")
        #expect(r.stderr.hasPrefix("cnnrt: \(path): "), "\(name): \(r.stderr)")
        #expect(occurrences(of: name, in: r.stderr) == 1, "\(name): \(r.stderr)")
      }
    }
  }

  @Test func model_errors_name_the_model_file_once() throws {
    try withTempDir { dir in
      let bad = dir.appendingPathComponent("bad.cnnrt")
      try Data("CNNRTMDL and nothing else".utf8).write(to: bad)
      let image = repoRoot.appendingPathComponent("samples/mnist/digit_3_0.pgm").path
      for path in [bad.path, dir.appendingPathComponent("absent.cnnrt").path] {
        let r = try cnnrt(["classify", path, image], in: dir)
        #expect(r.code != 0)
        #expect(occurrences(of: URL(fileURLWithPath: path).lastPathComponent, in: r.stderr) == 1, "\(r.stderr)")
      }
    }
  }

  /// Peak RSS of `cnnrt classify` on a width x height gray PNG (constant
  /// pixels, so the file is small) or binary PGM (`ext` "pgm"), measured by a
  /// Python parent with getrusage(RUSAGE_CHILDREN): that parent runs only
  /// this one child.
  func classifyPeakKB(width: Int, height: Int, dir: URL, ext: String = "png") throws -> Int {
    let script = """
      import resource, struct, subprocess, sys, zlib
      w, h, png, cli, model = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
      def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
      c = zlib.compressobj(9)
      row = b"\\0" + bytes([180]) * w
      idat = b"".join([c.compress(row) for _ in range(h)] + [c.flush()])
      if png.endswith(".pgm"):
          with open(png, "wb") as f:
              f.write(b"P5\\n%d %d\\n255\\n" % (w, h))
              for _ in range(h): f.write(bytes([180]) * w)
      else:
        with open(png, "wb") as f:
          f.write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                  + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
      r = subprocess.run([cli, "classify", model, png], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
      if r.returncode != 0:
          sys.exit("cnnrt failed: " + r.stdout.decode())
      print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
      """
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    let png = dir.appendingPathComponent("gray\(width)x\(height).\(ext)").path
    p.arguments = ["python3", "-c", script, String(width), String(height), png, try cnnrtBinary().path, model]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0,
          let kb = Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    else { throw CLITestError("peak measurement failed (status \(p.terminationStatus))") }
    return kb
  }

  /// Before the fix the decoder's buffer and the image's array coexisted:
  /// peak = baseline + 2 x pixels (a 16000 x 16000 PNG peaked at 510 MB).
  /// Now the pixels are decoded into the image's own array: baseline + 1 x.
  @Test func classify_keeps_one_copy_of_a_large_decoded_png() throws {
    try withTempDir { dir in
      let side = 8000, pixels = side * side   // 64 MB of gray pixels
      let small = try classifyPeakKB(width: 64, height: 64, dir: dir)
      let large = try classifyPeakKB(width: side, height: side, dir: dir)
      let extra = (large - small) * 1024
      #expect(extra > pixels * 9 / 10, "the decoded image must be in memory once: \(extra) bytes above baseline")
      #expect(extra < pixels + pixels / 4, "peak \(large) KB vs baseline \(small) KB: more than one copy of \(pixels) bytes")
    }
  }

  /// The same for a binary PGM: the raster is read from the file straight
  /// into the image's array (before: the whole file, then a copy of it).
  @Test func classify_keeps_one_copy_of_a_large_pgm() throws {
    try withTempDir { dir in
      let side = 8000, pixels = side * side
      let small = try classifyPeakKB(width: 64, height: 64, dir: dir, ext: "pgm")
      let large = try classifyPeakKB(width: side, height: side, dir: dir, ext: "pgm")
      let extra = (large - small) * 1024
      #expect(extra > pixels * 9 / 10, "the image must be in memory once: \(extra) bytes above baseline")
      #expect(extra < pixels + pixels / 4, "peak \(large) KB vs baseline \(small) KB: more than one copy of \(pixels) bytes")
    }
  }
}
