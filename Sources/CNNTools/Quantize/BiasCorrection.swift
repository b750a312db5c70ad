// Empirical bias correction (`cnnrt quantize --bias-correction`): int8
// weights and int8 activations shift the mean of each output channel of a
// convolution — a rounded weight times an input that is on average far from
// 0 (an image's constant background, a ReLU output), or a constant region
// rounded the same way everywhere, adds the same error at every pixel, and
// the error passes on to every later layer. For each conv, depthwise conv
// and fully connected node, in graph order, the int8 model built so far (the
// earlier nodes already corrected) runs the calibration samples; the node's
// pre-activation is evaluated in float from its dequantized int8 input and
// dequantized int8 weights, and from the float model's input and float
// weights; the per-channel difference of the two means (over samples and
// positions) is subtracted from the node's float bias before it is
// quantized. Nodes with weights fixed by the source model (ONNX QDQ) keep
// their bias.
//
// Cost: one int8 model build and one int8 run of the samples per weighted
// node (the samples are capped at `maxSamples`), plus one float run.

import CNNRuntime

enum BiasCorrection {
  /// At most this many calibration samples estimate the means.
  static let maxSamples = 256

  static let kinds: Set<FloatGraph.Kind> = [.conv2D, .depthwiseConv2D, .fullyConnected]

  /// One node alone with activation none and no bias, over the node's input
  /// shape, with the given weights: its output is the pre-activation
  /// without the bias.
  static func alone(_ n: FloatGraph.Node, _ g: FloatGraph, weights: [Float]) throws -> FloatExecutor {
    let x = g.tensors[n.inputs[0]], w = g.tensors[n.inputs[1]]
    var node = n
    node.inputs = [0, 1]
    node.output = 2
    node.activation = .none
    let mini = try FloatGraph(
      tensors: [FloatGraph.Tensor(name: "x", shape: x.shape), FloatGraph.Tensor(name: "w", shape: w.shape, data: weights),
                FloatGraph.Tensor(name: "y", shape: g.tensors[n.output].shape)],
      nodes: [node], inputs: [0], outputs: [2])
    return try FloatExecutor(graph: mini)
  }

  /// Adds the per-channel sums of `values` (channels last) into `sums`.
  static func accumulate(_ values: [Float], into sums: inout [Double]) {
    let c = sums.count
    for (k, v) in values.enumerated() { sums[k % c] += Double(v) }
  }

  static func apply(_ g: FloatGraph, samples all: [[Float]], options: Quantizer.Options, first: Quantizer.Result,
                    build: ([Int: [Float]]) throws -> Quantizer.Result) throws -> Quantizer.Result {
    let samples = Array(all.prefix(maxSamples))
    // The weighted nodes to correct, with their float and dequantized int8 weights.
    struct Target {
      let node: FloatGraph.Node
      let float: FloatExecutor
      let int8: FloatExecutor
      var floatSums: [Double]
      let positions: Int
    }
    var targets: [Target] = []
    for n in g.nodes where kinds.contains(n.kind) && n.inputs.count >= 2 {
      let (w, scales, perChannel, fixed) = try Quantizer.weights(n, g, options)
      if fixed { continue }
      let f = g.tensors[n.inputs[1]]
      let axis = ToolOpTable.unit(n.kind).weightChannelAxis(n.kind) ?? 0
      let inner = f.shape[(axis + 1)...].reduce(1, *), channels = f.shape[axis]
      let wq = w.indices.map { i in Float(w[i]) * scales[perChannel ? (i / inner) % channels : 0] }
      let cout = g.tensors[n.output].shape.last!
      targets.append(Target(node: n, float: try alone(n, g, weights: f.data!), int8: try alone(n, g, weights: wq),
                            floatSums: [Double](repeating: 0, count: cout),
                            positions: g.tensors[n.output].elementCount / cout * samples.count))
    }
    guard !targets.isEmpty else { return first }

    // Float pre-activation means (the float model's inputs of every target).
    let byInput = Dictionary(grouping: targets.indices, by: { targets[$0].node.inputs[0] })
    let fx = try FloatExecutor(graph: g)
    for s in samples {
      var seen: [Int: [Float]] = [:]
      _ = try fx.run([s]) { t, v in if byInput[t] != nil { seen[t] = Array(v) } }
      for (t, ks) in byInput {
        guard let x = seen[t] else { throw FloatGraphError.invalidModel("bias correction: tensor \(t) not computed") }
        for k in ks { accumulate(try targets[k].float.run([x])[0], into: &targets[k].floatSums) }
      }
    }

    // Node by node: the int8 model with the corrections so far; the int8
    // input of the node, dequantized, through the node with int8 weights.
    var shift: [Int: [Float]] = [:]
    var result = first
    for k in targets.indices {
      let t = targets[k]
      if k > 0 { result = try build(shift) }
      let model: RuntimeModel
      do { model = try RuntimeModel(bytes: result.bytes) } catch {
        throw FloatGraphError.unsupported("bias correction: the runtime refused the model: \(error)")
      }
      let inQ = result.quantization[g.inputs[0]]!
      guard let xid = result.tensorMap[t.node.inputs[0]] else {
        throw FloatGraphError.invalidModel("bias correction: \(t.node.origin): input not in the int8 model")
      }
      let xs = model.tensor(xid.index)
      let producer = (0..<model.opCount).first { model.opOutputIndex($0) == xid.index }
      var sums = [Double](repeating: 0, count: t.floatSums.count)
      for s in samples {
        let input = s.map { inQ.quantize($0) }
        var x: [Float] = []
        if let producer {
          try model.observingOps({ op, out in
            if op == producer { x = out.map { xs.scale * Float(Int32($0) - xs.zeroPoint) } }
          }) { _ = try model.run(input: input) }
        } else {
          x = input.map { xs.scale * Float(Int32($0) - xs.zeroPoint) }
        }
        guard x.count == g.tensors[t.node.inputs[0]].elementCount else {
          throw FloatGraphError.invalidModel("bias correction: \(t.node.origin): int8 input has \(x.count) values")
        }
        accumulate(try t.int8.run([x])[0], into: &sums)
      }
      shift[t.node.output] = sums.indices.map { c in Float((sums[c] - t.floatSums[c]) / Double(t.positions)) }
    }
    return try build(shift)
  }
}
