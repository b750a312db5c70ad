// `cnnrt compare`, end to end: the built cnnrt binary is run as a process.
//
// - With TFLite Micro (the venv at build/venv-tflm): a golden single-op model
//   compares with exit 0 and "0 differing bytes". Without it, the same call must
//   fail with exit 5 and say how to install it.
// - TFLM unavailable (CNNRT_TFLM_PYTHON pointing at a Python without it): exit 5.
// - A stand-in for TFLM (CNNRT_TFLM_PYTHON = a script that writes TFLM's golden
//   ResNet-8 intermediates from Tests/Golden/tflm) checks the layer table, the
//   first-divergence report and exit 1, with or without the venv.
// - Missing file → 2, corrupt .tflite → 3, a .cnnrt not imported from the
//   .tflite → a warning.
import CNNTools
import Foundation
import Testing

private let golden = repoRoot.appendingPathComponent("Tests/Golden/tflm")
private let convModel = golden.appendingPathComponent("models/conv_3x3_s1_same_c3_o5.tflite")
private let convInputs = golden.appendingPathComponent("conv_3x3_s1_same_c3_o5.inputs.bin")

/// Imports a .tflite with the CLI (as a user would).
private func importModel(_ tflite: URL, to out: URL, in dir: URL) throws {
  let r = try cnnrt(["import", tflite.path, "-o", out.path], in: dir)
  guard r.code == 0 else { throw CLITestError("cnnrt import \(tflite.lastPathComponent): exit \(r.code): \(r.stderr)") }
}

/// A stand-in for TFLM: a script used as CNNRT_TFLM_PYTHON that answers the
/// import probe and, for a run, copies `served` (TFLM's golden files renamed as
/// tflm_run.py names them) into the --out folder.
private func fakeTFLM(serving served: URL, in dir: URL) throws -> URL {
  let script = dir.appendingPathComponent("fake-python.sh")
  try """
    #!/bin/sh
    [ "$1" = "-c" ] && exit 0
    out=""
    while [ $# -gt 0 ]; do [ "$1" = "--out" ] && out="$2"; shift; done
    [ -n "$out" ] || exit 2
    mkdir -p "$out" && cp '\(served.path)'/* "$out"/
    """.write(to: script, atomically: true, encoding: .utf8)
  try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
  return script
}

/// TFLM's ResNet-8 goldens for samples 0–2, laid out as tflm_run.py writes them.
/// Returns the folder, the model, and the intermediate tensors in execution order.
private func resnet8Served(in dir: URL) throws -> (served: URL, model: URL, layers: [Int]) {
  let model = try sharedDataDir().appendingPathComponent("models/mlperf_tiny_ic_resnet8_int8.tflite")
  let graph = try TFLiteModel(bytes: [UInt8](Data(contentsOf: model))).subgraphs[0]
  let served = dir.appendingPathComponent("served")
  try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
  let layers = graph.operators.flatMap(\.outputs)
  for t in layers {
    for s in 0..<3 {
      try FileManager.default.copyItem(at: golden.appendingPathComponent("mlperf_tiny_ic_resnet8.t\(t).s\(s).bin"),
                                       to: served.appendingPathComponent("t\(t).s\(s).bin"))
    }
  }
  let outputs = try Data(contentsOf: golden.appendingPathComponent("mlperf_tiny_ic_resnet8.outputs.bin"))
  try outputs.prefix(3 * 10).write(to: served.appendingPathComponent("outputs.bin"))
  let out = graph.outputs[0]
  try """
    {"tool": "fake", "tflite_micro": "golden files", "count": 3,
     "outputs": [{"index": \(out), "name": "out", "shape": [1, 10], "dtype": "INT8"}]}
    """.write(to: served.appendingPathComponent("index.json"), atomically: true, encoding: .utf8)
  return (served, model, layers)
}

private func flip(_ file: URL, element: Int) throws {
  var b = [UInt8](try Data(contentsOf: file))
  b[element] = b[element] &+ 1
  try Data(b).write(to: file)
}

@Suite(.serialized) struct CompareCLITests {
  /// The documented behaviour in both set-ups: identical with TFLM, else exit 5
  /// with the install instruction.
  @Test func goldenModelMatchesTFLMOrSaysHowToInstallIt() throws {
    try withTempDir { dir in
      let model = dir.appendingPathComponent("conv.cnnrt")
      try importModel(convModel, to: model, in: dir)
      let args = ["compare", convModel.path, model.path, "--inputs", convInputs.path]
      let venv = repoRoot.appendingPathComponent("build/venv-tflm/bin/python")
      let r = try cnnrt(args, in: dir)
      if FileManager.default.isExecutableFile(atPath: venv.path) {
        #expect(r.code == 0, "stdout:\n\(r.stdout)\nstderr:\n\(r.stderr)")
        #expect(r.stdout.contains("0 differing bytes in 1 layer over 20 samples"), "\(r.stdout)")
        #expect(r.stdout.contains("CONV_2D"))
        #expect(r.stdout.contains("same bytes as importing the .tflite"))
        #expect(!r.stderr.contains("warning"), "\(r.stderr)")

        let j = try cnnrt(args + ["--json", "--count", "3"], in: dir)
        #expect(j.code == 0, "\(j.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        #expect(obj["identical"] as? Bool == true)
        #expect(obj["samples"] as? Int == 3)
        #expect(obj["differing_bytes"] as? Int == 0)
        let layers = try #require(obj["layers"] as? [[String: Any]])
        #expect(layers.count == 1 && layers.first?["op"] as? String == "CONV_2D")
        #expect(layers.first?["total_bytes"] as? Int == 3 * 8 * 8 * 5)

        // --random: generated inputs, same answer.
        let rnd = try cnnrt(["compare", convModel.path, model.path, "--random", "4", "--seed", "7"], in: dir)
        #expect(rnd.code == 0, "\(rnd.stderr)")
        #expect(rnd.stdout.contains("0 differing bytes in 1 layer over 4 samples"), "\(rnd.stdout)")
      } else {
        #expect(r.code == 5, "no TFLM venv at \(venv.path): expected exit 5, got \(r.code)\n\(r.stderr)")
        #expect(r.stderr.contains("bash tools/tflm/setup-venv.sh"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
      }
    }
  }

  @Test func pythonWithoutTFLMGivesExit5AndTheInstallCommand() throws {
    try withTempDir { dir in
      let model = dir.appendingPathComponent("conv.cnnrt")
      try importModel(convModel, to: model, in: dir)
      let args = ["compare", convModel.path, model.path, "--inputs", convInputs.path]
      for python in ["/bin/false", dir.appendingPathComponent("no-such-python").path] {
        let r = try cnnrt(args, env: ["CNNRT_TFLM_PYTHON": python], in: dir)
        #expect(r.code == 5, "\(python): \(r.stderr)")
        #expect(r.stderr.contains("TFLite Micro is not available"), "\(r.stderr)")
        #expect(r.stderr.contains("bash tools/tflm/setup-venv.sh"), "\(r.stderr)")
        #expect(r.stderr.contains(python))
      }
    }
  }

  /// Against TFLM's golden ResNet-8 intermediates (served by a stand-in): every
  /// layer identical, then one byte changed in two layers: the earlier one is
  /// reported as the first difference, and the exit code is 1.
  @Test func layerTableAndFirstDivergenceAgainstGoldenIntermediates() throws {
    try withTempDir { dir in
      let (served, tflite, layers) = try resnet8Served(in: dir)
      #expect(layers.count == 16)
      let model = dir.appendingPathComponent("r8.cnnrt")
      try importModel(tflite, to: model, in: dir)
      let python = try fakeTFLM(serving: served, in: dir)
      let args = ["compare", tflite.path, model.path, "--count", "3",
                  "--inputs", golden.appendingPathComponent("mlperf_tiny_ic_resnet8.inputs.bin").path]

      let same = try cnnrt(args, env: ["CNNRT_TFLM_PYTHON": python.path], in: dir)
      #expect(same.code == 0, "stdout:\n\(same.stdout)\nstderr:\n\(same.stderr)")
      #expect(same.stdout.contains("0 differing bytes in 16 layers over 3 samples"), "\(same.stdout)")
      for op in ["CONV_2D", "ADD", "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"] {
        #expect(same.stdout.contains(op), "no \(op) row")
      }
      #expect(same.stdout.contains("0 / 49,152"), "conv layer over 3 samples: 3 × 32 × 32 × 16 bytes")
      #expect(!same.stdout.contains("FIRST DIFFERENCE"))
      // Names are shortened for the table (TFLite's fused names are long).
      let firstRow = same.stdout.split(separator: "\n").first { $0.contains("CONV_2D") } ?? ""
      #expect(firstRow.hasPrefix("0 ") && firstRow.contains("model/activation/Relu") && !firstRow.contains(";"),
              "\(firstRow)")

      // Layer 5 (sample 1) and layer 9 (sample 0) differ: layer 5 comes first.
      try flip(served.appendingPathComponent("t\(layers[9]).s0.bin"), element: 3)
      try flip(served.appendingPathComponent("t\(layers[5]).s1.bin"), element: 100)
      let diff = try cnnrt(args, env: ["CNNRT_TFLM_PYTHON": python.path], in: dir)
      #expect(diff.code == 1, "stdout:\n\(diff.stdout)\nstderr:\n\(diff.stderr)")
      let marked = diff.stdout.split(separator: "\n").filter { $0.contains("FIRST DIFFERENCE") }
      #expect(marked.count == 1)
      #expect(marked.first?.hasPrefix("5 ") == true, "\(marked)")
      #expect(marked.first?.contains("1 / 24,576") == true, "layer 5 is [1, 16, 16, 32], 3 samples: \(marked)")
      #expect(marked.first?.contains("sample 1, element 100 [0, 0, 3, 4]") == true, "\(marked)")
      #expect(diff.stdout.contains("first divergence at op 5 CONV_2D"), "\(diff.stdout)")
      #expect(diff.stdout.contains("2 differing bytes in 2 of 16 layers over 3 samples"), "\(diff.stdout)")

      let json = try cnnrt(args + ["--json"], env: ["CNNRT_TFLM_PYTHON": python.path], in: dir)
      #expect(json.code == 1)
      let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
      #expect(obj["identical"] as? Bool == false)
      #expect(obj["differing_bytes"] as? Int == 2)
      let first = try #require(obj["first_divergence"] as? [String: Any])
      #expect(first["op_index"] as? Int == 5)
      #expect(first["tensor"] as? Int == layers[5])
      #expect(first["sample"] as? Int == 1)
      #expect(first["element"] as? Int == 100)
      let rows = try #require(obj["layers"] as? [[String: Any]])
      #expect(rows.map { $0["differing_bytes"] as? Int ?? -1 } == (0..<16).map { $0 == 5 || $0 == 9 ? 1 : 0 })
      #expect(rows.map { $0["tensor"] as? Int ?? -1 } == layers, "execution order")
    }
  }

  @Test func missingFileGivesExit2() throws {
    try withTempDir { dir in
      let model = dir.appendingPathComponent("conv.cnnrt")
      try importModel(convModel, to: model, in: dir)
      let missing = dir.appendingPathComponent("missing.tflite").path
      let a = try cnnrt(["compare", missing, model.path, "--inputs", convInputs.path], in: dir)
      #expect(a.code == 2, "\(a.stderr)")
      #expect(a.stderr.contains("missing.tflite"))
      let b = try cnnrt(["compare", convModel.path, dir.appendingPathComponent("missing.cnnrt").path,
                         "--inputs", convInputs.path], in: dir)
      #expect(b.code == 2, "\(b.stderr)")
      let c = try cnnrt(["compare", convModel.path, model.path, "--inputs", dir.appendingPathComponent("no.bin").path],
                        in: dir)
      #expect(c.code == 2, "\(c.stderr)")
      // An inputs file whose size is not a whole number of samples (192 bytes each).
      let short = dir.appendingPathComponent("short.bin")
      try Data(repeating: 0, count: 100).write(to: short)
      let d = try cnnrt(["compare", convModel.path, model.path, "--inputs", short.path], in: dir)
      #expect(d.code == 2, "\(d.stderr)")
      #expect(d.stderr.contains("192"), "\(d.stderr)")
    }
  }

  @Test func corruptModelsGiveExit3() throws {
    try withTempDir { dir in
      let model = dir.appendingPathComponent("conv.cnnrt")
      try importModel(convModel, to: model, in: dir)
      let bytes = try Data(contentsOf: convModel)
      let truncated = dir.appendingPathComponent("truncated.tflite")
      try bytes.prefix(bytes.count / 3).write(to: truncated)
      let notTFLite = dir.appendingPathComponent("text.tflite")
      try Data("not a model at all".utf8).write(to: notTFLite)
      for bad in [truncated, notTFLite] {
        let r = try cnnrt(["compare", bad.path, model.path, "--inputs", convInputs.path], in: dir)
        #expect(r.code == 3, "\(bad.lastPathComponent): \(r.stderr)")
        #expect(r.stderr.contains(bad.lastPathComponent))
      }
      let badCnnrt = dir.appendingPathComponent("bad.cnnrt")
      try Data(try Data(contentsOf: model).prefix(40)).write(to: badCnnrt)
      let r = try cnnrt(["compare", convModel.path, badCnnrt.path, "--inputs", convInputs.path], in: dir)
      #expect(r.code == 3, "\(r.stderr)")
    }
  }

  /// A .cnnrt made from another model: warned about before anything runs, and
  /// (with the stand-in TFLM) its outputs count as differing.
  @Test func cnnrtFileThatDoesNotMatchTheTFLiteIsWarnedAbout() throws {
    try withTempDir { dir in
      let (served, tflite, _) = try resnet8Served(in: dir)
      let other = dir.appendingPathComponent("conv.cnnrt")
      try importModel(convModel, to: other, in: dir)
      let python = try fakeTFLM(serving: served, in: dir)
      let args = ["compare", tflite.path, other.path, "--count", "3",
                  "--inputs", golden.appendingPathComponent("mlperf_tiny_ic_resnet8.inputs.bin").path]
      let r = try cnnrt(args, env: ["CNNRT_TFLM_PYTHON": python.path], in: dir)
      #expect(r.stderr.contains("warning") && r.stderr.contains("does not match the .tflite"), "\(r.stderr)")
      #expect(r.code == 1, "\(r.stdout)\n\(r.stderr)")
      #expect(r.stdout.contains("0 differing bytes in 16 layers"), "the layers come from the .tflite: \(r.stdout)")
      // The warning comes first, also when TFLM is unavailable.
      let u = try cnnrt(args, env: ["CNNRT_TFLM_PYTHON": "/bin/false"], in: dir)
      #expect(u.code == 5)
      #expect(u.stderr.contains("does not match the .tflite"), "\(u.stderr)")

      // The matching model: no warning.
      let same = dir.appendingPathComponent("r8.cnnrt")
      try importModel(tflite, to: same, in: dir)
      let ok = try cnnrt(["compare", tflite.path, same.path] + args.dropFirst(3),
                         env: ["CNNRT_TFLM_PYTHON": python.path], in: dir)
      #expect(ok.code == 0, "\(ok.stderr)")
      #expect(!ok.stderr.contains("warning"), "\(ok.stderr)")
    }
  }
}
