// HardSwish (TFLite HARD_SWISH, int8): TFLM reference_ops::HardSwish with
// its int16 fixed-point arithmetic, as a byte table (ByteTable.swift).
//
// At load (float products and quotients as TFLM, then widened to double):
//   hires = s_in / 128, reluish scale = 3 / 32768,
//   (M_o, e_o) = QuantizeMultiplier(double(hires / s_out)),
//   (M_r, e_r) = QuantizeMultiplier(double(hires / reluish scale)),
//   each multiplier rounded to 16 bits (DownScaleInt32ToInt16Multiplier).
// Per input byte (all values int16, see `hardSwishElement`):
//   v = (x - zp_in) × 128; p = SRDHM16(v, M_o) (the input on the output scale);
//   r = v scaled by M_r × 2^e_r with saturation at ±1 (3.0 = 32768), mapped
//   from [-1, 1] to [0, 1]; out = RoundingDivideByPOT(SDHM16(r, p), -e_o) + zp_out,
//   clamped to int8.
// TFLM requires e_o <= 0; exponents whose int16 shifts leave 0...15
// (e_o < -15, e_r < -15 or e_r > 31: scale ratios beyond 2^8 or 2^30, where
// gemmlowp's int16 shifts are undefined) are refused.

struct HardSwishParams {
  var inputZeroPoint: Int32
  var outputZeroPoint: Int32
  var outputMultiplier: Int16
  var outputExponent: Int32
  var reluishMultiplier: Int16
  var reluishExponent: Int32
}

/// TFLM `DownScaleInt32ToInt16Multiplier`: the high 16 bits of a Q31
/// multiplier in [0, 2^31), rounded (ties up), saturating at 32767.
@inline(__always)
func downScaleInt32ToInt16Multiplier(_ m: Int32) -> Int16 {
  let roundingOffset: Int32 = 1 << 15
  if m >= Int32.max - roundingOffset { return Int16.max }
  return Int16(truncatingIfNeeded: (m &+ roundingOffset) >> 16)
}

/// gemmlowp int16 `SaturatingRoundingDoublingHighMul`: round(a × b / 2^15),
/// nudge ±2^14 and truncation toward zero as the C code; (-2^15)² saturates.
@inline(__always)
func saturatingRoundingDoublingHighMul16(_ a: Int16, _ b: Int16) -> Int16 {
  if a == b && a == Int16.min { return Int16.max }
  let ab = Int32(a) &* Int32(b)
  let nudge: Int32 = ab >= 0 ? (1 << 14) : (1 &- (1 << 14))
  return Int16(truncatingIfNeeded: (ab &+ nudge) / (1 << 15))
}

/// TFLM `SaturatingDoublingHighMul` (int16): a × b / 2^15 truncated toward
/// zero (no rounding); (-2^15)² saturates.
@inline(__always)
func saturatingDoublingHighMul16(_ a: Int16, _ b: Int16) -> Int16 {
  if a == b && a == Int16.min { return Int16.max }
  return Int16(truncatingIfNeeded: (Int32(a) &* Int32(b)) / (1 << 15))
}

/// gemmlowp `RoundingDivideByPOT` on int16, exponent 0...15 (ties away from zero).
@inline(__always)
func roundingDivideByPOT16(_ x: Int16, _ exponent: Int32) -> Int16 {
  Int16(truncatingIfNeeded: roundingDivideByPOT(Int32(x), exponent))
}

/// TFLM `SaturatingLeftShift` (int16): x × 2^amount clamped to int16, amount >= 0.
@inline(__always)
func saturatingLeftShift16(_ x: Int16, _ amount: Int32) -> Int16 {
  if x == 0 { return 0 }
  let a = amount > 16 ? 16 : amount          // |x| >= 1: 2^16 already saturates
  let v = Int32(x) &<< a
  return Int16(truncatingIfNeeded: v > 32767 ? 32767 : (v < -32768 ? -32768 : v))
}

/// One output byte of HardSwish for input byte x.
func hardSwishElement(_ p: HardSwishParams, _ x: Int32) -> Int8 {
  let inputValue = Int16(truncatingIfNeeded: x &- p.inputZeroPoint)             // -255...255
  let hires = Int16(truncatingIfNeeded: Int32(inputValue) &* 128)               // |.| <= 32640
  let preshiftOutput = saturatingRoundingDoublingHighMul16(hires, p.outputMultiplier)
  var reluish = hires
  if p.reluishExponent > 0 { reluish = saturatingLeftShift16(reluish, p.reluishExponent &- 1) }
  reluish = saturatingRoundingDoublingHighMul16(reluish, p.reluishMultiplier)
  if p.reluishExponent > 0 { reluish = saturatingLeftShift16(reluish, 1) }
  if p.reluishExponent < 0 { reluish = roundingDivideByPOT16(reluish, 0 &- p.reluishExponent) }
  // [-1, 1] -> [0, 1] in Q15: (r + 2^15) / 2, computed in int32 (0...65535 >> 1).
  reluish = Int16(truncatingIfNeeded: (Int32(reluish) &+ (1 << 15)) >> 1)
  let preshift = saturatingDoublingHighMul16(reluish, preshiftOutput)
  var out = Int32(roundingDivideByPOT16(preshift, 0 &- p.outputExponent))
  // int16 addition in TFLM; |out| < 2^15 and |zp| <= 128 keep it exact.
  out = Int32(Int16(truncatingIfNeeded: out &+ p.outputZeroPoint))
  return saturatingInt8(out)
}

enum HardSwishOp: RuntimeOp {
  static let name: StaticString = "HardSwish"
  static let arity = OpArity(inputs: 1...1)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int { byteTableBytes }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ByteTableData {
    let input = try ctx.elementwiseInput()
    let output = ctx.output
    let hiresInputScale: Float = (1.0 / 128.0) * input.scale
    let reluishScale: Float = 3.0 / 32768.0
    let (mOut, eOut) = quantizeMultiplier(Double(hiresInputScale / output.scale))
    let (mRel, eRel) = quantizeMultiplier(Double(hiresInputScale / reluishScale))
    if eOut > 0 {
      throw ctx.fail(.badOp, tensor: ctx.outputIndex(0),
                     "hard swish: input scale / output scale must be below 128 (TFLite Micro's output exponent <= 0)")
    }
    if eOut < -15 || eRel < -15 || eRel > 31 || mOut < 0 || mRel < 0 {
      throw ctx.fail(.badOp, tensor: ctx.outputIndex(0),
                     "hard swish: input/output scale ratio outside the int16 fixed-point range")
    }
    let p = HardSwishParams(inputZeroPoint: input.zeroPoint, outputZeroPoint: output.zeroPoint,
                            outputMultiplier: downScaleInt32ToInt16Multiplier(mOut), outputExponent: eOut,
                            reluishMultiplier: downScaleInt32ToInt16Multiplier(mRel), reluishExponent: eRel)
    return try ctx.byteTable { x in hardSwishElement(p, x) }
  }

  static func eval(_ data: UnsafePointer<ByteTableData>, _ ctx: OpEvalContext) { evalByteTable(data, ctx) }
}
