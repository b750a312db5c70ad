// MEAN, SUM and REDUCE_MAX over any set of axes of rank 1–5 inputs, against a
// written-out model of TFLM's int8 arithmetic (MeanPadTests' independent
// oracle pieces: QuantizeMultiplier on Double's exponent, the exact Int128
// MultiplyByQuantizedMultiplier, Int64 sums).
//
// Why a model and not TFLM here: TFLM's EvalMeanHelper / EvalSumHelper resolve
// the axes into a two-entry stack array (kMaxNumberOfReducedAxis = 2) that
// reference_ops::ResolveAxis fills without a bound, so MEAN and SUM over three
// or more axes are undefined behaviour there (tools/tflm/check_reduce_many_axes.py
// runs such models through TFLM against the same model, for the record). The
// TFLM goldens for rank 5 (manifest-reduce5.json: MEAN and SUM over one or
// two axes, REDUCE_MAX over up to five) are checked byte for byte by
// TFLMGoldenTests; this file covers what they cannot: 3–5 reduced axes of
// SUM and MEAN, and the loader's handling of the fifth axis bit.
//
// The model, per output (row-major over the kept axes):
//   acc = Σ x (Int64, exact) over the reduced elements, n of them
//   x'  = acc − zp_in × n, wrapped to Int32 (TFLM's int32 sum and cast)
//   SUM:  out = MBQM(x', M, s) + zp_out,   (M, s) = QuantizeMultiplier(in_scale / out_scale)
//   MEAN: out = MBQM(x', M', s') + zp_out, M' = (M << k) / n, s' = s − k,
//         k = min(floor(log2 n), 32, 31 + s)
//   clamped to [−128, 127].

import Foundation
import Testing
@testable import CNNRuntime
@testable import CNNTools

/// The elements of `x` (row-major `shape`) that each output of a reduction
/// over `axes` gathers, outputs in row-major order of the kept axes.
private func groups(_ x: [Int8], shape: [Int], axes: Set<Int>) -> [[Int8]] {
  let outShape = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
  var out = [[Int8]](repeating: [], count: outShape.reduce(1, *))
  for i in 0..<x.count {
    var rest = i, idx = [Int](repeating: 0, count: shape.count)
    for k in stride(from: shape.count - 1, through: 0, by: -1) { idx[k] = rest % shape[k]; rest /= shape[k] }
    var o = 0
    for k in 0..<shape.count { o = o * outShape[k] + (axes.contains(k) ? 0 : idx[k]) }
    out[o].append(x[i])
  }
  return out
}

/// TFLM's int8 SUM (`mean` false) or MEAN (`mean` true) of one group.
private func modelReduce(_ xs: [Int8], mean: Bool, inScale: Float, inZP: Int32, outScale: Float, outZP: Int32) -> Int8 {
  let n = xs.count
  var (m, s) = oracleQuantizeMultiplier(Double(inScale) / Double(outScale))
  if mean { (m, s) = oracleMeanRequant(inScale: inScale, outScale: outScale, n: n) }
  let acc = xs.reduce(Int64(0)) { $0 + Int64($1) } - Int64(inZP) * Int64(n)
  let v = oracleMBQM(Int32(truncatingIfNeeded: acc), m, s) + Int64(outZP)
  return Int8(min(max(v, -128), 127))
}

/// One reduction case: input shape, axes, keep_dims, quantization.
struct ReduceCase: CustomTestStringConvertible, Sendable {
  var shape: [Int]
  var axes: [Int]
  var keep: Bool
  var inScale: Float = 0.05, inZP: Int32 = 3, outScale: Float = 0.4, outZP: Int32 = -7
  var testDescription: String { "\(shape) axes \(axes) keep \(keep) zp \(inZP)→\(outZP)" }
}

/// Builds the one-op model, runs `x` through the C API.
private func run(_ code: OpCode, _ c: ReduceCase, _ x: [Int8]) throws -> (out: [Int8], shape: [Int]) {
  var b = ModelBuilder()
  let t = try b.addActivation(shape: c.shape, scale: c.inScale, zeroPoint: c.inZP, name: "x")
  let y: TensorID
  switch code {
  case .mean: y = try b.mean(t, axes: c.axes, keepDims: c.keep, outputScale: c.outScale, outputZeroPoint: c.outZP, name: "y")
  case .sum: y = try b.sum(t, axes: c.axes, keepDims: c.keep, outputScale: c.outScale, outputZeroPoint: c.outZP, name: "y")
  default: y = try b.reduceMax(t, axes: c.axes, keepDims: c.keep, name: "y")
  }
  try b.markInput(t)
  try b.markOutput(y)
  let model = try RuntimeModel(bytes: try b.serialize())
  return (try model.run(inputs: [x])[0], b.tensors[y.index].shape)
}

private func expectedShape(_ c: ReduceCase) -> [Int] {
  if c.keep { return c.shape.enumerated().map { c.axes.contains($0.offset) ? 1 : $0.element } }
  let kept = c.shape.enumerated().filter { !c.axes.contains($0.offset) }.map(\.element)
  return kept.isEmpty ? [1] : kept
}

/// Inputs: the first cases all −128 / all 127 (sums at the extremes), then LCG bytes.
private func inputs(_ c: ReduceCase, _ k: Int) -> [Int8] {
  let count = c.shape.reduce(1, *)
  switch k {
  case 0: return [Int8](repeating: -128, count: count)
  case 1: return [Int8](repeating: 127, count: count)
  default: return lcgInputs(count, seed: UInt64(k * 977 + c.shape.reduce(0, +)), zeroPoint: c.inZP, spread: k == 2 ? 4 : nil)
  }
}

/// SUM over three and four axes (rank 4 and 5), adjacent and not, both keep_dims,
/// zero points at both ends, output scales above and below the input's (right
/// and left rescale shifts).
let sumManyAxesCases: [ReduceCase] = [
  ReduceCase(shape: [2, 3, 4, 5], axes: [1, 2, 3], keep: true),
  ReduceCase(shape: [2, 3, 4, 5], axes: [0, 1, 2, 3], keep: false, inZP: -128, outScale: 1.5, outZP: -128),
  ReduceCase(shape: [2, 3, 4, 5], axes: [0, 1, 3], keep: false, inZP: 127, outScale: 0.9, outZP: 127),
  ReduceCase(shape: [2, 3, 2, 3, 5], axes: [0, 2, 4], keep: true, outScale: 0.03, outZP: 5),
  ReduceCase(shape: [2, 3, 2, 3, 5], axes: [1, 2, 3], keep: false, inZP: -128, outScale: 0.8, outZP: 60),
  ReduceCase(shape: [2, 3, 2, 3, 5], axes: [0, 1, 3, 4], keep: true, inZP: 127, outScale: 2.0, outZP: -100),
  ReduceCase(shape: [3, 2, 4, 2, 3], axes: [0, 1, 2, 4], keep: false, inScale: 0.01, inZP: 0, outScale: 0.003, outZP: 0),
]

/// MEAN over any axes of rank-5 inputs: single axes at either end, adjacent and
/// non-adjacent pairs (the ReduceView kernel), three to five axes.
let meanRank5Cases: [ReduceCase] = [
  ReduceCase(shape: [2, 3, 4, 5, 3], axes: [2, 3], keep: true, outScale: 0.05, outZP: 3),
  ReduceCase(shape: [2, 3, 4, 3, 5], axes: [1, 3], keep: false, outScale: 0.11, outZP: -30),
  ReduceCase(shape: [3, 2, 3, 2, 4], axes: [0, 4], keep: true, inZP: -128, outScale: 0.05, outZP: -128),
  ReduceCase(shape: [2, 2, 3, 2, 7], axes: [4], keep: false, inZP: 127, outScale: 0.02, outZP: 127),
  ReduceCase(shape: [5, 2, 3, 1, 4], axes: [0], keep: true),
  ReduceCase(shape: [2, 3, 4, 3, 5], axes: [1, 2, 3], keep: false, outScale: 0.03, outZP: 9),
  ReduceCase(shape: [2, 3, 2, 3, 5], axes: [0, 2, 4], keep: true, inZP: -128, outScale: 0.2, outZP: 20),
  ReduceCase(shape: [2, 3, 2, 3, 5], axes: [0, 1, 3, 4], keep: false),
  ReduceCase(shape: [2, 3, 2, 2, 3], axes: [0, 1, 2, 3, 4], keep: true, outScale: 0.05, outZP: 3),
  ReduceCase(shape: [2, 3, 2, 2, 3], axes: [0, 1, 2, 3, 4], keep: false, outScale: 0.01, outZP: -50),
]

@Suite struct Reduce5Tests {
  /// Six inputs of `c` through `code` (SUM or MEAN) against the written-out model.
  private func checkAgainstModel(_ code: OpCode, _ c: ReduceCase) throws {
    for k in 0..<6 {
      let x = inputs(c, k)
      let (got, shape) = try run(code, c, x)
      #expect(shape == expectedShape(c))
      let want = groups(x, shape: c.shape, axes: Set(c.axes)).map {
        modelReduce($0, mean: code == .mean, inScale: c.inScale, inZP: c.inZP, outScale: c.outScale, outZP: c.outZP)
      }
      #expect(got == want, "input \(k)")
    }
  }

  @Test(arguments: sumManyAxesCases)
  func sumOverThreeOrMoreAxesMatchesTFLMArithmetic(_ c: ReduceCase) throws { try checkAgainstModel(.sum, c) }

  @Test(arguments: meanRank5Cases)
  func meanOverAnyAxesOfRank5MatchesTFLMArithmetic(_ c: ReduceCase) throws { try checkAgainstModel(.mean, c) }

  /// The same axis sets with SUM (rank 5, one to five axes) and REDUCE_MAX.
  @Test(arguments: meanRank5Cases)
  func sumAndMaxOverAnyAxesOfRank5(_ c: ReduceCase) throws {
    for k in 0..<4 {
      let x = inputs(c, k)
      let g = groups(x, shape: c.shape, axes: Set(c.axes))
      let sum = try run(.sum, c, x).out
      #expect(sum == g.map { modelReduce($0, mean: false, inScale: c.inScale, inZP: c.inZP, outScale: c.outScale, outZP: c.outZP) })
      let max = try run(.reduceMax, c, x)
      #expect(max.shape == expectedShape(c))
      #expect(max.out == g.map { $0.max()! }, "input \(k)")
    }
  }

  /// Rank-5 records: the fifth axis bit is axis 4 of a rank-5 input, and past
  /// the rank of anything smaller; bit 5 and up are not axes; the output
  /// must match the mask. The files rank ≤ 4 models were written with (bits
  /// 0–3) load and mean what they meant (MeanPadLoaderTests).
  @Test func fifthAxisBitLoadsOnlyForRank5() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [2, 3, 4, 3, 5], scale: 0.05, zeroPoint: 3, name: "x")
    let y = try b.sum(x, axes: [1, 4], keepDims: false, outputScale: 0.3, outputZeroPoint: 0, name: "y")
    try b.markInput(x)
    try b.markOutput(y)
    let good = try b.serialize()
    let flag = OpRecord.meanAxesFlag
    #expect(loadFailure(good) == nil)
    #expect(loadFailure(editOp(good, 0) { $0.extra = flag | 0b1_0010 }) == nil)
    // The same output read as keep_dims [2, 1, 4, 3, 1].
    #expect(loadFailure(editTensor(good, 1) { $0.rank = 5; $0.dims = (2, 1, 4, 3, 1) }) == nil)
    expectLoadFailure(op: 0, editOp(good, 0) { $0.extra = flag | 0b0_0010 }, shapeMismatch5, "reduced axes")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.extra = flag | 0b10_0010 }, CNNStatus.badOp, "extra")
    expectLoadFailure(op: 0, editOp(good, 0) { $0.extra = 0 }, shapeMismatch5, "rank 4")
    expectLoadFailure(op: 0, editTensor(good, 1) { $0.rank = 3; $0.dims = (2, 4, 1, 0, 0) }, shapeMismatch5, "reduced axes")
    // Axis 4 of a rank-4 input is past its rank.
    var b4 = ModelBuilder()
    let x4 = try b4.addActivation(shape: [2, 3, 4, 5], scale: 0.05, zeroPoint: 3, name: "x")
    let y4 = try b4.reduceMax(x4, axes: [3], keepDims: true, name: "y")
    try b4.markInput(x4)
    try b4.markOutput(y4)
    expectLoadFailure(op: 0, editOp(try b4.serialize(), 0) { $0.extra = flag | 0b1_1000 }, CNNStatus.badOp, "past the input's rank")
  }
}

private let shapeMismatch5 = CNNStatus.shapeMismatch
