// GPTQ weight rounding (Quantizer.Options.weightRounding = .gptq, GPTQ.swift)
// against nearest rounding, on one-layer float graphs: a 3×3 convolution, a
// convolution with 2 groups, a depthwise convolution with multiplier 2 and a
// fully connected layer, each measured by the error its int8 weights add to
// its float output.
import CNNRuntime
import Foundation
import Synchronization
import Testing

@testable import CNNTools

private typealias G = FloatGraph

private func uniform(_ rng: inout SplitMix64, _ lo: Float, _ hi: Float) -> Float {
  lo + (hi - lo) * Float(Double(rng.next() >> 11) / Double(UInt64(1) << 53))
}

/// Smooth, correlated inputs (what makes rounding errors add up): per
/// sample a background level, a ramp along the last axis and a little noise.
private func smoothSamples(_ count: Int, shape: [Int], seed: UInt64) -> [[Float]] {
  var rng = SplitMix64(seed: seed)
  let n = shape.reduce(1, *), c = shape.last!
  return (0..<count).map { _ in
    let base = uniform(&rng, -0.5, 1.5), slope = uniform(&rng, -1, 1)
    let mix = (0..<c).map { _ in uniform(&rng, 0.5, 1.5) }
    return (0..<n).map { i in
      base * mix[i % c] + slope * Float(i / c % 8) / 8 + uniform(&rng, -0.1, 0.1)
    }
  }
}

private enum Layer: CaseIterable { case conv, groupedConv, depthwise, fullyConnected }

/// x → one weighted node → y, with seeded weights (no activation).
private func oneLayer(_ kind: Layer) throws -> G {
  var rng = SplitMix64(seed: 11)
  let (x, w, y, node): ([Int], [Int], [Int], G.Kind)
  switch kind {
  case .conv: (x, w, y, node) = ([1, 8, 8, 4], [6, 3, 3, 4], [1, 8, 8, 6], .conv2D)
  case .groupedConv: (x, w, y, node) = ([1, 8, 8, 4], [6, 3, 3, 2], [1, 8, 8, 6], .conv2D)
  case .depthwise: (x, w, y, node) = ([1, 8, 8, 4], [1, 3, 3, 8], [1, 8, 8, 8], .depthwiseConv2D)
  case .fullyConnected: (x, w, y, node) = ([1, 24], [5, 24], [1, 5], .fullyConnected)
  }
  let cout = y.last!
  var n = G.Node(kind: node, inputs: [0, 1, 2], output: 3, origin: "layer")
  n.padding = .same
  return try G(tensors: [G.Tensor(name: "x", shape: x),
                         G.Tensor(name: "w", shape: w, data: (0..<w.reduce(1, *)).map { _ in uniform(&rng, -1, 1) }),
                         G.Tensor(name: "b", shape: [cout], data: (0..<cout).map { _ in uniform(&rng, -0.2, 0.2) }),
                         G.Tensor(name: "y", shape: y)],
               nodes: [n], inputs: [0], outputs: [3])
}

/// The quantized model's int8 weights, dequantized, and their scales' bytes.
private func int8Weights(_ r: Quantizer.Result) throws -> [Float] {
  let model = try RuntimeModel(bytes: r.bytes)
  let op = try #require((0..<model.opCount).first { model.opOutputIndex($0) == r.tensorMap[3]!.index })
  return try #require(model.constantValues(model.ops[op].inputs[1]))
}

/// Σ over samples and outputs of (layer with weights `q` − layer with the float weights)².
private func weightError(_ g: G, _ q: [Float], _ samples: [[Float]]) throws -> Double {
  let float = try BiasCorrection.alone(g.nodes[0], g, weights: g.tensors[1].data!)
  let int8 = try BiasCorrection.alone(g.nodes[0], g, weights: q)
  var e = 0.0
  for s in samples {
    for (a, b) in zip(try int8.run([s])[0], try float.run([s])[0]) { e += Double(a - b) * Double(a - b) }
  }
  return e
}

private func quantize(_ g: G, _ samples: [[Float]], _ rounding: WeightRounding, perChannel: Bool = true) throws
  -> Quantizer.Result {
  var o = Quantizer.Options(perChannel: perChannel)
  o.weightRounding = rounding
  return try Quantizer.quantize(g, samples: samples, options: o)
}

@Suite struct GPTQTests {
  /// Per layer kind, per-channel and per-tensor weights: the same scales as
  /// nearest rounding, and less output error from the weights, on the
  /// calibration samples and on other samples. Measured when written (error
  /// gptq / nearest, calibration · held out; per channel, then per tensor):
  /// conv 0.14 · 0.15, 0.11 · 0.11; grouped conv (2 groups) 0.05 · 0.05,
  /// 0.16 · 0.16; depthwise 0.18 · 0.18, 0.16 · 0.16;
  /// fully connected 0.17 · 0.21, 0.29 · 0.34.
  @Test(arguments: Layer.allCases) fileprivate func gptqRoundingLowersTheLayersOutputError(_ kind: Layer) throws {
    let g = try oneLayer(kind)
    let shape = g.tensors[0].shape
    let calib = smoothSamples(256, shape: shape, seed: 1), held = smoothSamples(256, shape: shape, seed: 2)
    for perChannel in [true, false] {
      let near = try quantize(g, calib, .nearest, perChannel: perChannel)
      let gptq = try quantize(g, calib, .gptq, perChannel: perChannel)
      let wn = try int8Weights(near), wg = try int8Weights(gptq)
      #expect(wn != wg, "\(kind): GPTQ changed no weight")
      // Same scales: the largest |w| of each channel (or of the tensor) keeps its step.
      #expect(near.bytes.count == gptq.bytes.count)
      for set in [calib, held] {
        let en = try weightError(g, wn, set), eg = try weightError(g, wg, set)
        #expect(eg < 0.5 * en, "\(kind) perChannel \(perChannel): error gptq \(eg), nearest \(en)")
      }
    }
  }

  /// Every int8 weight stays within the grid of nearest rounding's scales:
  /// dequantized with the nearest model's scale it is a whole step, in [-127, 127].
  @Test func gptqKeepsTheScales() throws {
    let g = try oneLayer(.conv)
    let calib = smoothSamples(64, shape: g.tensors[0].shape, seed: 1)
    let wn = try int8Weights(try quantize(g, calib, .nearest)), wg = try int8Weights(try quantize(g, calib, .gptq))
    let f = g.tensors[1].data!
    for o in 0..<6 {
      let s = (0..<36).map { abs(f[o * 36 + $0]) }.max()! / 127
      for i in 0..<36 {
        let k = o * 36 + i
        #expect(abs(wn[k] - (f[k] / s).rounded() * s) <= s * 1e-3)
        let steps = wg[k] / s
        #expect(abs(steps - steps.rounded()) < 1e-3 && abs(steps) <= 127.001)
      }
    }
  }

  /// A layer with fewer than 8 patches per input (here a fully connected
  /// layer with 24 inputs and 100 samples) keeps nearest rounding: the model
  /// is byte for byte the nearest one. Default options round to nearest.
  @Test func tooFewPatchesKeepNearestRounding() throws {
    let g = try oneLayer(.fullyConnected)
    let calib = smoothSamples(100, shape: g.tensors[0].shape, seed: 1)
    let gptq = try quantize(g, calib, .gptq)
    #expect(gptq.bytes == (try quantize(g, calib, .nearest)).bytes)
    #expect(gptq.gptqRounded.isEmpty)
    #expect(try quantize(g, smoothSamples(200, shape: [1, 24], seed: 1), .gptq).gptqRounded == [3])
    #expect(Quantizer.Options().weightRounding == .nearest)
  }

  /// A layer with more inputs per output than the limit keeps nearest
  /// rounding (H would not fit in memory for a large classifier); at the
  /// limit it is rounded.
  @Test func layersAboveTheInputLimitKeepNearestRounding() throws {
    let g = try oneLayer(.conv)  // K = 3 × 3 × 4 = 36
    let calib = smoothSamples(32, shape: g.tensors[0].shape, seed: 1)
    let nearest = try Quantizer.quantizeWeights(g.tensors[1].data!, shape: [6, 3, 3, 4], axis: 0, perChannel: true).data
    #expect(try GPTQ.round(g, samples: calib, perChannel: true, maxInputs: 35).isEmpty)
    let atLimit = try #require(try GPTQ.round(g, samples: calib, perChannel: true, maxInputs: 36)[3])
    #expect(atLimit.count == nearest.count && atLimit != nearest)
  }

  /// The progress callback counts the calibration pass, then GPTQ's pass,
  /// up to `Quantizer.progressTotal` (what `cnnrt quantize` draws its bar to).
  @Test func progressCountsTheGPTQPass() throws {
    let g = try oneLayer(.conv)
    let calib = smoothSamples(40, shape: g.tensors[0].shape, seed: 1)
    let seen = Mutex<[(Int, Int)]>([])
    var o = Quantizer.Options()
    o.weightRounding = .gptq
    o.progress = { done, total in seen.withLock { $0.append((done, total)) } }
    _ = try Quantizer.quantize(g, samples: calib, options: o)
    let calls = seen.withLock { $0 }
    #expect(Quantizer.progressTotal(sampleCount: 40, options: o) == 80)
    #expect(calls.count == 80)
    #expect(calls.map(\.0) == Array(1...80))
    #expect(calls.last.map { $0.1 } == 80)
  }

  /// The factorisation behind the updates: H⁻¹ from H's Cholesky factor.
  @Test func inverseFromCholeskyInvertsASymmetricPositiveDefiniteMatrix() throws {
    var rng = SplitMix64(seed: 5)
    let k = 9
    let a = (0..<(k * 3 * k)).map { _ in Double(uniform(&rng, -1, 1)) }  // k × 3k
    var h = [Double](repeating: 0, count: k * k)
    for i in 0..<k { for j in 0..<k { for p in 0..<(3 * k) { h[i * k + j] += a[i * 3 * k + p] * a[j * 3 * k + p] } } }
    let l = try #require(GPTQ.cholesky(h, k))
    let inv = GPTQ.inverseFromCholesky(l, k)
    for i in 0..<k {
      for j in 0..<k {
        let v = (0..<k).reduce(0.0) { $0 + h[i * k + $1] * inv[$1 * k + j] }
        #expect(abs(v - (i == j ? 1 : 0)) < 1e-9)
      }
    }
    #expect(GPTQ.cholesky([1, 2, 2, 1], 2) == nil)  // indefinite
  }
}
