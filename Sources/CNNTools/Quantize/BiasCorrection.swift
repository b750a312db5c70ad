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
// run of consecutive independent nodes (the samples are capped at
// `maxSamples`: 64 gave the same gain as 256 on MobileNet v3 Small at a
// quarter of the int8 runs), plus one float run.

import CNNRuntime

enum BiasCorrection {
  struct Target {
    let node: FloatGraph.Node
    let float: FloatExecutor
    let int8: FloatExecutor
    var floatSums: [Double]
    let positions: Int
  }

  /// Per target: the per-channel sums over `samples` of its bias-free
  /// pre-activation computed from its dequantized int8 input (as the int8
  /// model `r` computes it) and its dequantized int8 weights.
  static func int8Sums(_ r: Quantizer.Result, _ g: FloatGraph, _ samples: [[Float]], _ targets: [Target]) throws
    -> [[Double]] {
    let model: RuntimeModel
    do { model = try RuntimeModel(bytes: r.bytes) } catch {
      throw FloatGraphError.unsupported("bias correction: the runtime refused the model: \(error)")
    }
    let inQ = r.quantization[g.inputs[0]]!
    var sums = targets.map { [Double](repeating: 0, count: $0.floatSums.count) }
    // Targets by the op writing their input (-1: the model input).
    var byProducer: [Int: [Int]] = [:]
    var inputQuant: [ActivationQuant] = []
    for (k, t) in targets.enumerated() {
      guard let xid = r.tensorMap[t.node.inputs[0]] else {
        throw FloatGraphError.invalidModel("bias correction: \(t.node.origin): input not in the int8 model")
      }
      let xs = model.tensor(xid.index)
      inputQuant.append(ActivationQuant(scale: xs.scale, zeroPoint: xs.zeroPoint))
      let producer = (0..<model.opCount).first { model.opOutputIndex($0) == xid.index } ?? -1
      byProducer[producer, default: []].append(k)
    }
    var failure: Error? = nil
    func feed(_ ks: [Int], _ q: UnsafeBufferPointer<Int8>) {
      for k in ks {
        let x = q.map(inputQuant[k].dequantize)
        do { accumulate(try targets[k].int8.run([x])[0], into: &sums[k]) } catch { failure = error }
      }
    }
    for s in samples {
      let input = s.map { inQ.quantize($0) }
      if let ks = byProducer[-1] { input.withUnsafeBufferPointer { feed(ks, $0) } }
      try model.observingOps({ op, out in if let ks = byProducer[op] { feed(ks, out) } }) {
        _ = try model.run(input: input)
      }
      if let failure { throw failure }
    }
    return sums
  }

  /// At most this many calibration samples estimate the means.
  static let maxSamples = 64


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

  /// Every tensor `n`'s first input depends on (itself included).
  static func upstream(of n: FloatGraph.Node, _ g: FloatGraph) -> Set<Int> {
    var seen: Set<Int> = []
    var todo = [n.inputs[0]]
    while let t = todo.popLast() {
      guard seen.insert(t).inserted, let p = g.nodes.first(where: { $0.output == t }) else { continue }
      todo += p.inputs.filter { !g.tensors[$0].isConstant }
    }
    return seen
  }

  /// Adds the per-channel sums of `values` (channels last) into `sums`.
  static func accumulate(_ values: [Float], into sums: inout [Double]) {
    let c = sums.count
    for (k, v) in values.enumerated() { sums[k % c] += Double(v) }
  }

  static func apply(_ g: FloatGraph, samples all: [[Float]], options: Quantizer.Options, first: Quantizer.Result,
                    build: ([Int: [Float]]) throws -> Quantizer.Result) throws -> Quantizer.Result {
    let samples = Array(all.prefix(maxSamples))
    // The weighted nodes to correct, with their float weights and their
    // int8 weights as the first model holds them, dequantized.
    let m0: RuntimeModel
    do { m0 = try RuntimeModel(bytes: first.bytes) } catch {
      throw FloatGraphError.unsupported("bias correction: the runtime refused the model: \(error)")
    }
    let writer = Dictionary((0..<m0.opCount).map { (m0.opOutputIndex($0), $0) }, uniquingKeysWith: { a, _ in a })
    var targets: [Target] = []
    for n in g.nodes where Quantizer.refinedKinds.contains(n.kind) && n.inputs.count >= 2 {
      let f = g.tensors[n.inputs[1]]
      let axis = ToolOpTable.unit(n.kind).weightChannelAxis(n.kind) ?? 0
      if try Quantizer.fixedWeights(f, axis: axis, n.origin) != nil { continue }
      guard let out = first.tensorMap[n.output], let op = writer[out.index], m0.ops[op].inputs.count > 1,
            let wq = m0.constantValues(m0.ops[op].inputs[1]), wq.count == f.elementCount else {
        throw FloatGraphError.invalidModel("bias correction: \(n.origin): no int8 weights in the model")
      }
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

    // Node by node, in graph order: the int8 model with the corrections so
    // far (a node's correction changes what every later node reads).
    // Consecutive nodes whose inputs do not depend on one another share a
    // run (the two expand convs of a SqueezeNet fire module, parallel
    // branches). Correcting every node from one run instead over-corrects:
    // each node would also absorb error its predecessors' corrections remove.
    var shift: [Int: [Float]] = [:]
    var result = first
    var k = 0
    let needs = targets.map { upstream(of: $0.node, g) }
    while k < targets.count {
      var batch = [k]
      while k + batch.count < targets.count {
        let next = needs[k + batch.count]
        if batch.contains(where: { next.contains(targets[$0].node.output) }) { break }
        batch.append(k + batch.count)
      }
      if k > 0 { result = try build(shift) }
      let sums = try int8Sums(result, g, samples, batch.map { targets[$0] })
      for (j, i) in batch.enumerated() {
        let t = targets[i]
        shift[t.node.output] = sums[j].indices.map { c in Float((sums[j][c] - t.floatSums[c]) / Double(t.positions)) }
      }
      k += batch.count
    }
    return try build(shift)
  }
}
