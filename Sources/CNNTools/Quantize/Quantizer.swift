// Quantizer: float graph + calibration samples → cnnrt int8 model, following
// TFLite's post-training full-integer quantization rules:
//
// - activations: asymmetric int8, range extended to include 0, zero point
//   nudged into [-128, 127] (ActivationQuant(min:max:)); ranges are observed
//   after fused ReLU/ReLU6, so the activation is folded into the output range;
// - weights: symmetric int8 in [-127, 127], zero point 0, per output channel
//   (conv axis 0, depthwise axis 3, fully connected axis 0) or per tensor;
// - bias: int32 with scale = input scale × weight scale[c];
// - max/average pool, reshape and pad share their input's quantization;
//   softmax and logistic outputs are fixed at scale 1/256, zero point -128;
// - standalone ReLU/ReLU6 are fused into their producer first (the others
//   become RELU, calibrated output, and RELU6, the input's quantization);
// - percentile / MSE clipping applies to intermediate activations; the model
//   input and the logits feeding softmax/logistic keep their min-max range;
// - fixed quantization from the source model (ONNX QDQ: `Tensor.fixedQuantization`)
//   replaces calibration for activations and the weight scales for weights;
//   biases are still int32 at input scale × weight scale.
//
// Each op's rule is in its tools op unit (Ops/*.swift, `ToolOp.quantize`);
// this file calibrates, walks the graph and writes the model.

import CNNRuntime

public enum Quantizer {
  public struct Options: Sendable {
    public var method: CalibrationMethod
    public var percentile: Double
    /// Per-channel weights (default) or one scale per weight tensor.
    public var perChannel: Bool
    public var name: String?
    public var labels: [String]
    /// Input preprocessing stored in the model: the float model input is
    /// x = (pixel × pixelScale − mean[c]) / std[c] (one value = all channels).
    public var pixelScale: Float
    public var mean: [Float]
    public var std: [Float]
    public var channelOrder: ChannelOrder
    /// Whether input 0 is an image: nil = automatic (rank 4, batch 1, 1 or 3 channels).
    public var imageInput: Bool?
    /// Empirical bias correction (`BiasCorrection`): each conv, depthwise
    /// conv and fully connected bias absorbs the mean per-channel error of
    /// its int8 pre-activation over the calibration samples.
    public var biasCorrection = false
    /// How each weight gets its int8 value: nearest step, or GPTQ's
    /// error-compensating rounding over the calibration inputs (GPTQ.swift).
    public var weightRounding: WeightRounding = .nearest
    /// Quantize x · HardSigmoid(x) as one HardSwish (FloatGraph.fusingHardSwish).
    public var fuseHardSwish = true
    /// Quantize x · Sigmoid(x) as one Swish lookup table (FloatGraph.fusingSwish).
    public var fuseSwish = true
    /// Called during calibration with (samples processed, total) over all
    /// passes, then during GPTQ's pass over its samples (`Quantizer.progressTotal`).
    public var progress: (@Sendable (Int, Int) -> Void)? = nil

    public init(method: CalibrationMethod = .minmax, percentile: Double = 99.99, perChannel: Bool = true,
                name: String? = nil, labels: [String] = [], pixelScale: Float = 1, mean: [Float] = [0],
                std: [Float] = [1], channelOrder: ChannelOrder = .rgb, imageInput: Bool? = nil) {
      self.method = method; self.percentile = percentile; self.perChannel = perChannel
      self.name = name; self.labels = labels; self.pixelScale = pixelScale; self.mean = mean; self.std = std
      self.channelOrder = channelOrder; self.imageInput = imageInput
    }

    /// Float model input for an 8-bit pixel of channel `c`.
    public func preprocess(pixel: Float, channel c: Int) -> Float {
      let m = mean.isEmpty ? 0 : mean[min(c, mean.count - 1)]
      let s = std.isEmpty ? 1 : std[min(c, std.count - 1)]
      return (pixel * pixelScale - m) / s
    }

    /// Float model input for an interleaved (HWC) 8-bit image.
    public func preprocess(pixels: [UInt8], channels: Int) -> [Float] {
      pixels.enumerated().map { preprocess(pixel: Float($0.element), channel: $0.offset % max(channels, 1)) }
    }

    /// Float model input (NHWC, `height` × `width` × `channels`) for an image
    /// of any size: resampled and converted exactly as cnn_classify does,
    /// channels reversed for BGR models, then preprocessed.
    public func modelInput(image img: PNMImage, height h: Int, width w: Int, channels c: Int) -> [Float] {
      var px = [UInt8](repeating: 0, count: h * w * c)
      img.pixels.withUnsafeBufferPointer { src in
        px.withUnsafeMutableBufferPointer { dst in
          resampleImageForModel(pixels: src.baseAddress!, width: img.width, height: img.height, channels: img.channels,
                                into: dst.baseAddress!, outWidth: w, outHeight: h, outChannels: c)
        }
      }
      let bgr = channelOrder == .bgr && c == 3
      return (0..<px.count).map { k in
        let ch = k % c
        return preprocess(pixel: Float(px[bgr ? k - ch + 2 - ch : k]), channel: ch)
      }
    }

    /// The preprocessing stored in a cnnrt model's metadata (identity when absent).
    public init(metadata md: MetadataRecord?) {
      self.init(pixelScale: md?.pixelScale ?? 1, mean: (0..<4).map { md?.meanValue($0) ?? 0 },
                std: (0..<4).map { md?.stdValue($0) ?? 1 },
                channelOrder: md?.channelOrder == ChannelOrder.bgr.rawValue ? .bgr : .rgb)
    }
  }

  public struct Result {
    /// The cnnrt model file.
    public let bytes: [UInt8]
    public let builder: ModelBuilder
    /// The graph that was quantized (standalone activations fused).
    public let graph: FloatGraph
    /// Float tensor index → cnnrt tensor (activations and constants).
    public let tensorMap: [Int: TensorID]
    /// Chosen quantization per activation tensor of `graph`.
    public let quantization: [Int: ActivationQuant]
    /// Calibration statistics per activation tensor.
    public let stats: [Int: TensorStats]
    /// Weighted nodes (by output tensor) whose weights GPTQ rounded (empty with nearest rounding).
    public let gptqRounded: Set<Int>
    /// Products quantized as one op: x · HardSigmoid(x) as HardSwish, x · Sigmoid(x) as a Swish table.
    public internal(set) var fusedHardSwish = 0, fusedSwish = 0
  }

  /// The total that `Options.progress` counts to for `sampleCount` samples.
  public static func progressTotal(sampleCount n: Int, options: Options) -> Int {
    n * options.method.passes + (options.weightRounding == .gptq ? Swift.min(n, GPTQ.maxSamples) : 0)
  }

  /// The weighted node kinds whose int8 form bias correction and GPTQ refine.
  static let refinedKinds: Set<FloatGraph.Kind> = [.conv2D, .depthwiseConv2D, .fullyConnected]

  /// Quantizes `graph` using `samples` (values of model input 0, in the float
  /// model's units) for calibration. Tensors with `fixedQuantization` (ONNX
  /// QDQ models) keep the given parameters; `samples` may be empty when every
  /// activation whose quantization is chosen here has fixed parameters.
  public static func quantize(_ graph: FloatGraph, samples: [[Float]], options: Options = Options()) throws -> Result {
    var g = graph.fusingActivations()
    let unfused = g.nodes.count
    if options.fuseHardSwish { g = g.fusingHardSwish() }
    let fusedHardSwish = unfused - g.nodes.count
    if options.fuseSwish { g = g.fusingSwish() }
    let fusedSwish = unfused - fusedHardSwish - g.nodes.count
    guard g.inputs.count == 1 else {
      throw FloatGraphError.unsupported("\(g.inputs.count) model inputs (only single-input models can be calibrated)")
    }
    let calibrator = Calibrator(method: options.method, percentile: options.percentile)
    // Activations whose quantization is chosen here (the others share their
    // input's or are fixed by the op); tensors with fixed parameters from
    // the source model (ONNX QDQ) need no calibration.
    let chosen = [g.inputs[0]] + g.nodes.filter { ToolOpTable.unit($0.kind).calibratesOutput }.map(\.output)
    let uncalibrated = chosen.filter { g.tensors[$0].fixedQuantization?.activation == nil }
    var stats: [Int: TensorStats] = [:]
    if !samples.isEmpty {
      stats = try calibrator.collect(try FloatExecutor(graph: g), samples: samples, progress: options.progress)
    } else if let t = uncalibrated.first {
      throw FloatGraphError.invalidInput(
        "no calibration samples, and tensor \(g.tensors[t].name) (\(uncalibrated.count) in all) has no fixed quantization")
    }
    let total = progressTotal(sampleCount: samples.count, options: options)
    let gptqTicks = Swift.min(samples.count, GPTQ.maxSamples)
    var gptqProgress: (@Sendable (Int) -> Void)? = nil
    if let p = options.progress { gptqProgress = { done in p(total - gptqTicks + done, total) } }
    let rounded = options.weightRounding == .gptq
      ? try GPTQ.round(g, samples: samples, perChannel: options.perChannel, progress: gptqProgress) : [:]
    // Bias correction rebuilds the model once per corrected layer; the
    // weights do not change between builds, so each is quantized once.
    let cache = WeightCache()
    let first = try build(g, stats: stats, options: options, calibrator: calibrator, biasShift: [:], weights: rounded,
                          cache: cache)
    var result = first
    if options.biasCorrection, !samples.isEmpty {
      result = try BiasCorrection.apply(g, samples: samples, options: options, first: first) { shift in
        try build(g, stats: stats, options: options, calibrator: calibrator, biasShift: shift, weights: rounded,
                  cache: cache)
      }
    }
    result.fusedHardSwish = fusedHardSwish
    result.fusedSwish = fusedSwish
    return result
  }

  /// Builds the int8 model from the calibration statistics; `biasShift`
  /// (by weighted node output tensor) is subtracted from each float bias
  /// before it is quantized (bias correction); `weights` (by weighted node
  /// output tensor) replace the nearest-rounded int8 weights (GPTQ);
  /// `cache` keeps the nearest-rounded weights between builds of one graph.
  static func build(_ g: FloatGraph, stats: [Int: TensorStats], options: Options, calibrator: Calibrator,
                    biasShift: [Int: [Float]], weights: [Int: [Int8]] = [:], cache: WeightCache? = nil) throws -> Result {
    // Tensors kept at their min-max range whatever the method: the model input
    // (clipping it would discard pixel values the preprocessing maps exactly)
    // and the logits read by softmax/logistic (their tail decides the class).
    var fullRange: Set<Int> = [g.inputs[0]]
    for n in g.nodes where ToolOpTable.unit(n.kind).needsFullRangeInput { fullRange.insert(n.inputs[0]) }
    var q = QuantizerState(graph: g, options: options, calibrator: calibrator, stats: stats, fullRange: fullRange)
    q.biasShift = biasShift
    q.roundedWeights = weights
    q.weightCache = cache
    q.usefulRange = usefulRanges(g)
    q.held = heldValues(g)
    // join: a concatenation's inputs and output get one quantization (Ops/Concatenation.swift).
    try q.shareConcatenationQuantization()

    // Model input.
    let inT = g.inputs[0]
    let inQ = try q.own(inT)
    q.quant[inT] = inQ
    q.map[inT] = try QuantizerState.wrap("model input") {
      try q.b.addActivation(shape: g.tensors[inT].shape, scale: inQ.scale, zeroPoint: inQ.zeroPoint, name: q.name(inT))
    }
    try q.b.markInput(q.map[inT]!)

    for n in g.nodes {
      let (out, oq) = try ToolOpTable.unit(n.kind).quantize(n, &q)
      q.map[n.output] = out
      q.quant[n.output] = oq
    }
    var b = q.b
    let map = q.map, quant = q.quant
    for t in g.outputs { try b.markOutput(map[t]!) }

    if !options.labels.isEmpty {
      let shape = g.tensors[g.outputs[0]].shape
      guard shape.last == options.labels.count else {
        throw FloatGraphError.invalidInput("\(options.labels.count) labels, but the first output has shape \(shape)")
      }
    }
    b.metadata = try metadata(g, options)
    let bytes: [UInt8]
    do { bytes = try b.serialize() } catch let e as ModelBuilderError {
      throw FloatGraphError.unsupported("serializing: \(e)")
    }
    do { _ = try RuntimeModel(bytes: bytes) } catch {
      throw FloatGraphError.unsupported("the cnnrt runtime refused the quantized model: \(error)")
    }
    return Result(bytes: bytes, builder: b, graph: g, tensorMap: map, quantization: quant, stats: stats,
                  gptqRounded: Set(weights.keys))
  }

  /// Tensors read only by nodes with a `ToolOp.usefulInputRange` (and not
  /// model outputs): the hull of those ranges.
  static func usefulRanges(_ g: FloatGraph) -> [Int: (min: Float, max: Float)] {
    var readers: [Int: [Int]] = [:]
    for (i, n) in g.nodes.enumerated() { for t in Set(n.inputs) { readers[t, default: []].append(i) } }
    var out: [Int: (min: Float, max: Float)] = [:]
    for (t, ns) in readers where !g.outputs.contains(t) && !g.tensors[t].isConstant {
      let rs = ns.map { ToolOpTable.unit(g.nodes[$0].kind).usefulInputRange(g.nodes[$0]) }
      guard rs.allSatisfy({ $0 != nil }) else { continue }
      out[t] = (rs.map { $0!.min }.min()!, rs.map { $0!.max }.max()!)
    }
    return out
  }

  /// Per calibrated tensor: the hull of the constants that ops sharing its
  /// quantization write (`ToolOp.constantsInInputQuantization`), followed
  /// back through every op that shares its input's quantization (to a
  /// concatenation's output, whose shared group then holds them).
  static func heldValues(_ g: FloatGraph) -> [Int: (min: Float, max: Float)] {
    var producer: [Int: FloatGraph.Node] = [:]
    for n in g.nodes { producer[n.output] = n }
    var out: [Int: (min: Float, max: Float)] = [:]
    for n in g.nodes {
      let values = ToolOpTable.unit(n.kind).constantsInInputQuantization(n)
      guard let lo = values.min(), let hi = values.max() else { continue }
      var t = n.inputs[0], steps = 0
      while let p = producer[t], ToolOpTable.unit(p.kind).sharesInputQuantization, p.kind != .concatenation,
            steps < g.nodes.count {  // a graph is acyclic; the bound only keeps a malformed one from looping
        t = p.inputs[0]
        steps += 1
      }
      let h = out[t] ?? (lo, hi)
      out[t] = (Swift.min(h.min, lo), Swift.max(h.max, hi))
    }
    return out
  }

  static func metadata(_ g: FloatGraph, _ o: Options) throws -> ModelMetadata? {
    let shape = g.tensors[g.inputs[0]].shape
    let auto = shape.count == 4 && shape[0] == 1 && (shape[3] == 1 || shape[3] == 3)
    let isImage = o.imageInput ?? auto
    if isImage && !(shape.count == 4 && shape[0] == 1 && shape[3] >= 1 && shape[3] <= 4) {
      throw FloatGraphError.invalidInput("input \(shape) is not an image [1, H, W, C] with C <= 4")
    }
    guard isImage || o.name != nil || !o.labels.isEmpty else { return nil }
    var m = ModelMetadata(name: o.name, labels: o.labels)
    if isImage {
      let c = shape[3]
      m.imageHeight = shape[1]; m.imageWidth = shape[2]; m.imageChannels = c
      m.channelOrder = c == 1 ? .gray : o.channelOrder
      m.pixelScale = o.pixelScale
      func perChannel(_ v: [Float], _ what: String, default d: Float) throws -> [Float] {
        if v.isEmpty { return [Float](repeating: d, count: c) }
        if v.count == 1 { return [Float](repeating: v[0], count: c) }
        guard v.count == c else { throw FloatGraphError.invalidInput("\(v.count) \(what) values for \(c) channels") }
        return v
      }
      m.mean = try perChannel(o.mean, "mean", default: 0)
      m.std = try perChannel(o.std, "std", default: 1)
    }
    return m
  }

  /// Weights with quantization fixed by the source model (ONNX QDQ): the
  /// given scales are kept and the int8 values recovered exactly (the float
  /// weights are scale × q, so round(w / scale) = q). nil when there is no
  /// usable fixed quantization (none, non-zero zero points, or another axis),
  /// in which case the weights are quantized as usual.
  static func fixedWeights(_ f: FloatGraph.Tensor, axis: Int, _ ctx: String) throws
    -> (data: [Int8], scales: [Float], perChannel: Bool)? {
    guard let q = f.fixedQuantization, let w = f.data, q.zeroPoints.allSatisfy({ $0 == 0 }),
          q.scales.allSatisfy({ $0.isFinite && $0 > 0 }) else { return nil }
    let perChannel = q.axis != nil
    if perChannel {
      guard q.axis == axis, axis < f.shape.count, q.scales.count == f.shape[axis] else { return nil }
    } else {
      guard q.scales.count == 1 else { return nil }
    }
    let inner = perChannel ? f.shape[(axis + 1)...].reduce(1, *) : 1
    var out = [Int8](repeating: 0, count: w.count)
    for i in w.indices {
      let s = q.scales[perChannel ? (i / inner) % q.scales.count : 0]
      let v = (Double(w[i]) / Double(s)).rounded(.toNearestOrAwayFromZero)
      guard v.isFinite else { throw FloatGraphError.invalidModel("\(ctx): weight \(w[i]) with scale \(s)") }
      out[i] = Int8(Swift.max(-128, Swift.min(127, v)))
    }
    return (out, q.scales, perChannel)
  }

  /// Symmetric int8 weights in [-127, 127]: per channel along `axis`, or one
  /// scale for the whole tensor. Returns the values and the scale(s).
  public static func quantizeWeights(_ w: [Float], shape: [Int], axis: Int, perChannel: Bool) throws
    -> (data: [Int8], scales: [Float]) {
    if perChannel { return try ModelBuilder.quantizeWeightsPerChannel(w, shape: shape, axis: axis) }
    guard w.allSatisfy(\.isFinite) else { throw FloatGraphError.invalidModel("weights: non-finite value") }
    let m = w.reduce(Float(0)) { max($0, abs($1)) }
    let s: Float = m > 0 ? m / 127 : 1
    return (w.map { ModelBuilder.quantizeSymmetric($0, scale: s) }, [s])
  }
}

/// The int8 weights and scales of each weighted node (by output tensor),
/// computed by the first build of a graph and reused by the later ones.
final class WeightCache {
  var entries: [Int: (data: [Int8], scales: [Float])] = [:]
}

/// The quantizer's state while it walks the graph; op units
/// (`ToolOp.quantize`) read tensors and quantization through it and add
/// their op to `b`.
struct QuantizerState {
  let g: FloatGraph
  let options: Quantizer.Options
  let calibrator: Calibrator
  let stats: [Int: TensorStats]
  let fullRange: Set<Int>
  var b = ModelBuilder()
  /// Float tensor → cnnrt tensor.
  var map: [Int: TensorID] = [:]
  /// Chosen quantization per activation tensor.
  var quant: [Int: ActivationQuant] = [:]
  /// Quantization imposed on a tensor by a concatenation (its inputs and
  /// output share one), used by `own` before calibration.
  var shared: [Int: ActivationQuant] = [:]
  /// Per weighted node (by output tensor): subtracted from the float bias.
  var biasShift: [Int: [Float]] = [:]
  /// Per weighted node (by output tensor): int8 weights at the usual scales, rounded by GPTQ.
  var roundedWeights: [Int: [Int8]] = [:]
  /// Nearest-rounded weights and scales by weighted node output, shared by the builds of one quantization.
  var weightCache: WeightCache? = nil
  /// Tensors read only by ops whose output is constant outside a range (`Quantizer.usefulRanges`).
  var usefulRange: [Int: (min: Float, max: Float)] = [:]
  /// Constants a tensor's quantization must hold (`Quantizer.heldValues`).
  var held: [Int: (min: Float, max: Float)] = [:]

  init(graph: FloatGraph, options: Quantizer.Options, calibrator: Calibrator, stats: [Int: TensorStats],
       fullRange: Set<Int>) {
    g = graph; self.options = options; self.calibrator = calibrator; self.stats = stats; self.fullRange = fullRange
  }

  /// The quantization chosen for activation `t` (fixed by the source model,
  /// else from its calibrated range).
  func own(_ t: Int) throws -> ActivationQuant {
    if let q = shared[t] { return q }
    if let q = g.tensors[t].fixedQuantization?.activation { return q }
    let r = try calibratedRange(t)
    guard let u = usefulRange[t], !fullRange.contains(t), r.min < u.min || r.max > u.max else {
      return ActivationQuant(min: r.min, max: r.max)
    }
    // Cut at the readers' useful range, widened by up to two steps so that
    // the int8 ends reach it (the zero point's rounding moves them).
    let cut = (min: Swift.max(r.min, u.min), max: Swift.min(r.max, u.max))
    guard cut.min < cut.max else { return ActivationQuant(min: r.min, max: r.max) }
    var lo = cut.min, hi = cut.max
    var q = ActivationQuant(min: lo, max: hi)
    for _ in 0..<2 {
      let loShort = r.min < u.min && q.dequantize(-128) > u.min
      let hiShort = r.max > u.max && q.dequantize(127) < u.max
      guard loShort || hiShort else { break }
      if loShort { lo -= q.scale }
      if hiShort { hi += q.scale }
      q = ActivationQuant(min: lo, max: hi)
    }
    return q
  }

  /// The range activation `t`'s quantization is chosen from: its min-max
  /// where it must keep it (`fullRange`), else the calibration method's;
  /// widened to hold the constants ops sharing its quantization write
  /// (`held`). A concatenation's shared group takes the hull of its members'.
  func calibratedRange(_ t: Int) throws -> (min: Float, max: Float) {
    guard let st = stats[t] else { throw FloatGraphError.invalidModel("tensor \(g.tensors[t].name) was not calibrated") }
    let r = fullRange.contains(t) ? (min: st.min, max: st.max) : calibrator.range(st)
    guard let h = held[t] else { return r }
    return (Swift.min(r.min, h.min), Swift.max(r.max, h.max))
  }

  func name(_ t: Int) -> String? { g.tensors[t].name.isEmpty ? nil : String(g.tensors[t].name.prefix(200)) }

  /// The cnnrt tensor and quantization of the node's input `i`.
  func input(_ n: FloatGraph.Node, _ i: Int = 0) -> (TensorID, ActivationQuant) {
    (map[n.inputs[i]]!, quant[n.inputs[i]]!)
  }

  /// Runs a builder call, turning its errors into quantizer errors naming the node.
  static func wrap(_ ctx: String, _ body: () throws -> TensorID) throws -> TensorID {
    do { return try body() } catch let e as ModelBuilderError { throw FloatGraphError.unsupported("\(ctx): \(e)") }
  }

  /// A conv / depthwise conv / fully connected node: int8 weights (fixed by
  /// the source model, or symmetric per channel along `ToolOp.weightChannelAxis`
  /// or per tensor), int32 bias at input scale × weight scale, calibrated output.
  /// `outputShape`: the node's (an op whose output size is not implied by
  /// its input, as a transposed convolution's), else the builder's inference.
  mutating func weightedOp(_ n: FloatGraph.Node, _ code: OpCode, padding: Padding, outputShape: [Int]? = nil)
    throws -> (TensorID, ActivationQuant) {
    let ctx = n.origin
    let (x, xq) = input(n)
    let oq = try own(n.output)
    let f = g.tensors[n.inputs[1]]
    let axis = ToolOpTable.unit(n.kind).weightChannelAxis(n.kind) ?? 0
    var w: [Int8], scales: [Float], perChannel: Bool
    if let fixed = try Quantizer.fixedWeights(f, axis: axis, ctx) {
      (w, scales, perChannel) = fixed
    } else {
      if let hit = weightCache?.entries[n.output] {
        (w, scales) = hit
      } else {
        (w, scales) = try Quantizer.quantizeWeights(f.data!, shape: f.shape, axis: axis, perChannel: options.perChannel)
        weightCache?.entries[n.output] = (w, scales)
      }
      perChannel = options.perChannel
      if let r = roundedWeights[n.output], r.count == w.count { w = r }
    }
    let wName = name(n.inputs[1])
    let wid = try Self.wrap(ctx) {
      perChannel
        ? try b.addConstant(w, shape: f.shape, scales: scales, axis: axis, name: wName)
        : try b.addConstant(w, shape: f.shape, scale: scales[0], name: wName)
    }
    let cout = f.shape[axis]
    var fb = n.inputs.count > 2 ? g.tensors[n.inputs[2]].data! : [Float](repeating: 0, count: cout)
    if let shift = biasShift[n.output], shift.count == cout { for c in 0..<cout { fb[c] -= shift[c] } }
    let qb = try ModelBuilder.quantizeBias(fb, inputScale: xq.scale, weightScales: scales)
    let bName = n.inputs.count > 2 ? name(n.inputs[2]) : nil
    let bid = try Self.wrap(ctx) { try b.addConstant(qb, name: bName) }
    let o = OpOptions(strideH: n.strideH, strideW: n.strideW, dilationH: n.dilationH, dilationW: n.dilationW,
                      padding: padding, activation: n.fusedActivation)
    let oName = name(n.output)
    let out = try Self.wrap(ctx) {
      let shape = try outputShape ?? b.inferOutputShape(code, inputs: [x, wid, bid], options: o)
      let id = try b.addActivation(shape: shape, scale: oq.scale, zeroPoint: oq.zeroPoint, name: oName)
      try b.addOp(code, inputs: [x, wid, bid], output: id, options: o)
      return id
    }
    return (out, oq)
  }
}
