// `cnnrt eval`: accuracy of an int8 model on labelled data through the C
// API (cnn_classify for images), and with --float the float model's
// accuracy, the top-1 agreement and a per-layer quantization error report
// (SQNR, worst layer first).
import ArgumentParser
import CNNRuntime
import CNNTools
import Foundation

struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure an int8 model's top-1/top-k accuracy; with --float, compare with the float model layer by layer.",
    discussion: """
      DATA is a folder of images (PNG, JPEG, PGM, PPM; one sub-folder per class, or a labels.csv \
      of "file,label"), a NumPy .npy/.npz array (N, H, W[, C]) — uint8 pixels or float values in \
      the model's input units — or an MNIST IDX file (.gz). Labels come from --truth, an npz \
      member "y", or a sibling file (…_x.npz → …_y.npz, …-images-idx3-ubyte → …-labels-idx1-ubyte). \
      Labels are class numbers or the model's class names. Images are resized and preprocessed \
      by cnn_classify exactly as a C program would; the float model gets the same resized pixels \
      with the model's stored preprocessing (pixel scale, mean, std, channel order).

      With --float, each layer's int8 output is compared with the float model's tensor of the \
      same name: SQNR = 10·log10(Σ float² / Σ (float − dequantized int8)²) in dB over the first \
      --sqnr-samples samples. Low SQNR marks the layer where quantization loses accuracy. \
      Two more figures per layer tell where the error comes from: "alone", the op run once more \
      on its inputs' float values rounded to their int8 grids (one layer's error: its inputs' \
      rounding, its weights and arithmetic, its output's rounding; an input without a float twin \
      comes from the int8 run), and "rounding", the float output rounded to the op's int8 grid \
      (the least error that grid allows). \
      A tensor read only by HardSwish is compared from −3 up, and one read only by lookup \
      tables that are flat at its int8 ends within those ends (the quantizer cuts such \
      ranges; values beyond change nothing downstream).
      """)

  @Argument(help: "Model file (.cnnrt).")
  var model: String

  @Option(name: .long, help: ArgumentHelp("Evaluation data: image folder, .npy/.npz, or IDX file.", valueName: "path"))
  var data: String

  @Option(name: .long, help: ArgumentHelp("Labels file (.npy/.npz/IDX/text one per line; CSV for folders).", valueName: "file"))
  var truth: String?

  @Option(name: .long, help: ArgumentHelp("Skip the first N samples (e.g. those used for calibration).", valueName: "n"))
  var offset = 0

  @Option(name: .long, help: ArgumentHelp("Use at most N samples (after --offset).", valueName: "n"))
  var limit: Int?

  @Option(name: .long, help: ArgumentHelp("k of the top-k accuracy.", valueName: "k"))
  var top = 5

  @Option(name: .long, help: ArgumentHelp("The float model the int8 model came from (.tflite or .onnx).", valueName: "model"))
  var float: String?

  @Option(name: .long, help: ArgumentHelp("Samples used for the per-layer SQNR report.", valueName: "n"))
  var sqnrSamples = 100

  @Flag(name: .long, help: "Do not draw a progress bar.")
  var noProgress = false

  @OptionGroup var output: OutputOptions

  func validate() throws {
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    if offset < 0 { throw ValidationError("--offset must be 0 or more") }
    if top < 1 { throw ValidationError("--top must be at least 1") }
    if sqnrSamples < 0 { throw ValidationError("--sqnr-samples must be 0 or more") }
  }

  func run() throws {
    let m = try loadModel(model)
    guard FileManager.default.fileExists(atPath: data) else {
      throw fail("\(data): no such file or folder", code: ExitCodes.io)
    }
    var ds: Dataset
    do { ds = try Dataset.load(data, truth: truth, limit: limit.map { $0 + offset }) } catch {
      throw fail("\(error)", code: ExitCodes.badData)
    }
    if offset > 0 {
      guard offset < ds.count else {
        throw fail("\(ds.source): --offset \(offset), but there are only \(ds.count) samples", code: ExitCodes.badData)
      }
      ds.samples.removeFirst(offset)
      ds.labels?.removeFirst(offset)
    }
    let classCount = m.classCount > 0 ? m.classCount : (m.outputs.first.map { $0.shape.reduce(1, *) } ?? 0)
    guard classCount > 0 else { throw fail("\(model): the model has no output to rank", code: ExitCodes.badModel) }
    let truthIndices: [Int]
    do { truthIndices = try ds.classIndices(modelLabels: m.labels, classCount: classCount) } catch {
      throw fail("\(error)", code: ExitCodes.badData)
    }
    let input = m.inputs[0]
    let inputHWC = Array(input.shape.dropFirst())
    if let shape = ds.tensorShape, shape != inputHWC {
      throw fail("\(ds.source): samples of shape \(shapeString(shape)), the model input is \(shapeString(input.shape))",
                 code: ExitCodes.badData)
    }

    // Optional float reference.
    var reference: FloatReference? = nil
    if let float {
      reference = try FloatReference(path: float, runtime: m)
      if let shape = ds.tensorShape, shape != reference!.inputHWC {
        throw fail("\(ds.source): samples of shape \(shapeString(shape)), the float model input is "
                     + shapeString(reference!.inputHWC), code: ExitCodes.badData)
      }
    }

    var int8Top1 = 0, int8TopK = 0, floatTop1 = 0, floatTopK = 0, agree = 0
    // layers: the int8 model as it runs; alone: each op run on its inputs'
    // float values rounded to their int8 grids; rounding: each float output
    // rounded to its op's int8 grid, the least error that grid allows.
    var layers = LayerErrors(runtime: m)
    var alone = layers, rounding = layers
    let bar = ProgressBar("eval", total: ds.count, enabled: !noProgress && !output.json)
    for (i, sample) in ds.samples.enumerated() {
      let label = truthIndices[i]
      let observe = reference != nil && i < sqnrSamples
      // The float model first: its named tensors (by the int8 op output names
      // they are compared with) feed the int8 run that rounds each op's inputs.
      var floats: [String: [Float]] = [:]
      var floatRanked: [Int] = []
      if let ref = reference {
        do {
          floatRanked = try ref.rank(sample, observe: observe ? { name, values in
            floats[String(name.prefix(200))] = Array(values)
          } : nil)
        } catch {
          throw fail("\(float!): sample \(i): \(error)", code: ExitCodes.badData)
        }
      }
      var int8Outputs: [Int: [Int8]] = [:], aloneOutputs: [Int: [Int8]] = [:]
      let ranked: [Int]
      do {
        ranked = try m.observingOps({ op, out in if observe { int8Outputs[op] = Array(out) } }) {
          try rankInt8(m, sample)
        }
        if observe {
          // Each op's output is recorded, then replaced by its float twin
          // rounded to the output's grid before the next op reads it.
          _ = try m.rewritingOps({ op, out in
            aloneOutputs[op] = Array(out)
            if let f = floats[layers.ops[op].outputName], f.count == out.count {
              layers.round(f, op: op, into: out)
            }
          }) { try rankInt8(m, sample) }
        }
      } catch {
        throw fail("\(ds.source): sample \(i): \(error)", code: ExitCodes.badData)
      }
      if ranked.first == label { int8Top1 += 1 }
      if ranked.prefix(top).contains(label) { int8TopK += 1 }
      if reference != nil {
        for (name, values) in floats {
          let roundedOutputs = layers.rounded(values, name: name)
          values.withUnsafeBufferPointer { v in
            layers.add(floatName: name, float: v, int8: int8Outputs)
            alone.add(floatName: name, float: v, int8: aloneOutputs)
            rounding.add(floatName: name, float: v, int8: roundedOutputs)
          }
        }
        if floatRanked.first == label { floatTop1 += 1 }
        if floatRanked.prefix(top).contains(label) { floatTopK += 1 }
        if floatRanked.first == ranked.first { agree += 1 }
      }
      bar.update(i + 1)
    }
    bar.finish()

    let n = ds.count
    func pct(_ k: Int) -> String { String(format: "%.2f %%", 100 * Double(k) / Double(n)) }
    let report = layers.report()
    func aloneDB(_ op: Int) -> Double { alone.energy[op]?.sqnr ?? .nan }
    func roundingDB(_ op: Int) -> Double { rounding.energy[op]?.sqnr ?? .nan }
    func db(_ v: Double) -> String { v.isFinite ? String(format: "%.3f", v) : "null" }
    if output.json {
      var s = "{\n  \"model\": \(jsonString(model)),\n  \"data\": \(jsonString(ds.source)),\n"
      s += "  \"labels\": \(jsonString(ds.labelSource ?? "")),\n  \"offset\": \(offset),\n  \"samples\": \(n),\n  \"top_k\": \(top),\n"
      s += "  \"int8\": {\"top1\": \(Double(int8Top1) / Double(n)), \"top_k\": \(Double(int8TopK) / Double(n)), "
        + "\"top1_correct\": \(int8Top1)}"
      if reference != nil {
        s += ",\n  \"float\": {\"top1\": \(Double(floatTop1) / Double(n)), \"top_k\": \(Double(floatTopK) / Double(n)), "
          + "\"top1_correct\": \(floatTop1)},\n"
        s += "  \"agreement\": \(Double(agree) / Double(n)),\n  \"sqnr_samples\": \(min(sqnrSamples, n)),\n"
        s += "  \"layers\": [\n" + report.map { r in
          "    {\"index\": \(r.op), \"name\": \(jsonString(r.name)), \"type\": \(jsonString(r.type)), "
            + "\"sqnr_db\": \(db(r.sqnr)), \"sqnr_db_ci95\": [\(db(r.interval.lo)), \(db(r.interval.hi))], "
            + "\"alone_sqnr_db\": \(db(aloneDB(r.op))), \"rounding_sqnr_db\": \(db(roundingDB(r.op))), "
            + "\"clipped\": \(r.clipped), \"clip_noise_share\": \(r.clipNoiseShare)}"
        }.joined(separator: ",\n") + "\n  ]"
      }
      print(s + "\n}")
      return
    }
    print("Model:   \(model) (\(m.name.isEmpty ? "unnamed" : m.name))")
    print("Data:    \(ds.source), \(grouped(Int64(n))) samples\(offset > 0 ? " from #\(offset)" : ""), labels from \(ds.labelSource ?? "-")")
    print("int8:    top-1 \(pct(int8Top1)) (\(grouped(Int64(int8Top1))) / \(grouped(Int64(n))))   top-\(top) \(pct(int8TopK))")
    guard reference != nil else { return }
    print("float:   top-1 \(pct(floatTop1)) (\(grouped(Int64(floatTop1))) / \(grouped(Int64(n))))   top-\(top) \(pct(floatTopK))")
    print("Top-1 agreement int8 vs float: \(pct(agree)) (\(grouped(Int64(agree))) / \(grouped(Int64(n))))")
    print("Accuracy change: \(String(format: "%+.2f", 100 * Double(int8Top1 - floatTop1) / Double(n))) points")
    guard !report.isEmpty else {
      print("No per-layer report: no int8 layer output has a float tensor of the same name.")
      return
    }
    print("")
    print("Per-layer quantization error, SQNR over \(min(sqnrSamples, n)) samples, worst first "
          + "(95 % interval: bootstrap over the samples; alone: the op run on its inputs' float values "
          + "rounded to their int8 grids, one layer's error; rounding: its float output rounded "
          + "to its int8 grid, the least error that grid allows; clipped: float values beyond the int8 "
          + "range, and their share of the noise):")
    func dB1(_ v: Double) -> String {
      v.isNaN ? "" : v.isFinite ? String(format: "%.1f", v) : (v > 0 ? "exact" : "-inf")
    }
    func clipText(_ r: LayerErrors.Row) -> String {
      guard r.clipped > 0 else { return "0" }
      let pct = 100 * r.clipped
      return (pct < 0.01 ? "<0.01 %" : String(format: "%.2f %%", pct)) + String(format: " (%.0f %%)", 100 * r.clipNoiseShare)
    }
    printTable(header: ["#", "Layer (type)", "Output Shape", "SQNR dB", "95 % interval", "Alone dB", "Rounding dB",
                        "Clipped (of noise)"],
               rows: report.map { r in
      [String(r.op), "\(shortName(r.name)) (\(r.type))", shapeString(r.shape), dB1(r.sqnr),
       r.sqnr.isFinite ? "\(dB1(r.interval.lo))–\(dB1(r.interval.hi))" : "", dB1(aloneDB(r.op)),
       dB1(roundingDB(r.op)), clipText(r)]
    }, rightAlignedFrom: 3)
    if layers.unmatched > 0 {
      print("\(layers.unmatched) layer(s) without a float tensor of the same name are not listed.")
    }
  }

  /// Class indices of the int8 model's output, best first (ties: lowest index).
  func rankInt8(_ m: RuntimeModel, _ sample: Dataset.Sample) throws -> [Int] {
    switch sample {
    case .image(let img):
      return try m.classify(pixels: img.pixels, width: img.width, height: img.height, channels: img.channels).map(\.index)
    case .tensor(let values):
      let t = m.inputs[0]
      let q = values.map { v -> Int8 in
        let x = (v / t.scale).rounded(.toNearestOrAwayFromZero) + Float(t.zeroPoint)
        return Int8(max(-128, min(127, x.isFinite ? x : 0)))
      }
      let out = try m.run(input: q)
      return ranking(out.map { Float($0) })
    }
  }
}

/// Indices of `scores`, best first, ties broken by the lower index.
func ranking(_ scores: [Float]) -> [Int] {
  scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
}

/// A float model fed the same samples as the int8 model.
struct FloatReference {
  let graph: FloatGraph
  let executor: FloatExecutor
  let inputHWC: [Int]
  let preprocessing: Quantizer.Options
  let names: [Int: String]

  init(path: String, runtime m: RuntimeModel) throws {
    let bytes = [UInt8](try readInputFile(path, what: "float model"))
    do {
      graph = try loadFloatGraph(bytes: bytes, path: path)
      executor = try FloatExecutor(graph: graph)
    } catch let e as ExitCode {
      throw e
    } catch {
      throw fail("\(path): \(error)", code: ExitCodes.badModel)
    }
    guard graph.inputs.count == 1, graph.tensors[graph.inputs[0]].shape.count == 4 else {
      throw fail("\(path): eval needs one NHWC image input", code: ExitCodes.badModel)
    }
    inputHWC = Array(graph.tensors[graph.inputs[0]].shape.dropFirst())
    preprocessing = Quantizer.Options(metadata: m.metadata)
    var names: [Int: String] = [:]
    for (i, t) in graph.tensors.enumerated() where !t.isConstant && !t.name.isEmpty { names[i] = t.name }
    // The models' outputs correspond by position, whatever their names (an
    // imported int8 TFLite model's output keeps the int8 tensor's name, e.g.
    // "Identity_int8" for the float model's "Identity").
    let int8Outputs = m.outputs
    if graph.outputs.count == int8Outputs.count {
      for (k, t) in graph.outputs.enumerated() where !int8Outputs[k].name.isEmpty { names[t] = int8Outputs[k].name }
    }
    self.names = names
  }

  /// Ranks the float model's output; `observe(name, values)` sees every named tensor.
  func rank(_ sample: Dataset.Sample, observe: ((String, UnsafeBufferPointer<Float>) -> Void)?) throws -> [Int] {
    let x: [Float]
    switch sample {
    case .tensor(let v): x = v
    case .image(let img):
      let c = inputHWC[2]
      guard c == 1 || c == 3 else { throw DataError("float model input has \(c) channels; images give 1 or 3") }
      x = preprocessing.modelInput(image: img, height: inputHWC[0], width: inputHWC[1], channels: c)
    }
    let out: [[Float]]
    if let observe {
      out = try executor.run([x]) { t, values in if let n = names[t] { observe(n, values) } }
    } else {
      out = try executor.run([x])
    }
    return ranking(out[0])
  }
}

/// A float model from ONNX (by extension or content) or TFLite bytes.
func loadFloatGraph(bytes: [UInt8], path: String) throws -> FloatGraph {
  if path.lowercased().hasSuffix(".onnx") || FloatGraph.looksLikeONNX(bytes) { return try FloatGraph(onnx: bytes) }
  return try FloatGraph(tflite: bytes)
}

/// Per-layer signal and noise energy, accumulated over samples.
struct LayerErrors {
  struct Row {
    let op: Int; let name: String; let type: String; let shape: [Int]; let sqnr: Double
    /// 95 % bootstrap interval over the samples (SQNRSamples.interval).
    let interval: (lo: Double, hi: Double)
    /// The share of the compared float values beyond the int8 tensor's
    /// range by more than half a step (values no rounding reaches), and the
    /// share of the noise energy that their clipping makes: a high clipped
    /// share means the range is too narrow (more or more varied calibration
    /// data), a low one that the error is rounding.
    let clipped: Double, clipNoiseShare: Double
  }
  let ops: [OpSummary]
  var byName: [String: [Int]] = [:]
  /// Per op: signal and noise energy of each sample.
  var energy: [Int: SQNRSamples] = [:]
  /// Per op: values compared, values clipped, and the clipping's noise energy.
  var clipping: [Int: (values: Int, clipped: Int, noise: Double)] = [:]

  /// Output quantization (scale, zero point) of each op, read once.
  let outputQuant: [(scale: Double, zeroPoint: Int32)]

  /// Per op: bounds the float reference and the int8 value are clamped to before comparing,
  /// where the op's readers give the same result beyond them and the
  /// quantizer cut the range there (`ToolOp.usefulInputRange`): −3 below
  /// for a tensor read only by HardSwish; the int8 ends for one read only
  /// by LookupTables whose first (last) two entries are equal.
  var clamp: [Int: (lo: Double, hi: Double)] = [:]

  init(runtime m: RuntimeModel) {
    ops = m.ops
    outputQuant = ops.indices.map { op in
      let t = m.outputTensorOf(op: op)
      return (Double(t.scale), t.zeroPoint)
    }
    for op in ops where !op.outputName.isEmpty { byName[op.outputName, default: []].append(op.index) }
    let outputNames = Set(m.outputs.map(\.name))
    for op in ops where !outputNames.contains(op.outputName) {
      let t = m.opOutputIndex(op.index)
      let readers = ops.filter { $0.inputs.contains(t) }
      guard !readers.isEmpty else { continue }
      let (scale, zp) = outputQuant[op.index]
      if readers.allSatisfy({ $0.typeName == "HardSwish" && $0.inputs.first == t }) {
        clamp[op.index] = (-3, .infinity)
      } else if readers.allSatisfy({ $0.typeName == "LookupTable" && $0.inputs.first == t }) {
        let tables = readers.compactMap { $0.inputs.count > 1 ? m.constantValues($0.inputs[1]) : nil }
        guard tables.count == readers.count, tables.allSatisfy({ $0.count == 256 }) else { continue }
        let lo = tables.allSatisfy { $0[0] == $0[1] } ? scale * Double(-128 - zp) : -.infinity
        let hi = tables.allSatisfy { $0[255] == $0[254] } ? scale * Double(127 - zp) : .infinity
        if lo > -.infinity || hi < .infinity { clamp[op.index] = (lo, hi) }
      }
    }
  }

  var unmatched: Int { ops.count - energy.count }

  /// Float values on op `op`'s output grid (`ActivationQuant.quantize`),
  /// written to `out`.
  func round(_ f: [Float], op: Int, into out: UnsafeMutableBufferPointer<Int8>) {
    let (scale, zeroPoint) = outputQuant[op]
    let q = ActivationQuant(scale: Float(scale), zeroPoint: zeroPoint)
    for k in 0..<Swift.min(f.count, out.count) { out[k] = q.quantize(f[k]) }
  }

  /// The float tensor `name` on the output grid of each op compared with it.
  func rounded(_ f: [Float], name: String) -> [Int: [Int8]] {
    var out: [Int: [Int8]] = [:]
    for op in byName[name] ?? [] {
      var q = [Int8](repeating: 0, count: f.count)
      q.withUnsafeMutableBufferPointer { round(f, op: op, into: $0) }
      out[op] = q
    }
    return out
  }

  mutating func add(floatName: String, float: UnsafeBufferPointer<Float>, int8 outputs: [Int: [Int8]]) {
    guard let opList = byName[String(floatName.prefix(200))] else { return }
    for op in opList {
      guard let q = outputs[op], q.count == float.count else { continue }
      let (scale, zeroPoint) = outputQuant[op]
      let (lo, hi) = clamp[op] ?? (-.infinity, .infinity)
      // The int8 range in float, half a step wider: what rounding still reaches.
      let qLo = scale * (Double(-128 - zeroPoint) - 0.5), qHi = scale * (Double(127 - zeroPoint) + 0.5)
      var s = 0.0, e = 0.0, clipNoise = 0.0, clipped = 0, values = 0
      for k in 0..<q.count {
        var f = Double(float[k])
        // Sentinels, not data: the -FLT_MAX a padding node before a max pool
        // fills with (its int8 twin holds -128) would swamp both sums.
        if !(f.magnitude < Double(Float.greatestFiniteMagnitude) / 2) { continue }
        // Both sides: beyond the bounds the readers give the same result
        // (a source model's own range, ONNX QDQ, may extend past them).
        f = Swift.min(Swift.max(f, lo), hi)
        let d = Swift.min(Swift.max(scale * Double(Int32(q[k]) - zeroPoint), lo), hi)
        s += f * f
        e += (f - d) * (f - d)
        values += 1
        if f < qLo || f > qHi {
          clipped += 1
          let c = f - Swift.min(Swift.max(f, qLo), qHi)
          clipNoise += c * c
        }
      }
      energy[op, default: SQNRSamples()].append(signal: s, noise: e)
      let t = clipping[op] ?? (0, 0, 0)
      clipping[op] = (t.values + values, t.clipped + clipped, t.noise + clipNoise)
    }
  }

  func report() -> [Row] {
    energy.map { op, samples in
      let c = clipping[op] ?? (0, 0, 0)
      let noise = samples.noise.reduce(0, +)
      return Row(op: op, name: ops[op].outputName, type: ops[op].typeName, shape: ops[op].outputShape,
                 sqnr: samples.sqnr, interval: samples.interval(),
                 clipped: c.values > 0 ? Double(c.clipped) / Double(c.values) : 0,
                 clipNoiseShare: noise > 0 ? Swift.min(1, c.noise / noise) : 0)
    }.sorted { $0.sqnr != $1.sqnr ? $0.sqnr < $1.sqnr : $0.op < $1.op }
  }
}
