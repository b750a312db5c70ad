// quantize → eval → classify, end to end with the built cnnrt binary (as a
// user runs it), on the MLPerf Tiny ResNet-8 float model and CIFAR-10
// images from ../shared/data, plus the CLI's error cases: corrupt or
// truncated model files, calibration or evaluation data of the wrong
// shape, an empty data folder, unknown labels.
import CNNRuntime
@testable import CNNTools
import Foundation
import Testing

private func parseJSON(_ text: String) throws -> [String: Any] {
  guard let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
    throw CLITestError("not a JSON object: \(text.prefix(300))")
  }
  return obj
}

/// A version-1 .npy file of little-endian `data`.
private func npy(_ descr: String, _ shape: [Int], _ data: [UInt8]) -> [UInt8] {
  var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", ")),), }"
  while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
  header += "\n"
  let n = UInt16(header.utf8.count)
  return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + data
}

private func check(_ r: Run, _ what: String) throws {
  guard r.code == 0 else { throw CLITestError("\(what): exit \(r.code)\n\(r.stderr)\(r.stdout.suffix(500))") }
}

/// Writes `x` (float NHWC samples of `shape`) and zero labels as .npy files
/// in `dir`, quantizes `onnx` with them and runs `cnnrt eval --float` on
/// them; returns the report's per-layer rows.
private func quantizeAndEvalLayers(_ onnx: String, samples x: [Float], shape: [Int], in dir: URL) throws -> [[String: Any]] {
  let xPath = dir.appendingPathComponent("x.npy").path, yPath = dir.appendingPathComponent("y.npy").path
  try Data(npy("<f4", shape, x.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }))
    .write(to: URL(fileURLWithPath: xPath))
  try Data(npy("<i4", [shape[0]], [UInt8](repeating: 0, count: 4 * shape[0]))).write(to: URL(fileURLWithPath: yPath))
  let model = dir.appendingPathComponent("model.cnnrt").path
  try check(try cnnrt(["quantize", onnx, "--calibration", xPath, "-o", model], in: dir), "quantize")
  let eval = try cnnrt(["eval", model, "--data", xPath, "--truth", yPath, "--float", onnx, "--json"], in: dir)
  try check(eval, "eval")
  return try #require(try parseJSON(eval.stdout)["layers"] as? [[String: Any]])
}

/// 20 inputs [6, 6, 3] in [−4, 4): the conv of `convActivationONNX` reaches below −3 on them.
private func convHardSwishSamples() -> (flat: [Float], samples: [[Float]]) {
  var rng = SplitMix64(seed: 3)
  let x = (0..<(20 * 6 * 6 * 3)).map { _ in Float(rng.next() % 8000) / 1000 - 4 }
  return (x, (0..<20).map { Array(x[($0 * 108)..<($0 * 108 + 108)]) })
}

/// Quantizes and evaluates a conv → HardSwish ONNX model on `samples`: both
/// rows (Conv2D, HardSwish) must be above 30 dB.
private func expectConvHardSwishRowsAbove30(_ bytes: [UInt8], samples x: [Float]) throws {
  try withTempDir { dir in
    let onnx = dir.appendingPathComponent("conv_hardswish.onnx").path
    try Data(bytes).write(to: URL(fileURLWithPath: onnx))
    let layers = try quantizeAndEvalLayers(onnx, samples: x, shape: [20, 6, 6, 3], in: dir)
    #expect(layers.map { $0["type"] as? String ?? "" }.sorted() == ["Conv2D", "HardSwish"], "\(layers)")
    for row in layers { #expect(row["sqnr_db"] as? Double ?? 0 > 30, "\(row)") }
  }
}

@Suite(.serialized) struct QuantizeEvalCLITests {
  /// Issue acceptance: ResNet-8 float quantized with CIFAR images 0–49; on
  /// images 50–99 the int8 model agrees with the float model on ≥ 98 % and
  /// at least as often as the official int8 model does.
  @Test func resnet8_quantize_eval_classify() throws {
    let shared = try sharedDataDir()
    let float = shared.appendingPathComponent("models/mlperf_tiny_ic_resnet8_float.tflite").path
    let official = shared.appendingPathComponent("models/mlperf_tiny_ic_resnet8_int8.tflite").path
    let x = shared.appendingPathComponent("cifar10/neuralnetvis_cifar10_train_preview100_x.npz").path
    let labels = repoRoot.appendingPathComponent("models/labels/cifar10.txt").path
    try withTempDir { dir in
      let ours = dir.appendingPathComponent("resnet8.cnnrt").path
      try check(try cnnrt(["quantize", float, "--calibration", x, "--samples", "50", "--labels", labels, "-o", ours], in: dir),
                "quantize")
      let eval = try cnnrt(["eval", ours, "--data", x, "--offset", "50", "--float", float, "--json"], in: dir)
      try check(eval, "eval")
      let e = try parseJSON(eval.stdout)
      #expect(e["samples"] as? Int == 50)
      let agreement = try #require(e["agreement"] as? Double)
      #expect(agreement >= 0.98)
      let layers = try #require(e["layers"] as? [[String: Any]])
      #expect(layers.count >= 12)  // every conv, add, pool and dense layer of ResNet-8 has a float twin
      let sqnr = layers.compactMap { $0["sqnr_db"] as? Double }
      #expect(sqnr.count == layers.count && sqnr == sqnr.sorted())  // worst first
      #expect(sqnr.allSatisfy { $0 > 10 && $0 < 60 })

      let officialModel = dir.appendingPathComponent("official.cnnrt").path
      try check(try cnnrt(["import", official, "--labels", labels, "-o", officialModel], in: dir), "import")
      let ref = try parseJSON(try cnnrt(["eval", officialModel, "--data", x, "--offset", "50", "--float", float, "--json"],
                                        in: dir).stdout)
      let officialAgreement = try #require(ref["agreement"] as? Double)
      #expect(agreement >= officialAgreement)
      // Every op of the imported model has a row, its Softmax included (the
      // int8 output keeps the name "Identity_int8"; the float model's is
      // "Identity": outputs are matched by position).
      let refLayers = try #require(ref["layers"] as? [[String: Any]])
      #expect(refLayers.count == 16, "\(refLayers.map { $0["type"] ?? "" })")
      #expect(refLayers.contains { $0["type"] as? String == "Softmax" && ($0["sqnr_db"] as? Double ?? 0) > 10 })

      // The text report names the worst layer first.
      let text = try cnnrt(["eval", ours, "--data", x, "--offset", "50", "--limit", "10", "--float", float], in: dir)
      try check(text, "eval (text)")
      #expect(text.stdout.contains("Top-1 agreement int8 vs float"))
      #expect(text.stdout.contains("SQNR"))

      // classify through the C API gives what the library gives in-process.
      let ds = try Dataset.load(x, limit: 53)
      guard case .image(let img) = ds.samples[52] else { throw CLITestError("expected images") }
      let ppm = dir.appendingPathComponent("cifar52.ppm").path
      try PNM.write(img, to: ppm)
      let cls = try cnnrt(["classify", ours, ppm, "--top", "3", "--json"], in: dir)
      try check(cls, "classify")
      let expected = try RuntimeModel(path: ours).classify(pixels: img.pixels, width: 32, height: 32, channels: 3)
      #expect(cls.stdout.contains("\"label\": \"\(expected[0].label)\""))
    }
  }

  /// The MLPerf Tiny ResNet-8 float model and the 100 CIFAR-10 images.
  private func resnet8Files() throws -> (float: String, images: String) {
    let shared = try sharedDataDir()
    return (shared.appendingPathComponent("models/mlperf_tiny_ic_resnet8_float.tflite").path,
            shared.appendingPathComponent("cifar10/neuralnetvis_cifar10_train_preview100_x.npz").path)
  }

  /// `cnnrt quantize` of ResNet-8 on images 0–49 with `flags` (JSON summary
  /// returned), then the logits' (FullyConnected output's) SQNR on 50–99.
  private func resnet8LogitsSQNR(_ flags: [String], in dir: URL) throws -> (summary: [String: Any], sqnr: Double) {
    let (float, x) = try resnet8Files()
    let model = dir.appendingPathComponent("r8.cnnrt").path
    let q = try cnnrt(["quantize", float, "--calibration", x, "--samples", "50", "-o", model, "--json"] + flags, in: dir)
    try check(q, "quantize \(flags)")
    let eval = try cnnrt(["eval", model, "--data", x, "--offset", "50", "--float", float, "--json"], in: dir)
    try check(eval, "eval")
    let layers = try #require(try parseJSON(eval.stdout)["layers"] as? [[String: Any]])
    let fc = try #require(layers.first { $0["type"] as? String == "FullyConnected" })
    let db = try #require(fc["sqnr_db"] as? Double)
    // Each row's 95 % bootstrap interval over the 50 images holds the figure.
    for row in layers {
      let v = try #require(row["sqnr_db"] as? Double), ci = try #require(row["sqnr_db_ci95"] as? [Double])
      #expect(ci.count == 2 && ci[0] <= v && v <= ci[1] && ci[0] < ci[1], "\(row)")
    }
    return (try parseJSON(q.stdout), db)
  }

  /// `--bias-correction` on ResNet-8 (calibration images 0–49, evaluation
  /// 50–99): the summary says so, and the logits (the FullyConnected output)
  /// move closer to float: 29.3 dB plain, 30.1 corrected when this was written.
  @Test func resnet8_bias_correction_raises_the_logits_sqnr() throws {
    try withTempDir { dir in
      var logits: [Double] = []
      for flags in [[], ["--bias-correction"]] {
        let (summary, db) = try resnet8LogitsSQNR(flags, in: dir)
        #expect(summary["bias_correction"] as? Bool == !flags.isEmpty)
        logits.append(db)
      }
      #expect(logits[1] > logits[0] + 0.5, "logits SQNR plain \(logits[0]) dB, corrected \(logits[1]) dB")
    }
  }

  /// `--weight-rounding gptq` on ResNet-8 (calibration images 0–49,
  /// evaluation 50–99): the summary and the JSON say so, and the logits move
  /// closer to float: 29.3 dB nearest, 30.5 GPTQ when this was written. An
  /// unknown rounding is a usage error.
  @Test func resnet8_gptq_weight_rounding_raises_the_logits_sqnr() throws {
    let (float, x) = try resnet8Files()
    try withTempDir { dir in
      var logits: [Double] = []
      for rounding in ["nearest", "gptq"] {
        let (summary, db) = try resnet8LogitsSQNR(["--weight-rounding", rounding], in: dir)
        #expect(summary["weight_rounding"] as? String == rounding)
        // GPTQ rounds 8 of the 10 layers: the last 3×3 conv (576 inputs) and
        // the classifier (64) see fewer than 8 patches per input in 50 images.
        #expect(summary["gptq_layers"] as? Int == (rounding == "gptq" ? 8 : 0))
        logits.append(db)
        let text = try cnnrt(["quantize", float, "--calibration", x, "--samples", "50", "-o",
                              dir.appendingPathComponent("text.cnnrt").path, "--weight-rounding", rounding,
                              "--no-progress"], in: dir)
        try check(text, "quantize \(rounding), text")
        #expect(text.stdout.contains("GPTQ weight rounding on 8 of 10 layers") == (rounding == "gptq"), "\(text.stdout)")
      }
      #expect(logits[1] > logits[0] + 0.5, "logits SQNR nearest \(logits[0]) dB, GPTQ \(logits[1]) dB")
      let bad = try cnnrt(["quantize", float, "--calibration", x, "-o", dir.appendingPathComponent("bad.cnnrt").path,
                           "--weight-rounding", "stochastic"], in: dir)
      #expect(bad.code == 64 && bad.stderr.contains("--weight-rounding must be nearest or gptq"), "\(bad.code) \(bad.stderr)")
    }
  }

  /// The padding node the ONNX importer puts before a max pool whose pads
  /// SAME/VALID cannot express is filled with -FLT_MAX in float and -128 in
  /// int8: its row measures the data, not the sentinel (it read 0.0 dB).
  @Test func eval_report_has_a_true_row_for_every_op_of_a_padded_max_pool_model() throws {
    let onnx = repoRoot.appendingPathComponent("Tests/Golden/onnx/ops/pads.onnx").path
    try withTempDir { dir in
      // 20 seeded samples in the model's input units, [-1, 1).
      var rng = SplitMix64(seed: 7)
      let x = (0..<(20 * 7 * 7 * 2)).map { _ in Float(rng.next() % 2000) / 1000 - 1 }
      let layers = try quantizeAndEvalLayers(onnx, samples: x, shape: [20, 7, 7, 2], in: dir)
      #expect(layers.count == 5, "\(layers)")
      let pads = layers.filter { $0["type"] as? String == "Pad" }
      #expect(pads.count == 2)
      for row in layers {
        let db = row["sqnr_db"] as? Double ?? 0
        #expect(db > 30, "\(row)")
      }
    }
  }

  /// Each row reports the float values beyond its int8 range: none on the
  /// calibration data itself (min-max ranges cover it, the zero point's
  /// rounding moves the grid by less than the half step allowed), and on
  /// data twice as wide, the conv row's share of clipped values as counted
  /// from the float model. The text report has the column.
  @Test func eval_reports_the_clipped_values_of_each_row() throws {
    let (wide, _) = convHardSwishSamples()
    let narrow = wide.map { $0 / 2 }
    try withTempDir { dir in
      let onnx = dir.appendingPathComponent("conv_hardswish.onnx").path
      try Data(convActivationONNX("HardSwish")).write(to: URL(fileURLWithPath: onnx))
      let layers = try quantizeAndEvalLayers(onnx, samples: narrow, shape: [20, 6, 6, 3], in: dir)
      #expect(layers.count == 2, "\(layers)")
      for row in layers {
        #expect(row["clipped"] as? Double == 0 && row["clip_noise_share"] as? Double == 0, "\(row)")
      }
      // The model quantized on `narrow` (by quantizeAndEvalLayers), evaluated on `wide`.
      let xPath = dir.appendingPathComponent("wide.npy").path
      try Data(npy("<f4", [20, 6, 6, 3], wide.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }))
        .write(to: URL(fileURLWithPath: xPath))
      let model = dir.appendingPathComponent("model.cnnrt").path, y = dir.appendingPathComponent("y.npy").path
      let args = ["--data", xPath, "--truth", y, "--float", onnx]
      let eval = try cnnrt(["eval", model] + args + ["--json"], in: dir)
      try check(eval, "eval on wide data")
      let rows = try #require(try parseJSON(eval.stdout)["layers"] as? [[String: Any]])
      // The conv row against a count of its own: the float conv outputs
      // (clamped at −3, as the row compares them: only HardSwish reads the
      // conv) beyond the int8 range by more than half a step.
      let conv = try #require(rows.first { $0["type"] as? String == "Conv2D" })
      let g = try FloatGraph(onnx: convActivationONNX("HardSwish"))
      let ex = try FloatExecutor(graph: g)
      let q = try RuntimeModel(path: model).outputTensorOf(op: 0)
      let qLo = Double(q.scale) * (Double(-128 - q.zeroPoint) - 0.5)
      let qHi = Double(q.scale) * (Double(127 - q.zeroPoint) + 0.5)
      var beyond = 0, total = 0
      for k in 0..<20 {
        let all = try ex.runAll([Array(wide[(k * 108)..<(k * 108 + 108)])])
        for v in all[g.nodes[0].output] {
          let f = max(Double(v), -3)
          total += 1
          if f < qLo || f > qHi { beyond += 1 }
        }
      }
      #expect(beyond > total / 100, "the test needs clipped conv values: \(beyond) of \(total)")
      #expect(conv["clipped"] as? Double == Double(beyond) / Double(total), "\(conv), expected \(beyond) of \(total)")
      #expect((conv["clip_noise_share"] as? Double ?? 0) > 0, "\(conv)")
      for row in rows {
        let c = try #require(row["clipped"] as? Double), share = try #require(row["clip_noise_share"] as? Double)
        #expect(c >= 0 && c <= 1 && share >= 0 && share <= 1 && (c > 0) == (share > 0), "\(row)")
      }
      let text = try cnnrt(["eval", model] + args, in: dir)
      try check(text, "eval (text)")
      #expect(text.stdout.contains("Clipped (of noise)") && text.stdout.contains(" %)"), "\(text.stdout)")
    }
  }

  /// The "alone" figure runs each op on its inputs' float values rounded to
  /// their grids, the "rounding" one rounds the float output to the op's
  /// grid. On conv → max pool: the conv reads the model input, so alone is
  /// its SQNR; the max pool shares the conv's grid and max commutes with
  /// rounding, so alone is exactly rounding, while its SQNR (the conv's
  /// weights and arithmetic upstream) is lower. Without the rewriting of
  /// the conv's output the max pool's alone would be its SQNR.
  @Test func eval_runs_each_op_alone_on_rounded_float_inputs() throws {
    var pool = ONNXAttributeProto(); pool.name = "kernel_shape"; pool.type = .ints; pool.ints = [2, 2]
    let bytes = convActivationONNX("MaxPool", [pool])
    let (x, _) = convHardSwishSamples()
    try withTempDir { dir in
      let onnx = dir.appendingPathComponent("conv_maxpool.onnx").path
      try Data(bytes).write(to: URL(fileURLWithPath: onnx))
      let layers = try quantizeAndEvalLayers(onnx, samples: x, shape: [20, 6, 6, 3], in: dir)
      let conv = try #require(layers.first { $0["type"] as? String == "Conv2D" }, "\(layers)")
      let maxPool = try #require(layers.first { $0["type"] as? String == "MaxPool2D" }, "\(layers)")
      func dB(_ row: [String: Any], _ key: String) throws -> Double { try #require(row[key] as? Double, "\(key): \(row)") }
      #expect(try dB(conv, "alone_sqnr_db") == dB(conv, "sqnr_db"))
      #expect(try dB(conv, "rounding_sqnr_db") > dB(conv, "sqnr_db"))
      #expect(try dB(maxPool, "alone_sqnr_db") == dB(maxPool, "rounding_sqnr_db"))
      #expect(try dB(maxPool, "sqnr_db") < dB(maxPool, "alone_sqnr_db") - 1)
      let model = dir.appendingPathComponent("model.cnnrt").path
      let text = try cnnrt(["eval", model, "--data", dir.appendingPathComponent("x.npy").path, "--truth",
                            dir.appendingPathComponent("y.npy").path, "--float", onnx], in: dir)
      try check(text, "eval (text)")
      #expect(text.stdout.contains("Alone dB") && text.stdout.contains("Rounding dB"), "\(text.stdout)")
    }
  }

  /// pads.onnx pads its input with 0.5 before a max pool: on inputs in
  /// [−0.25, 0.25) the input's range is widened to hold 0.5 (the Pad shares
  /// the input's quantization; before, 0.5 became the range's top, 0.25, on
  /// every padded position), and no row of `cnnrt eval` on the calibration
  /// data itself has a clipped value (the padded rows had 39 %).
  @Test func a_pad_constant_beyond_the_input_range_widens_it() throws {
    let onnx = repoRoot.appendingPathComponent("Tests/Golden/onnx/ops/pads.onnx").path
    var rng = SplitMix64(seed: 5)
    let x = (0..<(20 * 7 * 7 * 2)).map { _ in Float(rng.next() % 1000) / 2000 - 0.25 }
    let g = try FloatGraph(onnx: try [UInt8](Data(contentsOf: URL(fileURLWithPath: onnx))))
    let r = try Quantizer.quantize(g, samples: (0..<20).map { Array(x[($0 * 98)..<($0 * 98 + 98)]) },
                                   options: .init(imageInput: false))
    let q = try #require(r.quantization[g.inputs[0]])
    #expect(q.dequantize(127) >= 0.5 - q.scale / 2 && q.dequantize(-128) <= -0.25, "\(q)")
    #expect(q.dequantize(127) < 0.5 + 2 * q.scale, "\(q)")
    try withTempDir { dir in
      let layers = try quantizeAndEvalLayers(onnx, samples: x, shape: [20, 7, 7, 2], in: dir)
      #expect(layers.count == 5, "\(layers)")
      for row in layers { #expect(row["clipped"] as? Double == 0, "\(row)") }
    }
  }

  /// The same through a concatenation's shared quantization: x → concat(x,
  /// x) → Pad 0.5 on inputs in [−0.25, 0.25) widens the group's range (the
  /// model input's) to hold 0.5.
  @Test func a_pad_constant_after_a_concatenation_widens_the_shared_range() throws {
    var cat = FloatGraph.Node(kind: .concatenation, inputs: [0, 0], output: 1, origin: "cat")
    cat.axis = 3
    var pad = FloatGraph.Node(kind: .pad, inputs: [1], output: 2, origin: "pad")
    pad.pads = [1, 1, 1, 1, 0, 0]
    pad.padValue = 0.5
    let g = try FloatGraph(tensors: [FloatGraph.Tensor(name: "x", shape: [1, 4, 4, 2]),
                                     FloatGraph.Tensor(name: "c", shape: [1, 4, 4, 4]),
                                     FloatGraph.Tensor(name: "p", shape: [1, 6, 6, 4])],
                           nodes: [cat, pad], inputs: [0], outputs: [2])
    var rng = SplitMix64(seed: 9)
    let samples = (0..<8).map { _ in (0..<32).map { _ in Float(rng.next() % 1000) / 2000 - 0.25 } }
    let r = try Quantizer.quantize(g, samples: samples, options: .init(imageInput: false))
    let q = try #require(r.quantization[0])
    #expect(r.quantization[1] == q && r.quantization[2] == q)
    #expect(q.dequantize(127) >= 0.5 - q.scale / 2 && q.dequantize(127) < 0.5 + 2 * q.scale, "\(q)")
    #expect(q.dequantize(-128) <= -0.24, "\(q)")
  }

  /// A conv read only by HardSwish is quantized from −3 up (below, HardSwish
  /// gives 0 whatever the value); its eval row compares from −3 up too, so
  /// it measures rounding, not the cut (it read about 15 dB before).
  @Test func eval_row_of_a_conv_read_only_by_hardswish_measures_rounding_not_the_cut() throws {
    let bytes = convActivationONNX("HardSwish")
    let (x, samples) = convHardSwishSamples()
    let g = try FloatGraph(onnx: bytes)
    let r = try Quantizer.quantize(g, samples: samples, options: .init(imageInput: false))
    let conv = g.nodes[0].output
    #expect(r.stats[conv]!.min < -3.5, "the test needs conv values below −3: \(r.stats[conv]!.min)")
    let q = r.quantization[conv]!
    #expect(q.dequantize(-128) <= -3 && q.dequantize(-128) >= -3 - 2 * q.scale)
    try expectConvHardSwishRowsAbove30(bytes, samples: x)
  }

  /// The same conv → HardSwish with a QDQ pair on the conv output whose
  /// range (the source model's, as ONNX Runtime's quantizer writes it) goes
  /// well below −3: values there are equivalent for HardSwish, so the row
  /// compares both sides clamped at −3 and stays above 30 dB (clamping only
  /// the float side read the int8 values below −3 as error).
  @Test func eval_row_of_a_qdq_tensor_read_only_by_hardswish_clamps_both_sides() throws {
    let (x, samples) = convHardSwishSamples()
    let plain = convActivationONNX("HardSwish")
    let g0 = try FloatGraph(onnx: plain)
    let r0 = try Quantizer.quantize(g0, samples: samples, options: .init(imageInput: false))
    let st = try #require(r0.stats[g0.nodes[0].output])
    let fixed = ActivationQuant(min: st.min - 1, max: st.max)
    #expect(fixed.dequantize(-128) < -4)
    var m = try ONNXModelProto(serializedBytes: plain)
    var scale = ONNXTensorProto(); scale.name = "c_scale"; scale.dataType = 1; scale.floatData = [fixed.scale]
    var zp = ONNXTensorProto(); zp.name = "c_zero_point"; zp.dataType = 3; zp.int32Data = [fixed.zeroPoint]
    m.graph.initializer += [scale, zp]
    var qn = ONNXNodeProto(); qn.opType = "QuantizeLinear"; qn.name = "c_q"
    qn.input = ["c", "c_scale", "c_zero_point"]; qn.output = ["c_quantized"]
    var dq = ONNXNodeProto(); dq.opType = "DequantizeLinear"; dq.name = "c_dq"
    dq.input = ["c_quantized", "c_scale", "c_zero_point"]; dq.output = ["c_dequantized"]
    m.graph.node[1].input[0] = "c_dequantized"
    m.graph.node.insert(contentsOf: [qn, dq], at: 1)
    let bytes = [UInt8](try m.serializedBytes() as Data)
    let g = try FloatGraph(onnx: bytes)
    #expect(g.tensors[g.nodes[0].output].fixedQuantization?.activation == fixed)
    try expectConvHardSwishRowsAbove30(bytes, samples: x)
  }

  @Test func corrupt_and_truncated_models_are_rejected_with_exit_3() throws {
    let shared = try sharedDataDir()
    let float = try Data(contentsOf: shared.appendingPathComponent("models/mlperf_tiny_ic_resnet8_float.tflite"))
    let x = shared.appendingPathComponent("cifar10/neuralnetvis_cifar10_train_preview100_x.npz").path
    try withTempDir { dir in
      var cases: [(String, Data)] = [("truncated.tflite", float.prefix(float.count / 3)),
                                     ("garbage.tflite", Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }))]
      var flipped = float
      for k in stride(from: 0, to: 64, by: 4) { flipped[k] ^= 0xA5 }
      cases.append(("header-flipped.tflite", flipped))
      for (name, bytes) in cases {
        let path = dir.appendingPathComponent(name).path
        try bytes.write(to: URL(fileURLWithPath: path))
        let r = try cnnrt(["quantize", path, "--calibration", x, "--samples", "2", "-o", dir.appendingPathComponent("o.cnnrt").path],
                          in: dir)
        #expect(r.code == 3, "\(name): exit \(r.code): \(r.stderr)")
        #expect(r.stderr.hasPrefix("cnnrt: ") && r.stderr.contains(name))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.cnnrt").path))
      }
      let missing = try cnnrt(["quantize", dir.appendingPathComponent("nope.tflite").path, "--calibration", x, "-o", "o.cnnrt"], in: dir)
      #expect(missing.code == 2)
    }
  }

  @Test func onnx_unsupported_op_is_named_and_corrupt_onnx_is_rejected() throws {
    try withTempDir { dir in
      let calib = dir.appendingPathComponent("calib.npy")
      try Data(npyFloat32(shape: [2, 8, 8, 1])).write(to: calib)
      let out = dir.appendingPathComponent("o.cnnrt").path
      let lstm = dir.appendingPathComponent("lstm.onnx")
      try Data(onnxModel(opType: "LSTM", nodeName: "lstm_1")).write(to: lstm)
      let r = try cnnrt(["quantize", lstm.path, "--calibration", calib.path, "-o", out], in: dir)
      #expect(r.code == 3, "exit \(r.code): \(r.stderr)")
      #expect(r.stderr.contains("LSTM") && r.stderr.contains("lstm_1"))
      // The same graph with a supported op quantizes.
      let gap = dir.appendingPathComponent("gap.onnx")
      try Data(onnxModel(opType: "GlobalAveragePool", nodeName: "gap_1")).write(to: gap)
      try check(try cnnrt(["quantize", gap.path, "--calibration", calib.path, "-o", out], in: dir), "quantize gap.onnx")

      let mnist = try Data(contentsOf: repoRoot.appendingPathComponent("models/mnist_float.onnx"))
      var corrupt = mnist
      for k in stride(from: 0, to: 256, by: 3) { corrupt[k] ^= 0x5A }
      for (name, bytes) in [("truncated.onnx", mnist.prefix(mnist.count / 2)), ("corrupt.onnx", corrupt),
                            ("tiny.onnx", mnist.prefix(3))] {
        let path = dir.appendingPathComponent(name).path
        try bytes.write(to: URL(fileURLWithPath: path))
        let c = try cnnrt(["quantize", path, "--calibration", calib.path, "-o", out], in: dir)
        #expect(c.code == 3, "\(name): exit \(c.code): \(c.stderr)")
        #expect(c.stderr.contains(name))
      }
    }
  }

  /// The summary names the weights as written: an ONNX QDQ model's own
  /// weights keep their kind whatever `--per-tensor` says (ONNX Runtime's
  /// models/mnist_qdq.onnx is per channel), a float model follows the option.
  @Test func quantize_summary_reports_the_weights_as_written() throws {
    let shared = try sharedDataDir()
    let mnistX = shared.appendingPathComponent("mnist/neuralnetvis_mnist_train_first20k_x.npz").path
    let qdq = repoRoot.appendingPathComponent("models/mnist_qdq.onnx").path
    let float = repoRoot.appendingPathComponent("models/mnist_float.onnx").path
    try withTempDir { dir in
      let out = dir.appendingPathComponent("m.cnnrt").path
      let calib = ["--calibration", mnistX, "--samples", "8", "--pixel-scale", "0.00392156862745098"]
      for (model, flags, perChannel, perTensor, text) in [
        (qdq, ["--per-tensor"], 4, 0, "per-channel weights"), (float, calib, 4, 0, "per-channel weights"),
        (float, calib + ["--per-tensor"], 0, 4, "per-tensor weights"),
      ] {
        let j = try cnnrt(["quantize", model, "-o", out, "--json"] + flags, in: dir)
        try check(j, "quantize \(model) \(flags)")
        let r = try parseJSON(j.stdout)
        #expect(r["per_channel_weights"] as? Int == perChannel && r["per_tensor_weights"] as? Int == perTensor,
                "\(model) \(flags): \(j.stdout)")
        let t = try cnnrt(["quantize", model, "-o", out, "--no-progress"] + flags, in: dir)
        try check(t, "quantize \(model) \(flags)")
        #expect(t.stdout.contains(text), "\(t.stdout)")
      }
    }
  }

  @Test func data_of_the_wrong_shape_or_without_samples_exits_6() throws {
    let shared = try sharedDataDir()
    let float = shared.appendingPathComponent("models/mlperf_tiny_ic_resnet8_float.tflite").path
    let mnistX = shared.appendingPathComponent("mnist/neuralnetvis_mnist_train_first20k_x.npz").path
    try withTempDir { dir in
      // Float samples of the wrong shape (ResNet-8 wants 32×32×3, the shapes model 28×28×1).
      let wrong = dir.appendingPathComponent("wrong.npy")
      try Data(npyFloat32(shape: [4, 20, 20, 1])).write(to: wrong)
      let q = try cnnrt(["quantize", float, "--calibration", wrong.path, "-o", dir.appendingPathComponent("o.cnnrt").path], in: dir)
      #expect(q.code == 6, "exit \(q.code): \(q.stderr)")
      #expect(q.stderr.contains("shape"))

      let model = repoRoot.appendingPathComponent("models/shapes.cnnrt").path
      let e1 = try cnnrt(["eval", model, "--data", wrong.path, "--truth", mnistX], in: dir)
      #expect(e1.code == 6, "exit \(e1.code): \(e1.stderr)")

      let empty = dir.appendingPathComponent("empty")
      try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
      let missing = try cnnrt(["eval", model, "--data", dir.appendingPathComponent("nope").path], in: dir)
      #expect(missing.code == 2)
      let e2 = try cnnrt(["eval", model, "--data", empty.path], in: dir)
      #expect(e2.code == 6)
      #expect(e2.stderr.contains("no images"))
      let q2 = try cnnrt(["quantize", float, "--calibration", empty.path, "-o", dir.appendingPathComponent("o.cnnrt").path], in: dir)
      #expect(q2.code == 6, "exit \(q2.code): \(q2.stderr)")

      // Labels that are neither class numbers nor the model's names.
      let folder = dir.appendingPathComponent("cls/giraffe")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      try FileManager.default.copyItem(at: repoRoot.appendingPathComponent("Tests/Golden/images/digit_3_0.png"),
                                       to: folder.appendingPathComponent("a.png"))
      let e3 = try cnnrt(["eval", model, "--data", dir.appendingPathComponent("cls").path], in: dir)
      #expect(e3.code == 6)
      #expect(e3.stderr.contains("giraffe"))
    }
  }

  @Test func classify_reads_png_and_jpeg() throws {
    try withTempDir { dir in
      let model = repoRoot.appendingPathComponent("models/shapes.cnnrt").path
      let imgs = ["digit_3_0.png", "digit_7_1.jpg", "digit_2_0_rgb56.png", "digit_8_1_rgb.jpg"].map {
        repoRoot.appendingPathComponent("Tests/Golden/images/\($0)").path
      }
      let r = try cnnrt(["classify", model] + imgs, in: dir)
      try check(r, "classify")
      #expect(r.stdout.split(separator: "\n").count == 4)
      let bad = dir.appendingPathComponent("bad.png")
      try Data(try Data(contentsOf: URL(fileURLWithPath: imgs[0])).prefix(100)).write(to: bad)
      let b = try cnnrt(["classify", model, bad.path], in: dir)
      #expect(b.code == 4)
      #expect(b.stderr.contains("bad.png"))
    }
  }
}

/// Protobuf wire encoding, enough to write a small ONNX model by hand.
private enum PB {
  static func varint(_ v: UInt64) -> [UInt8] {
    var v = v, out: [UInt8] = []
    repeat { out.append(UInt8(v & 0x7F) | (v > 0x7F ? 0x80 : 0)); v >>= 7 } while v != 0
    return out
  }
  static func int(_ field: Int, _ v: Int) -> [UInt8] { varint(UInt64(field << 3)) + varint(UInt64(v)) }
  static func bytes(_ field: Int, _ b: [UInt8]) -> [UInt8] { varint(UInt64(field << 3 | 2)) + varint(UInt64(b.count)) + b }
  static func string(_ field: Int, _ s: String) -> [UInt8] { bytes(field, Array(s.utf8)) }
}

/// ONNX model: float input "x" [1, 1, 8, 8] → one `opType` node (no attributes) named `nodeName` → output "y".
private func onnxModel(opType: String, nodeName: String) -> [UInt8] {
  let dims = [1, 1, 8, 8].map { PB.bytes(1, PB.int(1, $0)) }.reduce([], +)  // TensorShapeProto.dim{dim_value}
  let tensorType = PB.int(1, 1) + PB.bytes(2, dims)  // elem_type FLOAT, shape
  let input = PB.string(1, "x") + PB.bytes(2, PB.bytes(1, tensorType))
  let output = PB.string(1, "y") + PB.bytes(2, PB.bytes(1, PB.int(1, 1)))  // shape left to the importer
  let node = PB.string(1, "x") + PB.string(2, "y") + PB.string(3, nodeName) + PB.string(4, opType)
  let graph = PB.bytes(1, node) + PB.string(2, "g") + PB.bytes(11, input) + PB.bytes(12, output)
  return PB.int(1, 7) + PB.bytes(7, graph) + PB.bytes(8, PB.int(2, 13))  // ir_version, graph, opset_import{version}
}

/// A .npy file of float32 zeros with `shape`.
private func npyFloat32(shape: [Int]) -> [UInt8] {
  var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", ")),), }"
  while (10 + header.count + 1) % 64 != 0 { header += " " }
  header += "\n"
  var b: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
  b += Array(header.utf8)
  b += [UInt8](repeating: 0, count: shape.reduce(1, *) * 4)
  return b
}
