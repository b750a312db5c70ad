// Mean (TFLite MEAN, ONNX ReduceMean; int8, any set of axes of a rank 1–5
// input) reference kernels: bit-exact with TFLM's int8 MEAN (reduce_common.cc
// EvalIntegerMean -> reference_ops::QuantizedMeanOrSum with compute_sum =
// false), which TFLM uses for keep_dims true and false and for equal or
// different input and output quantization alike. A contiguous run of axes
// is one [outer, reduced, inner] loop (and the ISA kernels' domain); other
// axis sets walk a `ReduceView`.

/// Int8 MEAN parameters, prepared at load by `prepareMean` (and SUM's, by
/// `prepareSum`).
public struct MeanParams {
  /// input_zero_point × (H × W), wrapped to 32 bits (subtracted from each sum).
  public var inputZeroPointTimesCount: Int32
  public var outputZeroPoint: Int32
  /// The requantization multiplier of input scale / output scale with the
  /// 1 / (H × W) of the mean folded in (see `prepareMean`).
  public var multiplier: Int32
  /// TFLite convention: positive = left shift.
  public var shift: Int32

  public init(inputZeroPointTimesCount: Int32, outputZeroPoint: Int32, multiplier: Int32, shift: Int32) {
    self.inputZeroPointTimesCount = inputZeroPointTimesCount; self.outputZeroPoint = outputZeroPoint
    self.multiplier = multiplier; self.shift = shift
  }
}

/// TFLM int8 MEAN Prepare plus the per-call rescaling of QuantizedMeanOrSum,
/// done once here since the reduced element count n = H × W is known at load:
///
/// 1. (M, s) = QuantizeMultiplier(double(inputScale) / double(outputScale));
/// 2. k = floor(log2 n), then k = min(k, 32), k = min(k, 31 + s);
/// 3. M' = (M × 2^k) / n with 64-bit truncating division, s' = s − k.
///
/// The kernel then computes, per (batch, channel),
/// out = clamp(MultiplyByQuantizedMultiplier(Σx − zp_in × n, M', s') + zp_out, −128, 127).
///
/// - count: n = H × W, 1 ... 2^31 − 1. Other values give multiplier 0.
/// - Scales: finite and positive (the loader checks). The result's shift s'
///   exceeds 31 only for scale ratios >= 2^31 (TFLM: undefined shift); the
///   loader rejects such models.
/// - No Int64, no libm and no 64-bit division helper: the 64-bit M × 2^k is a
///   (high, low) pair of UInt32 divided by `divideFullWidth`; the quotient is
///   <= M < 2^31 because 2^k <= n, so it never overflows.
public func prepareMean(inputScale: Float, inputZeroPoint: Int32, outputScale: Float, outputZeroPoint: Int32,
                        count: Int) -> MeanParams {
  let (m, s) = quantizeMultiplier(Double(inputScale) / Double(outputScale))
  var multiplier: Int32 = 0
  var shift: Int32 = s
  if count >= 1 && count <= Int(Int32.max) && m > 0 {
    let n = UInt32(truncatingIfNeeded: count)
    var k = 31 &- countLeadingZeros(n)          // floor(log2 n), 0 ... 30 (so min(k, 32) is k)
    if k > 31 &+ s { k = 31 &+ s }              // s >= -31 whenever m != 0, so k >= 0
    let um = UInt32(bitPattern: m)
    let high: UInt32 = k == 0 ? 0 : um &>> UInt32(truncatingIfNeeded: 32 &- k)
    let low: UInt32 = um &<< UInt32(truncatingIfNeeded: k)
    multiplier = Int32(bitPattern: divideFullWidth(high: high, low: low, by: n))
    shift = s &- k
  }
  let zpTimesCount = inputZeroPoint &* Int32(truncatingIfNeeded: count)
  return MeanParams(inputZeroPointTimesCount: zpTimesCount, outputZeroPoint: outputZeroPoint,
                    multiplier: multiplier, shift: shift)
}

/// floor((high × 2^32 + low) / divisor) for 1 <= divisor < 2^31 and
/// high < divisor (so the quotient fits 32 bits), by binary long division in
/// 32-bit arithmetic: no 64-bit division (which would need `__aeabi_uldivmod`
/// on 32-bit Arm). The remainder stays below divisor < 2^31, so doubling it
/// never overflows. Out-of-domain arguments give 0 (no trap).
func divideFullWidth(high: UInt32, low: UInt32, by divisor: UInt32) -> UInt32 {
  guard divisor >= 1, divisor < 0x8000_0000, high < divisor else { return 0 }
  var remainder = high
  var quotient: UInt32 = 0
  var bit: UInt32 = 32
  while bit > 0 {
    bit -= 1
    remainder = (remainder &<< 1) | ((low &>> bit) & 1)
    quotient = quotient &<< 1
    if remainder >= divisor {
      remainder = remainder &- divisor
      quotient |= 1
    }
  }
  return quotient
}

/// Int8 mean over H and W of an NHWC tensor; params from `prepareMean`.
///
/// - inputShape: [N, H, W, C]; output: N × C values, batch-major (the bytes of
///   [N, 1, 1, C] and of [N, C] are the same).
/// - For each (b, c): acc = Σ_{h,w} x[b, h, w, c] (wrapping Int32, as TFLM's
///   int32 temp sum), shifted = acc − zp_in × n (wrapping, as TFLM's cast of
///   the int64 difference to int32), out = MultiplyByQuantizedMultiplier(shifted,
///   M', s') + zp_out clamped to [−128, 127]. The sums are exact for n < 2^24.
/// - Rounding: double rounding of MultiplyByQuantizedMultiplier (round half up
///   in the high multiply, then half away from zero in the right shift); the
///   folded 1/n is truncated in M', exactly as TFLM.
///
/// Invalid shapes (non-positive dims) write nothing.
public func meanReference(
  params: MeanParams,
  inputShape: Dims4, input: UnsafePointer<Int8>,
  output: UnsafeMutablePointer<Int8>
) {
  guard inputShape.n > 0, inputShape.h > 0, inputShape.w > 0, inputShape.c > 0 else { return }
  meanReference(params: params, outer: inputShape.n, reduced: inputShape.h &* inputShape.w, inner: inputShape.c,
                input: input, output: output)
}

/// Int8 mean over a contiguous run of axes: the input seen as
/// [outer, reduced, inner] (row-major), output [outer, inner]; the
/// arithmetic of the H × W form above with n = `reduced` (params from
/// `prepareMean` with that count). Non-positive sizes write nothing.
public func meanReference(
  params: MeanParams, outer: Int, reduced: Int, inner: Int,
  input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>
) {
  guard outer > 0, reduced > 0, inner > 0 else { return }
  for b in 0..<outer {
    let base = b &* reduced &* inner
    for c in 0..<inner {
      var acc: Int32 = 0
      var i = base &+ c
      for _ in 0..<reduced {
        acc = acc &+ Int32(input[i])
        i = i &+ inner
      }
      var v = multiplyByQuantizedMultiplier(acc &- params.inputZeroPointTimesCount, params.multiplier, params.shift)
        &+ params.outputZeroPoint
      v = v < -128 ? -128 : (v > 127 ? 127 : v)
      output[b &* inner &+ c] = Int8(truncatingIfNeeded: v)
    }
  }
}

/// Int8 mean over the reduced axes of `view` (any set of axes, adjacent or
/// not; params from `prepareMean` with n = `view.count`): per output, row-major
/// over the kept axes, the arithmetic of the [outer, reduced, inner] form
/// above. The sum visits the reduced elements in a different order than
/// TFLM's ReduceSumImpl, which cannot change a wrapping int32 sum.
public func meanReference(params: MeanParams, view: ReduceView, input: UnsafePointer<Int8>,
                          output: UnsafeMutablePointer<Int8>) {
  // SUM's kernel is this one; only the prepared rescale (1/n folded in) differs.
  sumReference(params: params, view: view, input: input, output: output)
}

// MARK: - Op unit

/// What the Mean unit prepares: the rescale, and either the [outer,
/// reduced, inner] view of a contiguous run of reduced axes (`inner` > 0) or,
/// for axes with a kept axis between them, the general `view` (`inner` 0).
struct MeanData {
  var params: MeanParams
  var outer: Int
  var reduced: Int
  var inner: Int
  var view: ReduceView
}

/// MEAN over any set of axes of a rank 1–5 tensor. `extra` 0: axes [1, 2] of
/// a rank-4 input (the H and W of NHWC); otherwise `OpRecord.meanAxesFlag |
/// mask`, bit k of `mask` (bits 0–4) = axis k of the input reduced. The
/// output keeps the reduced axes as 1s (keep_dims) or drops them; any
/// per-tensor quantization; no fused activation. A contiguous run of axes
/// (every model before rank 5 and non-adjacent axes were allowed) keeps the
/// [outer, reduced, inner] reference kernel and the ISA kernels; other sets
/// go to the `ReduceView` reference kernel.
enum MeanOp: RuntimeOp {
  static let name: StaticString = "Mean"
  static let arity = OpArity(inputs: 1...1)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> MeanData {
    let input = try ctx.activationInput(0)
    let output = ctx.output
    try ctx.requireNoActivation()
    let mask = try ctx.reducedAxes(input)
    let view = try ctx.reduceView(input, output, mask: mask)
    let low = mask & (~mask &+ 1)
    let contiguous = (mask &+ low) & mask == 0
    // Contiguous: [outer, reduced, inner] with the kept dims before / after the run
    // (view.kept over the five right-aligned slots; the reduced ones are 1).
    var outer = 1, inner = 1
    if contiguous {
      let padded = mask << UInt32(truncatingIfNeeded: ModelFormat.maxRank - input.rank)
      var i = 0
      while i < ModelFormat.maxRank {
        if padded & (1 << UInt32(i)) == 0 {
          if padded >> UInt32(i) != 0 { outer *= view.kept[i] } else { inner *= view.kept[i] }
        }
        i += 1
      }
    } else {
      inner = 0
    }
    let p = prepareMean(inputScale: input.scale, inputZeroPoint: input.zeroPoint,
                        outputScale: output.scale, outputZeroPoint: output.zeroPoint, count: view.count)
    if p.shift > maxRequantLeftShift {
      throw ctx.fail(.badOp, tensor: ctx.outputIndex(0),
                     "mean: input scale / output scale too large (rescale shift above 31)")
    }
    return MeanData(params: p, outer: outer, reduced: view.count, inner: inner, view: view)
  }

  static func eval(_ data: UnsafePointer<MeanData>, _ ctx: OpEvalContext) {
    let m = data.pointee
    if m.inner == 0 {
      meanReference(params: m.params, view: m.view, input: ctx.input(0), output: ctx.output)
      return
    }
    if meanOptimized(isa: ctx.isa, params: m.params, outer: m.outer, reduced: m.reduced, inner: m.inner,
                     input: ctx.input(0), output: ctx.output) { return }
    meanReference(params: m.params, outer: m.outer, reduced: m.reduced, inner: m.inner,
                  input: ctx.input(0), output: ctx.output)
  }
}

// MARK: - Reduced axes (shared by MEAN, SUM and REDUCE_MAX)

/// A reduction of a rank 1–5 input, prepared at load: the input's five
/// right-aligned positions (slots 0–4; a rank-r input fills slots 5 − r …
/// 4, the others are 1s) walked as an outer loop over the kept positions
/// (`kept`, the reduced ones 1: the output, row-major) and an inner loop over
/// the reduced ones (`reduced`, the kept ones 1), both with the input's
/// row-major `strides`. Any set of axes, adjacent or not; every output sums
/// or compares the same elements as TFLM's ReduceGeneric / QuantizedMeanOrSum.
public struct ReduceView {
  public var kept = Ints5()
  public var reduced = Ints5()
  public var strides = Ints5()
  /// Elements reduced into each output (the product of `reduced`).
  public var count = 1

  public init() {}

  /// Calls `body` with the input offset of every point of `counts` (slots
  /// 0–4), row-major.
  @inline(__always)
  func forEachOffset(_ counts: Ints5, _ body: (Int) -> Void) {
    var a = 0
    for _ in 0..<counts[0] {
      var b = a
      for _ in 0..<counts[1] {
        var c = b
        for _ in 0..<counts[2] {
          var d = c
          for _ in 0..<counts[3] {
            var e = d
            for _ in 0..<counts[4] { body(e); e &+= strides[4] }
            d &+= strides[3]
          }
          c &+= strides[2]
        }
        b &+= strides[1]
      }
      a &+= strides[0]
    }
  }
}

extension OpPrepareContext {
  /// The reduced axes of a MEAN, SUM or REDUCE_MAX record as a mask over the
  /// input's axes (bit k = axis k): `extra` 0 = axes [1, 2] of a rank-4
  /// input; else `OpRecord.meanAxesFlag | mask` (`OpRecord.meanAxesMask`,
  /// bits 0–4: non-empty, within the input's rank 1–5). The flag is bit 9,
  /// clear of the five axis bits, so the rank ≤ 4 encodings (bits 0–3) load
  /// unchanged.
  func reducedAxes(_ input: TensorInfo) throws(LoadError) -> UInt32 {
    let rank = input.rank
    if rank < 1 || rank > ModelFormat.maxRank { throw fail(.shapeMismatch, "reduce: input must be rank 1 to 5") }
    let extra = rec.extra
    if extra == 0 {
      if rank != 4 { throw fail(.shapeMismatch, "reduce: extra 0 (axes 1 and 2) needs an input of rank 4") }
      return 0b0110
    }
    if extra & ~(OpRecord.meanAxesFlag | OpRecord.meanAxesMask) != 0 || extra & OpRecord.meanAxesFlag == 0 {
      throw fail(.badOp, "reduce: extra must be 0 or 0x200 | an axis mask (bits 0-4)")
    }
    let mask = extra & OpRecord.meanAxesMask
    if mask == 0 { throw fail(.badOp, "reduce: axis mask is empty") }
    if mask >> UInt32(truncatingIfNeeded: rank) != 0 { throw fail(.badOp, "reduce: axis mask names an axis past the input's rank") }
    return mask
  }

  /// The loops of reducing `input` over `mask`; checks that `output` is the
  /// input with the reduced axes set to 1 (keep_dims) or removed. Reads both
  /// full shapes from their records (rank 5 is not folded, as in `dims`).
  func reduceView(_ input: TensorInfo, _ output: TensorInfo, mask: UInt32) throws(LoadError) -> ReduceView {
    let shape = fullShape(Int(inputIndex(0)))
    let out = fullShape(outputIndex(0))
    let rank = shape.rank
    let lead = ModelFormat.maxRank - rank
    var v = ReduceView()
    var kept = Ints5()    // the kept input dims in order (the dropped output shape)
    var keptCount = 0
    var keepOK = out.rank == rank
    var stride = 1
    var slot = ModelFormat.maxRank - 1
    while slot >= 0 {
      let axis = slot - lead              // input axis in this slot, < 0 for the padding 1s
      let size = axis >= 0 ? shape.dims[axis] : 1
      v.strides[slot] = stride
      stride &*= size
      if axis >= 0 && mask & (1 << UInt32(truncatingIfNeeded: axis)) != 0 {
        v.kept[slot] = 1; v.reduced[slot] = size; v.count &*= size
        if keepOK && out.dims[axis] != 1 { keepOK = false }
      } else {
        v.kept[slot] = size; v.reduced[slot] = 1
        if axis >= 0 {
          if keepOK && out.dims[axis] != size { keepOK = false }
          keptCount += 1
        }
      }
      slot -= 1
    }
    // Kept dims in input order, for the dropped form ([1] when every axis is reduced).
    var k = 0, a = 0
    while a < rank {
      if mask & (1 << UInt32(truncatingIfNeeded: a)) == 0 { kept[k] = shape.dims[a]; k += 1 }
      a += 1
    }
    var dropOK = out.rank == max(keptCount, 1)
    if dropOK {
      if keptCount == 0 {
        dropOK = out.dims[0] == 1
      } else {
        var j = 0
        while j < keptCount { if out.dims[j] != kept[j] { dropOK = false }; j += 1 }
      }
    }
    if !keepOK && !dropOK {
      throw fail(.shapeMismatch, "reduce: output must be the input with the reduced axes set to 1 or removed")
    }
    return v
  }
}
