// Quantizer refinements: x · HardSigmoid(x) quantized as one HardSwish
// (FloatGraph.fusingHardSwish), x · Sigmoid(x) as one Swish lookup table
// (FloatGraph.fusingSwish), and empirical bias correction
// (Quantizer.Options.biasCorrection, BiasCorrection.swift), each against the
// float graph it quantizes.
import CNNRuntime
import Foundation
import Testing

@testable import CNNTools

private typealias G = FloatGraph

private func uniform(_ rng: inout SplitMix64, _ lo: Float, _ hi: Float) -> Float {
  lo + (hi - lo) * Float(Double(rng.next() >> 11) / Double(UInt64(1) << 53))
}

/// Images like MNIST's in its normalised units: a constant background
/// (−0.42) with a few bright strokes (up to 2.8), `c` channels.
private func strokeImages(_ count: Int, h: Int, w: Int, c: Int, seed: UInt64) -> [[Float]] {
  var rng = SplitMix64(seed: seed)
  return (0..<count).map { _ in
    var x = [Float](repeating: -0.42, count: h * w * c)
    for _ in 0..<(h * w / 6) {
      let p = Int(rng.next() % UInt64(h * w))
      let v = uniform(&rng, 0.5, 2.8)
      for k in 0..<c { x[p * c + k] = v }
    }
    return x
  }
}

private func randomWeights(_ n: Int, _ rng: inout SplitMix64, scale: Float) -> [Float] {
  (0..<n).map { _ in uniform(&rng, -scale, scale) }
}

/// The int8 model's value of float tensor `t` for each sample (dequantized), read with the op observer.
private func int8Values(_ r: Quantizer.Result, _ t: Int, samples: [[Float]]) throws -> [[Float]] {
  let model = try RuntimeModel(bytes: r.bytes)
  let id = r.tensorMap[t]!.index
  let ts = model.tensor(id)
  let op = try #require((0..<model.opCount).first { model.opOutputIndex($0) == id })
  let inQ = r.quantization[r.graph.inputs[0]]!
  return try samples.map { s in
    var v: [Float] = []
    try model.observingOps({ o, out in
      if o == op { v = out.map { ts.scale * Float(Int32($0) - ts.zeroPoint) } }
    }) { _ = try model.run(input: s.map { inQ.quantize($0) }) }
    return v
  }
}

private func floatValues(_ g: G, _ t: Int, samples: [[Float]]) throws -> [[Float]] {
  let ex = try FloatExecutor(graph: g)
  return try samples.map { s in
    var v: [Float] = []
    _ = try ex.run([s]) { k, values in if k == t { v = Array(values) } }
    return v
  }
}

/// Mean over samples and positions of (int8 − float), per channel (channels last).
private func channelMeanErrors(_ q: [[Float]], _ f: [[Float]], channels c: Int) -> [Double] {
  var sums = [Double](repeating: 0, count: c)
  var n = 0
  for (a, b) in zip(q, f) {
    for k in a.indices { sums[k % c] += Double(a[k] - b[k]) }
    n += a.count / c
  }
  return sums.map { $0 / Double(n) }
}

private func sqnr(_ q: [[Float]], _ f: [[Float]]) -> Double {
  var s = 0.0, e = 0.0
  for (a, b) in zip(q, f) { for k in a.indices { s += Double(b[k]) * Double(b[k]); e += Double(a[k] - b[k]) * Double(a[k] - b[k]) } }
  return 10 * log10(s / e)
}

@Suite struct HardSwishFusionTests {
  /// x [1,6,6,3] → conv 1×1 (4 channels) → t; HardSigmoid(t) (or Sigmoid(t)) → h; Mul → y.
  fileprivate static func graph(alpha: Float = 1.0 / 6, beta: Float = 0.5, swap: Bool = false, mulOther: Bool = false,
                    gateIsOutput: Bool = false, gateReadTwice: Bool = false, sigmoid: Bool = false) throws -> G {
    var rng = SplitMix64(seed: 7)
    let conv = G.Node(kind: .conv2D, inputs: [0, 1, 2], output: 3, origin: "conv")
    var hs = G.Node(kind: sigmoid ? .logistic : .hardSigmoid, inputs: [3], output: 4, origin: "gate")
    hs.alpha = alpha; hs.beta = beta
    let other = mulOther ? 0 : 3  // the product's other operand: t, or (mismatch) a second conv's output
    var nodes = [conv, hs]
    var tensors = [G.Tensor(name: "x", shape: [1, 6, 6, 3]),
                   G.Tensor(name: "w", shape: [4, 1, 1, 3], data: randomWeights(12, &rng, scale: 1.5)),
                   G.Tensor(name: "b", shape: [4], data: [0.3, -0.2, 0.1, 0]),
                   G.Tensor(name: "t", shape: [1, 6, 6, 4]), G.Tensor(name: "h", shape: [1, 6, 6, 4]),
                   G.Tensor(name: "y", shape: [1, 6, 6, 4])]
    var a = other
    if mulOther {
      tensors.append(G.Tensor(name: "t2", shape: [1, 6, 6, 4]))
      nodes.append(G.Node(kind: .conv2D, inputs: [0, 1], output: 6, origin: "conv2"))
      a = 6
    }
    nodes.append(G.Node(kind: .mul, inputs: swap ? [4, a] : [a, 4], output: 5, origin: "mul"))
    var outputs = [5]
    if gateIsOutput { outputs.append(4) }
    if gateReadTwice {
      tensors.append(G.Tensor(name: "z", shape: [1, 6, 6, 4]))
      nodes.append(G.Node(kind: .add, inputs: [5, 4], output: tensors.count - 1, origin: "add"))
      outputs = [tensors.count - 1]
    }
    return try G(tensors: tensors, nodes: nodes, inputs: [0], outputs: outputs)
  }

  /// The rewrite for the graph's gate: HardSwish for HardSigmoid, Swish for Sigmoid.
  fileprivate static func fuse(_ g: G, sigmoid: Bool) -> G { sigmoid ? g.fusingSwish() : g.fusingHardSwish() }

  @Test(arguments: [false, true]) func productOfXAndItsGateBecomesOneNode(sigmoid: Bool) throws {
    for swap in [false, true] {
      let g = try Self.graph(swap: swap, sigmoid: sigmoid)
      let f = Self.fuse(g, sigmoid: sigmoid)
      #expect(f.nodes.map(\.kind) == [.conv2D, sigmoid ? .unaryFunction : .hardSwish])
      #expect(f.nodes[1].inputs == [3] && f.nodes[1].output == 5)
      if sigmoid { #expect(f.nodes[1].ints == [UnaryFunction.swish.rawValue] && f.nodes[1].alpha == 1) }
      // Same float function.
      let xs = strokeImages(4, h: 6, w: 6, c: 3, seed: 3)
      for x in xs {
        let a = try FloatExecutor(graph: g).run([x])[0], b = try FloatExecutor(graph: f).run([x])[0]
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($0)) })
      }
      // A HardSigmoid gate is not a sigmoid, nor the reverse.
      #expect(Self.fuse(g, sigmoid: !sigmoid).nodes.count == 3)
    }
  }

  @Test(arguments: [false, true]) func otherPatternsAreLeftAlone(sigmoid: Bool) throws {
    if !sigmoid {
      #expect(try Self.graph(alpha: 0.2).fusingHardSwish().nodes.count == 3)
      #expect(try Self.graph(beta: 0.4).fusingHardSwish().nodes.count == 3)
    }
    for g in [try Self.graph(mulOther: true, sigmoid: sigmoid), try Self.graph(gateIsOutput: true, sigmoid: sigmoid),
              try Self.graph(gateReadTwice: true, sigmoid: sigmoid)] {
      #expect(Self.fuse(g, sigmoid: sigmoid).nodes.contains { $0.kind == .mul })
    }
  }

  /// Quantized, the fused form is one HARD_SWISH op, within an output step
  /// of hardswish of its dequantized int8 input, and closer to float than
  /// LookupTable + Mul (the gate read at a 1/256 step, rounded twice).
  @Test func fusedQuantizationIsOneOpAndMoreAccurate() throws {
    let g = try Self.graph()
    let calib = strokeImages(16, h: 6, w: 6, c: 3, seed: 1), test = strokeImages(16, h: 6, w: 6, c: 3, seed: 2)
    let fused = try Quantizer.quantize(g, samples: calib)
    #expect(try RuntimeModel(bytes: fused.bytes).ops.map(\.typeName) == ["Conv2D", "HardSwish"])
    #expect(fused.fusedHardSwish == 1 && fused.fusedSwish == 0)
    let xq = try int8Values(fused, 3, samples: test), yq = try int8Values(fused, 5, samples: test)
    let step = fused.quantization[5]!.scale
    var worst: Float = 0
    for (xs, ys) in zip(xq, yq) {
      for (x, y) in zip(xs, ys) { worst = max(worst, abs(y - x * min(max(x + 3, 0), 6) / 6)) }
    }
    #expect(worst <= step * 1.0001, "worst \(worst / step) steps")

    let f = try floatValues(g, 5, samples: test)
    let fusedSQNR = try sqnr(int8Values(fused, 5, samples: test), f)
    var o = Quantizer.Options()
    o.fuseHardSwish = false
    let twoOps = try Quantizer.quantize(g, samples: calib, options: o)
    #expect(try RuntimeModel(bytes: twoOps.bytes).ops.map(\.typeName) == ["Conv2D", "LookupTable", "Mul"])
    let twoSQNR = try sqnr(int8Values(twoOps, 5, samples: test), f)
    #expect(fusedSQNR > twoSQNR + 1, "HARD_SWISH \(fusedSQNR) dB, LookupTable + Mul \(twoSQNR) dB")
  }

  /// A tensor read only by HardSwish is quantized from −3 up (everything
  /// below gives 0), one read only by HardSigmoid over its ramp; another
  /// reader, or being a model output, keeps the calibrated range.
  @Test func readersThatIgnoreValuesNarrowTheRange() throws {
    let calib = strokeImages(16, h: 6, w: 6, c: 3, seed: 1)
    // The conv output t: read by HardSigmoid (ramp [−3, 3]) and Mul before fusing, by HardSwish after.
    let g = try Self.graph()
    let r = try Quantizer.quantize(g, samples: calib)
    let st = r.stats[3]!
    #expect(st.min < -3.5, "the test needs conv values below −3: \(st.min)")
    let q = r.quantization[3]!
    // From −3 (the ends may be widened by up to two steps to reach it) to the calibrated maximum.
    #expect(q.dequantize(-128) <= -3 && q.dequantize(-128) >= -3 - 2 * q.scale && abs(q.dequantize(127) - st.max) <= q.scale)
    // The same graph with the rewrite off: t is read by Mul too, so it keeps its range.
    var o = Quantizer.Options()
    o.fuseHardSwish = false
    let q2 = try Quantizer.quantize(g, samples: calib, options: o).quantization[3]!
    #expect(abs(q2.dequantize(-128) - st.min) <= q2.scale)
    // HardSigmoid alone (alpha 1/4, beta 1/2: ramp [−2, 2]).
    var rng = SplitMix64(seed: 9)
    var hs = G.Node(kind: .hardSigmoid, inputs: [3], output: 4, origin: "hardsigmoid")
    hs.alpha = 0.25; hs.beta = 0.5
    let h = try G(tensors: [G.Tensor(name: "x", shape: [1, 6, 6, 3]),
                            G.Tensor(name: "w", shape: [4, 1, 1, 3], data: randomWeights(12, &rng, scale: 3)),
                            G.Tensor(name: "b", shape: [4], data: [0, 0, 0, 0]),
                            G.Tensor(name: "t", shape: [1, 6, 6, 4]), G.Tensor(name: "y", shape: [1, 6, 6, 4])],
                  nodes: [G.Node(kind: .conv2D, inputs: [0, 1, 2], output: 3, origin: "conv"), hs],
                  inputs: [0], outputs: [4])
    let rh = try Quantizer.quantize(h, samples: calib)
    #expect(rh.stats[3]!.min < -2 && rh.stats[3]!.max > 2)
    let qh = rh.quantization[3]!
    #expect(qh.dequantize(-128) <= -2 && qh.dequantize(-128) >= -2 - 2 * qh.scale)
    #expect(qh.dequantize(127) >= 2 && qh.dequantize(127) <= 2 + 2 * qh.scale)
    // A model output keeps its range.
    let h2 = try G(tensors: h.tensors, nodes: h.nodes, inputs: [0], outputs: [4, 3])
    let qo = try Quantizer.quantize(h2, samples: calib).quantization[3]!
    #expect(abs(qo.dequantize(-128) - rh.stats[3]!.min) <= qo.scale)
  }
}

@Suite struct SwishFusionQuantizeTests {
  /// Quantized, the fused form is one LookupTable whose output is the int8
  /// value nearest swish of its dequantized input (at most half a step off);
  /// Logistic + Mul (the gate at a 1/256 step, rounded twice) is further
  /// from it and from float.
  @Test func fusedQuantizationIsOneTableAndMoreAccurate() throws {
    let g = try HardSwishFusionTests.graph(sigmoid: true)
    let calib = strokeImages(16, h: 6, w: 6, c: 3, seed: 1), test = strokeImages(16, h: 6, w: 6, c: 3, seed: 2)
    var o = Quantizer.Options()
    let fused = try Quantizer.quantize(g, samples: calib)  // on by default
    o.fuseSwish = false
    let twoOps = try Quantizer.quantize(g, samples: calib, options: o)
    #expect(try RuntimeModel(bytes: fused.bytes).ops.map(\.typeName) == ["Conv2D", "LookupTable"])
    #expect(try RuntimeModel(bytes: twoOps.bytes).ops.map(\.typeName) == ["Conv2D", "Logistic", "Mul"])
    #expect(fused.fusedSwish == 1 && fused.fusedHardSwish == 0 && twoOps.fusedSwish == 0)
    /// Largest |int8 output − swish(int8 input)| in output steps, swish clamped
    /// to the output's range (the test images may reach beyond the calibrated one).
    func worstSteps(_ r: Quantizer.Result) throws -> Float {
      let xq = try int8Values(r, 3, samples: test), yq = try int8Values(r, 5, samples: test)
      let q = r.quantization[5]!, lo = q.dequantize(-128), hi = q.dequantize(127)
      var worst: Float = 0
      for (xs, ys) in zip(xq, yq) {
        for (x, y) in zip(xs, ys) { worst = max(worst, abs(y - min(max(x / (1 + exp(-x)), lo), hi)) / q.scale) }
      }
      return worst
    }
    let fusedWorst = try worstSteps(fused), twoWorst = try worstSteps(twoOps)
    #expect(fusedWorst <= 0.5001, "fused: worst \(fusedWorst) steps")
    #expect(twoWorst > 0.6, "Logistic + Mul: worst \(twoWorst) steps")
    let f = try floatValues(g, 5, samples: test)
    let fusedSQNR = try sqnr(int8Values(fused, 5, samples: test), f), twoSQNR = try sqnr(int8Values(twoOps, 5, samples: test), f)
    #expect(fusedSQNR > twoSQNR, "Swish table \(fusedSQNR) dB, Logistic + Mul \(twoSQNR) dB")
  }
}


@Suite struct BiasCorrectionTests {
  /// x [1,10,10,3] (MNIST-like background) → conv 3×3 (8) ReLU → depthwise 3×3 ReLU → conv 1×1 (6) → y.
  fileprivate static func graph() throws -> G {
    var rng = SplitMix64(seed: 12)
    var c1 = G.Node(kind: .conv2D, inputs: [0, 1, 2], output: 3, origin: "conv1")
    c1.padding = .same; c1.activation = .relu
    var dw = G.Node(kind: .depthwiseConv2D, inputs: [3, 4, 5], output: 6, origin: "dw")
    dw.padding = .same; dw.activation = .relu
    let c2 = G.Node(kind: .conv2D, inputs: [6, 7, 8], output: 9, origin: "conv2")
    return try G(
      tensors: [G.Tensor(name: "x", shape: [1, 10, 10, 3]),
                G.Tensor(name: "w1", shape: [8, 3, 3, 3], data: randomWeights(216, &rng, scale: 0.6)),
                G.Tensor(name: "b1", shape: [8], data: randomWeights(8, &rng, scale: 0.5)),
                G.Tensor(name: "a1", shape: [1, 10, 10, 8]),
                G.Tensor(name: "w2", shape: [1, 3, 3, 8], data: randomWeights(72, &rng, scale: 0.8)),
                G.Tensor(name: "b2", shape: [8], data: randomWeights(8, &rng, scale: 0.3)),
                G.Tensor(name: "a2", shape: [1, 10, 10, 8]),
                G.Tensor(name: "w3", shape: [6, 1, 1, 8], data: randomWeights(48, &rng, scale: 0.7)),
                G.Tensor(name: "b3", shape: [6], data: randomWeights(6, &rng, scale: 0.2)),
                G.Tensor(name: "y", shape: [1, 10, 10, 6])],
      nodes: [c1, dw, c2], inputs: [0], outputs: [9])
  }

  /// Corrected, the output's per-channel mean error on unseen images shrinks and its SQNR rises.
  @Test func correctionRemovesTheMeanErrorOnUnseenImages() throws {
    let g = try Self.graph()
    let calib = strokeImages(48, h: 10, w: 10, c: 3, seed: 21), test = strokeImages(48, h: 10, w: 10, c: 3, seed: 22)
    var o = Quantizer.Options()
    let plain = try Quantizer.quantize(g, samples: calib, options: o)
    o.biasCorrection = true
    let corrected = try Quantizer.quantize(g, samples: calib, options: o)
    let f = try floatValues(g, 9, samples: test)
    let qp = try int8Values(plain, 9, samples: test), qc = try int8Values(corrected, 9, samples: test)
    let mp = channelMeanErrors(qp, f, channels: 6).map(abs).max()!, mc = channelMeanErrors(qc, f, channels: 6).map(abs).max()!
    let step = Double(corrected.quantization[9]!.scale)
    #expect(mc < mp / 2, "largest channel mean error: corrected \(mc), plain \(mp) (output step \(step))")
    #expect(mc < 0.25 * step)
    let sp = sqnr(qp, f), sc = sqnr(qc, f)
    #expect(sc > sp + 0.5, "SQNR corrected \(sc) dB, plain \(sp) dB")
    // Only the biases differ: same ops, tensors and activation quantization.
    #expect(plain.quantization == corrected.quantization)
    #expect(plain.bytes.count == corrected.bytes.count && plain.bytes != corrected.bytes)
  }

  /// Off by default; weights fixed by the source model (ONNX QDQ) keep their bias.
  @Test func offByDefaultAndFixedWeightsAreKept() throws {
    var g = try Self.graph()
    let calib = strokeImages(8, h: 10, w: 10, c: 3, seed: 5)
    #expect(Quantizer.Options().biasCorrection == false)
    for (w, cout, axis) in [(1, 8, 0), (4, 8, 3), (7, 6, 0)] {
      let data = g.tensors[w].data!
      let inner = g.tensors[w].shape[(axis + 1)...].reduce(1, *)
      var scales = [Float](repeating: 0, count: cout)
      for i in data.indices { let c = (i / inner) % cout; scales[c] = max(scales[c], abs(data[i]) / 127) }
      g.tensors[w].fixedQuantization = .init(scales: scales, zeroPoints: [Int32](repeating: 0, count: cout), axis: axis)
    }
    var o = Quantizer.Options()
    let plain = try Quantizer.quantize(g, samples: calib, options: o)
    o.biasCorrection = true
    #expect(try Quantizer.quantize(g, samples: calib, options: o).bytes == plain.bytes)
  }
}
