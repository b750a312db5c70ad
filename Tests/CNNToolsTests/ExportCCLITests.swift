// `cnnrt export-c`: the C files hold the model byte for byte, the header
// states the sizes the runtime reports for the portable path, and both
// compile under strict C11 (and the header as C++) with the host compilers.
import CNNRuntime
import CNNTools
import Foundation
import Testing

@Suite struct ExportCCLITests {
  let model = repoRoot.appendingPathComponent("models/mnist.cnnrt")

  /// The bytes of the array initializer in an exported .c file.
  func arrayBytes(_ source: String) -> [UInt8] {
    guard let open = source.range(of: "= {"), let close = source.range(of: "};", range: open.upperBound..<source.endIndex)
    else { return [] }
    return source[open.upperBound..<close.lowerBound].split(whereSeparator: { $0 == "," || $0.isWhitespace })
      .compactMap { UInt8($0.dropFirst(2), radix: 16) }
  }

  func define(_ name: String, in header: String) -> String? {
    for line in header.split(separator: "\n") where line.hasPrefix("#define \(name) ") {
      return String(line.dropFirst("#define \(name) ".count))
    }
    return nil
  }

  @Test func export_c_writes_the_model_bytes_and_sizes() throws {
    try withTempDir { dir in
      let out = dir.appendingPathComponent("out")
      let r = try cnnrt(["export-c", model.path, "-o", out.path, "--name", "Digits-1"], in: dir)
      #expect(r.code == 0, "\(r.stderr)")
      let c = try String(contentsOf: out.appendingPathComponent("digits_1_model.c"), encoding: .utf8)
      let h = try String(contentsOf: out.appendingPathComponent("digits_1_model.h"), encoding: .utf8)
      let file = [UInt8](try Data(contentsOf: model))
      #expect(arrayBytes(c) == file)
      #expect(c.contains("_Alignas(16) const uint8_t digits_1_model[DIGITS_1_MODEL_SIZE]"))
      #expect(define("DIGITS_1_MODEL_SIZE", in: h) == "\(file.count)u")
      setenv("CNNRT_ISA", "portable", 1)
      defer { unsetenv("CNNRT_ISA") }
      let m = try RuntimeModel(bytes: file)
      #expect(define("DIGITS_1_ARENA_BYTES", in: h) == "\(m.arenaBytes)u")
      #expect(define("DIGITS_1_MODEL_MEMORY_BYTES", in: h) == "\(m.modelBlockBytes)u")
      #expect(define("DIGITS_1_INPUT0_BYTES", in: h) == "784u")
      #expect(define("DIGITS_1_INPUT0_DIMS", in: h) == "{ 1, 28, 28, 1 }")
      #expect(define("DIGITS_1_OUTPUT0_BYTES", in: h) == "10u")
      #expect(h.contains("#ifndef DIGITS_1_MODEL_H"))
      // The ops the MNIST model uses, as `make lib OPS=...` names them.
      #expect(define("DIGITS_1_OPS", in: h) == "\"CONV2D FULLYCONNECTED MAXPOOL2D RESHAPE SOFTMAX\"")
    }
  }

  /// `make lib OPS=...` and NAME_OPS name each op by its `OpCode` case in
  /// capitals; OpTable.swift must guard every op's line with exactly that
  /// flag, or a reduced build would leave out an op it was asked for.
  @Test func every_op_code_has_its_build_flag_in_the_op_table() throws {
    let table = try String(contentsOf: repoRoot.appendingPathComponent("Sources/CNNRuntime/Ops/OpTable.swift"),
                           encoding: .utf8)
    let lines = table.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    var codes = 0
    for raw in 0...UInt16(1024) {
      guard let code = OpCode(rawValue: raw) else { continue }
      codes += 1
      let name = String(describing: code)
      let flag = "#if !CNNRT_OP_SUBSET || CNNRT_OP_\(name.uppercased())"
      guard let at = lines.firstIndex(of: flag) else {
        Issue.record("OpTable.swift has no line '\(flag)'")
        continue
      }
      #expect(at + 2 < lines.count && lines[at + 1].hasPrefix("case .\(name):") && lines[at + 2] == "#endif",
              "the line after '\(flag)' must be the case for .\(name), then #endif")
    }
    #expect(codes >= 34)
    #expect(lines.contains("default: return v.unavailable()"))
  }

  @Test func export_c_output_compiles_strictly_with_the_host_compilers() throws {
    try withTempDir { dir in
      let r = try cnnrt(["export-c", model.path, "-o", dir.path], in: dir)
      #expect(r.code == 0, "\(r.stderr)")
      let c = dir.appendingPathComponent("mnist_model.c").path, h = dir.appendingPathComponent("mnist_model.h").path
      let compiles: [[String]] = [
        ["gcc", "-std=c11", "-Wall", "-Wextra", "-pedantic", "-Werror", "-c", c, "-o", dir.appendingPathComponent("m.o").path],
        ["g++", "-std=c++17", "-Wall", "-Wextra", "-pedantic", "-Werror", "-fsyntax-only", "-x", "c++", h],
      ]
      for args in compiles {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(args.joined(separator: " "))")
      }
    }
  }

  @Test func export_c_refuses_bad_input_and_writes_nothing() throws {
    try withTempDir { dir in
      let bad = dir.appendingPathComponent("bad.cnnrt")
      try Data("CNNRTMDL and nothing else".utf8).write(to: bad)
      let out = dir.appendingPathComponent("out")
      let invalid = try cnnrt(["export-c", bad.path, "-o", out.path], in: dir)
      #expect(invalid.code == 3, "\(invalid.stderr)")
      let missing = try cnnrt(["export-c", dir.appendingPathComponent("absent.cnnrt").path, "-o", out.path], in: dir)
      #expect(missing.code == 2, "\(missing.stderr)")
      #expect(!FileManager.default.fileExists(atPath: out.path))
      let badName = try cnnrt(["export-c", model.path, "-o", out.path, "--name", "--!"], in: dir)
      #expect(badName.code != 0)
    }
  }
}
