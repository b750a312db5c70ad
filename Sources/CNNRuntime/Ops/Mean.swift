// Mean (TFLite MEAN, int8, axes [1, 2] of an NHWC tensor) reference kernel:
// bit-exact with TFLM's int8 MEAN (reduce_common.cc EvalIntegerMean ->
// reference_ops::QuantizedMeanOrSum with compute_sum = false), which TFLM
// uses for keep_dims true and false and for equal or different input and
// output quantization alike.

/// Int8 MEAN parameters, prepared at load by `prepareMean`.
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
  let batches = inputShape.n, height = inputShape.h, width = inputShape.w, channels = inputShape.c
  guard batches > 0, height > 0, width > 0, channels > 0 else { return }
  let plane = height &* width
  for b in 0..<batches {
    let base = b &* plane &* channels
    for c in 0..<channels {
      var acc: Int32 = 0
      var i = base &+ c
      for _ in 0..<plane {
        acc = acc &+ Int32(input[i])
        i = i &+ channels
      }
      var v = multiplyByQuantizedMultiplier(acc &- params.inputZeroPointTimesCount, params.multiplier, params.shift)
        &+ params.outputZeroPoint
      v = v < -128 ? -128 : (v > 127 ? 127 : v)
      output[b &* channels &+ c] = Int8(truncatingIfNeeded: v)
    }
  }
}

// MARK: - Op unit

/// MEAN over axes [1, 2] of [N,H,W,C]: output [N,1,1,C] (keep_dims) or
/// [N,C], any per-tensor quantization; no fused activation, `extra` 0.
enum MeanOp: RuntimeOp {
  static let name: StaticString = "Mean"
  static let arity = OpArity(inputs: 1...1)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> MeanParams {
    let input = try ctx.activationInput(0, rank4: true)
    let output = ctx.output
    try ctx.requireNoActivation()
    if ctx.rec.extra != 0 { throw ctx.fail(.badOp, "mean: extra field must be 0") }
    let d = output.dims
    let keepDims = output.rank == 4 && d.n == input.dims.n && d.h == 1 && d.w == 1 && d.c == input.dims.c
    let dropDims = output.rank == 2 && d.w == input.dims.n && d.c == input.dims.c
    if !keepDims && !dropDims {
      throw ctx.fail(.shapeMismatch, "mean over H and W: output must be [N, 1, 1, C] or [N, C]")
    }
    let p = prepareMean(inputScale: input.scale, inputZeroPoint: input.zeroPoint,
                        outputScale: output.scale, outputZeroPoint: output.zeroPoint,
                        count: input.dims.h * input.dims.w)
    if p.shift > maxRequantLeftShift {
      throw ctx.fail(.badOp, tensor: ctx.outputIndex(0),
                     "mean: input scale / output scale too large (rescale shift above 31)")
    }
    return p
  }

  static func eval(_ data: UnsafePointer<MeanParams>, _ ctx: OpEvalContext) {
    meanReference(params: data.pointee, inputShape: ctx.inputDims(0), input: ctx.input(0), output: ctx.output)
  }
}
