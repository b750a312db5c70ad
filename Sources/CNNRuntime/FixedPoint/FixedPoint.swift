// Fixed-point primitives of the int8 reference arithmetic, bit-exact with
// TensorFlow Lite Micro (TFLM) built with its defaults (double rounding,
// no TFLITE_EMULATE_FLOAT), and the gemmlowp fixed-point helpers TFLM uses
// for softmax and logistic.
//
// Notation. A "Qm" value is an Int32 raw integer r standing for r / 2^(31-m)
// (m integer bits, 31-m fractional bits, plus the sign bit): Q0 covers
// [-1, 1), Q5 covers [-32, 32). "ties up" means ties round toward +infinity,
// "ties away" means ties round away from zero.
//
// Everything here is integer-only except the `prepare*` / `quantize*` helpers
// at the end, which run at model load and use IEEE +, -, *, / and the Double
// bit pattern only (no libm: Double.rounded/floor/frexp may lower to libm
// calls on baseline x86-64, which the Embedded build cannot link).
//
// No Int64 either: Embedded Swift for 32-bit targets (armv7em) cannot convert
// Int32 -> Int64 or Int32 -> Float under -no-allocations (the generic
// conversion path is not specialised), so 64-bit products use
// multipliedFullWidth and everything else stays in 32 bits. This file and the
// reference kernels compile for x86-64 and armv7em-none-none-eabi.
//
// None of these functions traps on any input. Where TFLM has undefined
// behaviour (shift counts out of range, signed overflow) the result is the
// two's-complement wrap-around that TFLM produces on every real target, or is
// documented as "unspecified but no trap".

// MARK: - Core requantization primitives

/// gemmlowp `SaturatingRoundingDoublingHighMul` (ARM `VQRDMULH`): the Q0
/// product of two Q0 values.
///
/// - Operands: any Int32 values.
/// - Result: round(a * b / 2^31), ties up (the C code adds a nudge of 2^30 or
///   1 - 2^30 and truncates toward zero, which is the same thing), from the
///   exact 64-bit product (|a * b| <= 2^62).
/// - Overflow: the only unrepresentable result is
///   (Int32.min * Int32.min) / 2^31 = 2^31, which saturates to Int32.max.
@inline(__always)
public func saturatingRoundingDoublingHighMul(_ a: Int32, _ b: Int32) -> Int32 {
  if a == b && a == Int32.min { return Int32.max }
  // gemmlowp computes (ab + nudge) / 2^31 in int64 with C truncation,
  // nudge = 2^30 for ab >= 0 and 1 - 2^30 otherwise. Both branches equal
  // floor((ab + 2^30) / 2^31): for ab >= 0 truncation is floor; for ab = -m < 0,
  // trunc((1 - 2^30 - m) / 2^31) = -floor((m + 2^30 - 1) / 2^31)
  // = floor((2^30 - m) / 2^31).
  // The 64-bit product is formed as (high: Int32, low: UInt32) with
  // multipliedFullWidth (one SMULL on Arm, one IMUL on x86-64): Embedded
  // Swift on 32-bit targets cannot convert Int32 -> Int64 under
  // -no-allocations, and this form needs no Int64 at all.
  // floor((ab + 2^30) / 2^31) = (high' << 1) | (low' >> 31) after adding 2^30
  // to (high, low) with carry; |result| < 2^31, so the wrapping shift is exact.
  let product = a.multipliedFullWidth(by: b)
  let (low, carry) = product.low.addingReportingOverflow(0x4000_0000)
  let high = product.high &+ (carry ? 1 : 0)
  return (high &<< 1) | Int32(bitPattern: low &>> 31)
}

/// gemmlowp `RoundingDivideByPOT`: x / 2^exponent rounded to nearest, ties
/// away from zero (an arithmetic right shift plus a rounding correction).
///
/// - Operands: any x; exponent in 0...31 (other exponents: unspecified result,
///   no trap).
/// - Overflow: none; |result| <= |x| (and x >> e + 1 <= 2^30 for e >= 1).
@inline(__always)
public func roundingDivideByPOT(_ x: Int32, _ exponent: Int32) -> Int32 {
  // 2^exponent - 1; for exponent 31 the wrap gives Int32.max, as (1ll << 31) - 1.
  let mask = (Int32(1) &<< exponent) &- 1
  let remainder = x & mask
  let threshold = (mask >> 1) &+ (x < 0 ? 1 : 0)
  return (x &>> exponent) &+ (remainder > threshold ? 1 : 0)
}

/// TFLM `MultiplyByQuantizedMultiplier` (double rounding, the default build):
/// x * multiplier * 2^(shift - 31), computed as
/// `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x * 2^left, multiplier), right)`
/// with left = max(shift, 0), right = max(-shift, 0).
///
/// - Operands: any x; multiplier normally in [2^30, 2^31) (from
///   `quantizeMultiplier`), any Int32 accepted; shift in -31...31
///   (positive = left shift).
/// - Rounding: two roundings, first ties up (high mul) then ties away (shift);
///   the result can differ by 1 from the exactly rounded product. That is the
///   TFLM reference behaviour and is reproduced on purpose.
/// - Overflow: x * 2^left wraps modulo 2^32 exactly like the C expression
///   `x * (1 << left_shift)` on two's-complement targets; callers keep
///   |x| * 2^left < 2^31 (true for every TFLM use).
@inline(__always)
public func multiplyByQuantizedMultiplier(_ x: Int32, _ multiplier: Int32, _ shift: Int32) -> Int32 {
  let leftShift: Int32 = shift > 0 ? shift : 0
  let rightShift: Int32 = shift > 0 ? 0 : 0 &- shift
  return roundingDivideByPOT(
    saturatingRoundingDoublingHighMul(x &<< leftShift, multiplier), rightShift)
}

/// TFLM `MultiplyByQuantizedMultiplierSmallerThanOneExp` (shift <= 0). Equal
/// to `multiplyByQuantizedMultiplier` for every shift <= 0.
@inline(__always)
public func multiplyByQuantizedMultiplierSmallerThanOneExp(
  _ x: Int32, _ multiplier: Int32, _ leftShift: Int32
) -> Int32 {
  roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, multiplier), 0 &- leftShift)
}

/// TFLM `MultiplyByQuantizedMultiplierGreaterThanOne` (shift >= 0): a single
/// rounding, SRDHM(x * 2^leftShift, multiplier). Equal to
/// `multiplyByQuantizedMultiplier` for every shift >= 0. Same wrap rule for
/// x * 2^leftShift.
@inline(__always)
public func multiplyByQuantizedMultiplierGreaterThanOne(
  _ x: Int32, _ multiplier: Int32, _ leftShift: Int32
) -> Int32 {
  saturatingRoundingDoublingHighMul(x &<< leftShift, multiplier)
}

/// The output stage shared by Conv2D, DepthwiseConv2D and FullyConnected
/// (TFLM reference order): MultiplyByQuantizedMultiplier(acc, multiplier,
/// shift) + outputOffset, then max(., activationMin), then
/// min(., activationMax), then narrowed to int8. With activationMin/Max in
/// -128...127 the narrowing is exact; outside that range it truncates
/// (no trap). The offset addition cannot overflow: |MBQM result| <= 2^31 - 1
/// only when the real multiplier is >= 1, and zero points are in -128...127;
/// it wraps like TFLM if it ever did.
@inline(__always)
public func requantizeToInt8(_ acc: Int32, multiplier: Int32, shift: Int32,
                             outputOffset: Int32, activationMin: Int32,
                             activationMax: Int32) -> Int8 {
  var v = multiplyByQuantizedMultiplier(acc, multiplier, shift) &+ outputOffset
  v = v < activationMin ? activationMin : v
  v = v > activationMax ? activationMax : v
  return Int8(truncatingIfNeeded: v)
}

// MARK: - gemmlowp fixed-point helpers (softmax, logistic)

/// gemmlowp `SaturatingRoundingMultiplyByPOT<exponent>`: x * 2^exponent.
/// exponent > 0: left shift saturating to Int32.min / Int32.max (x is
/// saturated when |x| > 2^(31-exponent) - 1, as gemmlowp does);
/// exponent < 0: `roundingDivideByPOT(x, -exponent)` (ties away);
/// exponent == 0: x. exponent in -31...31.
@inline(__always)
public func saturatingRoundingMultiplyByPOT(_ x: Int32, _ exponent: Int32) -> Int32 {
  if exponent == 0 { return x }
  if exponent < 0 { return roundingDivideByPOT(x, 0 &- exponent) }
  let threshold = (Int32(1) &<< (31 &- exponent)) &- 1
  if x > threshold { return Int32.max }
  if x < 0 &- threshold { return Int32.min }
  return x &<< exponent
}

/// gemmlowp `RoundingHalfSum` for int32: (a + b) / 2 rounded to nearest, ties
/// away from zero. Any operands; no overflow.
///
/// gemmlowp evaluates (S + sign(S)) / 2 in int64 with C truncation, S = a + b.
/// For S >= 0 that is floor((S + 1) / 2); for S < 0 it is
/// -floor((1 - S) / 2) = floor(S / 2). Both are computed from the halves of a
/// and b without forming S: floor(S / 2) = (a >> 1) + (b >> 1) + (a & b & 1),
/// floor((S + 1) / 2) = (a >> 1) + (b >> 1) + ((a | b) & 1), and
/// S >= 0 exactly when floor(S / 2) >= 0.
@inline(__always)
public func roundingHalfSum(_ a: Int32, _ b: Int32) -> Int32 {
  let halves = (a >> 1) &+ (b >> 1)
  let floorHalf = halves &+ (a & b & 1)
  if floorHalf >= 0 { return halves &+ ((a | b) & 1) }
  return floorHalf
}

/// TFLM `CountLeadingZeros<uint32_t>`: number of leading zero bits, 32 for 0.
@inline(__always)
public func countLeadingZeros(_ x: UInt32) -> Int32 {
  Int32(truncatingIfNeeded: x.leadingZeroBitCount)
}

/// gemmlowp `exp_on_interval_between_negative_one_quarter_and_0_excl`:
/// exp(a) for a Q0 input a in [-1/4, 0), result Q0. Fourth-order Taylor
/// expansion around -1/8 with gemmlowp's constants. All intermediate values
/// are in (-1, 1), so no operation saturates or wraps on that interval.
@inline(__always)
public func expOnIntervalBetweenNegativeOneQuarterAnd0Excl(_ a: Int32) -> Int32 {
  let constantTerm: Int32 = 1_895_147_668      // exp(-1/8) in Q0
  let constantOneThird: Int32 = 715_827_883    // 1/3 in Q0
  let x = a &+ (1 << 28)                       // a + 1/8
  let x2 = saturatingRoundingDoublingHighMul(x, x)
  let x3 = saturatingRoundingDoublingHighMul(x2, x)
  let x4 = saturatingRoundingDoublingHighMul(x2, x2)
  let x4Over4 = roundingDivideByPOT(x4, 2)
  let x4Over24PlusX3Over6PlusX2Over2 = roundingDivideByPOT(
    saturatingRoundingDoublingHighMul(x4Over4 &+ x3, constantOneThird) &+ x2, 1)
  return constantTerm
    &+ saturatingRoundingDoublingHighMul(constantTerm, x &+ x4Over24PlusX3Over6PlusX2Over2)
}

/// One step of gemmlowp's exp barrel shifter: multiply by exp(-2^exponent)
/// when the corresponding bit of `remainder` is set.
@inline(__always)
func expBarrelStep(_ result: inout Int32, remainder: Int32, integerBits: Int32,
                   fractionalBits: Int32, exponent: Int32, multiplier: Int32) {
  if integerBits > exponent {
    let bit = Int32(1) &<< (fractionalBits &+ exponent)
    if remainder & bit != 0 {
      result = saturatingRoundingDoublingHighMul(result, multiplier)
    }
  }
}

/// gemmlowp `exp_on_negative_values`: exp(a) for a Q`integerBits` input
/// a <= 0, result Q0 (exp(0) = Int32.max, the Q0 "one").
///
/// - integerBits: 0...29 (5 for softmax, 4 for logistic).
/// - Method: a = (a mod 1/4 - 1/4) - r, exp of the first part by
///   `expOnIntervalBetweenNegativeOneQuarterAnd0Excl`, then one multiply by
///   exp(-2^k) per set bit k of r (k = -2...4, limited by integerBits); for
///   integerBits > 5 inputs below -32 give 0.
/// - Positive inputs are outside the domain (result unspecified, no trap).
@inline(__always)
public func expOnNegativeValues(_ a: Int32, integerBits: Int32) -> Int32 {
  let fractionalBits = 31 &- integerBits
  let oneQuarter = Int32(1) &<< (fractionalBits &- 2)
  let mask = oneQuarter &- 1
  let aModQuarterMinusOneQuarter = (a & mask) &- oneQuarter
  var result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(
    saturatingRoundingMultiplyByPOT(aModQuarterMinusOneQuarter, integerBits))
  let remainder = aModQuarterMinusOneQuarter &- a
  // exp(-1/4), exp(-1/2), exp(-1), exp(-2), exp(-4), exp(-8), exp(-16) in Q0.
  expBarrelStep(&result, remainder: remainder, integerBits: integerBits,
                fractionalBits: fractionalBits, exponent: -2, multiplier: 1_672_461_947)
  expBarrelStep(&result, remainder: remainder, integerBits: integerBits,
                fractionalBits: fractionalBits, exponent: -1, multiplier: 1_302_514_674)
  expBarrelStep(&result, remainder: remainder, integerBits: integerBits,
                fractionalBits: fractionalBits, exponent: 0, multiplier: 790_015_084)
  expBarrelStep(&result, remainder: remainder, integerBits: integerBits,
                fractionalBits: fractionalBits, exponent: 1, multiplier: 290_630_308)
  expBarrelStep(&result, remainder: remainder, integerBits: integerBits,
                fractionalBits: fractionalBits, exponent: 2, multiplier: 39_332_535)
  expBarrelStep(&result, remainder: remainder, integerBits: integerBits,
                fractionalBits: fractionalBits, exponent: 3, multiplier: 720_401)
  expBarrelStep(&result, remainder: remainder, integerBits: integerBits,
                fractionalBits: fractionalBits, exponent: 4, multiplier: 242)
  if integerBits > 5 {
    let clamp = 0 &- (Int32(1) &<< (36 &- integerBits))  // -32 in Q(integerBits)
    if a < clamp { result = 0 }
  }
  if a == 0 { result = Int32.max }
  return result
}

/// 2 / (1 + a) in Q2 for a Q0 input a in [0, 1): gemmlowp's Newton-Raphson
/// reciprocal of d = (1 + a) / 2, three iterations starting from
/// 48/17 - 32/17 * d. Shared by the two functions below.
@inline(__always)
func reciprocalOfHalfOnePlusXQ2(_ a: Int32) -> Int32 {
  let halfDenominator = roundingHalfSum(a, Int32.max)          // Q0
  let constant48Over17: Int32 = 1_515_870_810                  // Q2
  let constantNeg32Over17: Int32 = -1_010_580_540              // Q2
  var x = constant48Over17 &+ saturatingRoundingDoublingHighMul(halfDenominator, constantNeg32Over17)
  var i = 0
  while i < 3 {
    let halfDenominatorTimesX = saturatingRoundingDoublingHighMul(halfDenominator, x)  // Q2
    let oneMinusHalfDenominatorTimesX = (Int32(1) << 29) &- halfDenominatorTimesX   // Q2
    // Q2 * Q2 = Q4, rescaled to Q2 by a saturating left shift of 2.
    x = x &+ saturatingRoundingMultiplyByPOT(
      saturatingRoundingDoublingHighMul(x, oneMinusHalfDenominatorTimesX), 2)
    i += 1
  }
  return x
}

/// gemmlowp `one_over_one_plus_x_for_x_in_0_1`: 1 / (1 + a) for a Q0 input
/// a in [0, 1), result Q0 in (1/2, 1].
@inline(__always)
public func oneOverOnePlusXForXIn01(_ a: Int32) -> Int32 {
  // x / 2 reinterpreted as Q1 (exact), then rescaled Q1 -> Q0.
  saturatingRoundingMultiplyByPOT(reciprocalOfHalfOnePlusXQ2(a), 1)
}

/// gemmlowp `logistic`: 1 / (1 + exp(-a)) for a Q`integerBits` input (any
/// value whose negation does not wrap), result Q0. logistic(0) = 1/2 exactly
/// (raw 2^30); negative inputs use 1 - logistic(-a) with 1 = Int32.max.
@inline(__always)
public func logisticFixedPoint(_ a: Int32, integerBits: Int32) -> Int32 {
  if a == 0 { return 1 << 30 }
  if a > 0 {
    return oneOverOnePlusXForXIn01(expOnNegativeValues(0 &- a, integerBits: integerBits))
  }
  return Int32.max &- oneOverOnePlusXForXIn01(expOnNegativeValues(a, integerBits: integerBits))
}

/// gemmlowp `one_minus_x_over_one_plus_x_for_x_in_0_1`: (1 - a) / (1 + a)
/// for a Q0 input a in [0, 1), result Q0 in (0, 1]: x - 1 for x = 2 / (1 + a)
/// in Q2, rescaled Q2 -> Q0 (saturating left shift of 2).
@inline(__always)
public func oneMinusXOverOnePlusXForXIn01(_ a: Int32) -> Int32 {
  saturatingRoundingMultiplyByPOT(reciprocalOfHalfOnePlusXQ2(a) &- (Int32(1) << 29), 2)
}

/// gemmlowp `tanh`: tanh(a) for a Q`integerBits` input, result Q0.
/// tanh(0) = 0; for a != 0, with n = -|a|, tanh(|a|) = (1 - e^(2n)) / (1 + e^(2n))
/// where 2n is n's raw value read as Q(integerBits + 1) (gemmlowp's
/// ExactMulByPot<1>), and the sign of a is applied at the end.
/// integerBits in 0...28; a must not be Int32.min.
@inline(__always)
public func tanhFixedPoint(_ a: Int32, integerBits: Int32) -> Int32 {
  if a == 0 { return 0 }
  let n = a < 0 ? a : 0 &- a
  let t = oneMinusXOverOnePlusXForXIn01(expOnNegativeValues(n, integerBits: integerBits &+ 1))
  return a < 0 ? 0 &- t : t
}

/// TFLM `GetReciprocal`: for x > 0 holding a Q`integerDigits` value, returns
/// (reciprocal, numBitsOverUnit) with 1/x = reciprocal / 2^31 / 2^numBitsOverUnit,
/// reciprocal in Q0. x is normalised to [1, 2) by its leading zeros and
/// `oneOverOnePlusXForXIn01` gives 1 / (1 + fraction).
/// x <= 0 is outside the domain (unspecified result, no trap).
@inline(__always)
public func getReciprocal(_ x: Int32, integerDigits: Int32) -> (reciprocal: Int32, numBitsOverUnit: Int32) {
  let ux = UInt32(bitPattern: x)
  let headroomPlusOne = countLeadingZeros(ux)
  let numBitsOverUnit = integerDigits &- headroomPlusOne
  let shiftedSumMinusOne = Int32(bitPattern: (ux &<< UInt32(bitPattern: headroomPlusOne)) &- (1 << 31))
  return (oneOverOnePlusXForXIn01(shiftedSumMinusOne), numBitsOverUnit)
}

/// TFLM `CalculateInputRadius`: floor(((2^inputIntegerBits - 1) *
/// 2^(totalSignedBits - inputIntegerBits)) / 2^inputLeftShift), the largest
/// input difference whose rescaled value still fits the fixed-point range.
///
/// TFLM evaluates this in double then calls std::floor; the numerator is an
/// integer below 2^31 and the division is by a power of two, so the double
/// value is exact and the floor equals a right shift, done here in UInt32
/// (this is also TFLM's TFLITE_EMULATE_FLOAT formula).
/// - Requires 0 <= inputIntegerBits <= totalSignedBits <= 31 (other values
///   give 0); the numerator is then below 2^31 and everything fits Int32.
/// - inputLeftShift >= 32 gives 0; inputLeftShift < 0 (TFLM: undefined)
///   shifts left, saturating to Int32.max.
public func calculateInputRadius(inputIntegerBits: Int32, inputLeftShift: Int32,
                                 totalSignedBits: Int32 = 31) -> Int32 {
  guard inputIntegerBits >= 0, inputIntegerBits <= totalSignedBits, totalSignedBits <= 31 else {
    return 0
  }
  let numerator = UInt32((UInt32(1) &<< UInt32(inputIntegerBits)) &- 1)
    &<< UInt32(totalSignedBits &- inputIntegerBits)
  if inputLeftShift >= 0 {
    if inputLeftShift >= 32 { return 0 }
    return Int32(bitPattern: numerator &>> UInt32(inputLeftShift))
  }
  if numerator == 0 { return 0 }
  let up = 0 &- inputLeftShift
  // up < 0 only for inputLeftShift == Int32.min (the negation wraps).
  if up < 0 || up >= 31 || numerator > (UInt32(Int32.max) &>> UInt32(up)) { return Int32.max }
  return Int32(bitPattern: numerator &<< UInt32(up))
}

// MARK: - Load-time helpers (floating point allowed; no libm)

/// frexp + round-half-away of q * 2^31, on the IEEE-754 bit pattern.
///
/// For finite non-zero x returns (m, e) with x = q * 2^e, |q| in [0.5, 1),
/// and m = round-half-away(|q| * 2^31) in [2^30, 2^31] (the magnitude; the
/// caller applies the sign). Returns nil for 0, infinities and NaN.
///
/// Why this is exact: a double is s * 2^k with an integer significand
/// s in [2^52, 2^53) after normalising subnormals, so q = s / 2^53 and
/// q * 2^31 = s / 2^22; rounding half away from zero of a positive value is
/// (s + 2^21) >> 22.
@inline(__always)
func frexpRoundedQ31(_ x: Double) -> (magnitude: UInt32, exponent: Int32, negative: Bool)? {
  let bits = x.bitPattern
  let negative = (bits & 0x8000_0000_0000_0000) != 0
  var biasedExponent = Int32(truncatingIfNeeded: (bits &>> 52) & 0x7FF)
  var significand = bits & 0x000F_FFFF_FFFF_FFFF
  if biasedExponent == 0x7FF { return nil }           // inf, NaN
  if biasedExponent == 0 {
    if significand == 0 { return nil }                 // +-0
    // Subnormal: x = significand * 2^-1074. Normalise so that bit 52 is set.
    while significand & 0x0010_0000_0000_0000 == 0 {
      significand = significand &<< 1
      biasedExponent -= 1
    }
    biasedExponent += 1
  } else {
    significand |= 0x0010_0000_0000_0000
  }
  // x = significand * 2^(biasedExponent - 1075) = (significand / 2^53) * 2^(biasedExponent - 1022);
  // (significand + 2^21) >> 22 is in [2^30, 2^31].
  let magnitude = UInt32(truncatingIfNeeded: (significand &+ 0x20_0000) &>> 22)
  return (magnitude, biasedExponent - 1022, negative)
}

/// TFLM `QuantizeMultiplier`: real = multiplier * 2^(shift - 31) with
/// multiplier in [2^30, 2^31) (for real > 0).
///
/// q = frexp(real, &shift); m = round-half-away(q * 2^31); if m == 2^31 then
/// m = 2^30, shift += 1; if shift < -31 then (0, 0) (flush tiny values to
/// zero). real == 0 gives (0, 0). Implemented on the bit pattern (see
/// `frexpRoundedQ31`), bit-identical to TFLM's frexp/round version for every
/// finite double, subnormals included. Negative reals mirror TFLM (the
/// 2^31 fix-up applies only to positive values; -2^31 stays Int32.min).
/// Infinities and NaN (undefined in TFLM) give (0, 0).
public func quantizeMultiplier(_ real: Double) -> (multiplier: Int32, shift: Int32) {
  guard let (m, e, negative) = frexpRoundedQ31(real) else { return (0, 0) }
  var magnitude = m
  var shift = e
  if !negative && magnitude == 0x8000_0000 {
    magnitude = 0x4000_0000
    shift += 1
  }
  if shift < -31 { return (0, 0) }
  // Two's-complement negation of the magnitude: -2^31 stays Int32.min.
  let signed = negative ? 0 &- magnitude : magnitude
  return (Int32(bitPattern: signed), shift)
}

/// TFLM `QuantizeMultiplierGreaterThanOne`: `quantizeMultiplier` for real > 1
/// (shift >= 1). TFLM aborts outside that range; here the caller validates.
@inline(__always)
public func quantizeMultiplierGreaterThanOne(_ real: Double) -> (multiplier: Int32, shift: Int32) {
  quantizeMultiplier(real)
}

/// TFLM `QuantizeMultiplierSmallerThanOneExp`: `quantizeMultiplier` for
/// 0 < real < 1 (shift <= 0). TFLM aborts outside that range; here the caller
/// validates.
@inline(__always)
public func quantizeMultiplierSmallerThanOneExp(_ real: Double) -> (multiplier: Int32, shift: Int32) {
  quantizeMultiplier(real)
}

/// Round half away from zero of a Float (C `roundf`, what TFLM's TfLiteRound
/// does for float) without libm and without integer <-> float conversions
/// (Embedded Swift cannot convert Int32 -> Float on 32-bit targets under
/// -no-allocations). For a = |x| < 2^23, (a + 2^23) - 2^23 is a rounded to an
/// integer (ties to even, exact IEEE steps) and a - r is exact; a tie that
/// went down (a - r == 0.5) is moved up. |x| >= 2^23 is already integral.
@inline(__always)
func roundHalfAwayFromZero(_ x: Float) -> Float {
  let a = x.magnitude
  if !(a < 8_388_608) { return x }             // integral, infinite or NaN
  var r = (a + 8_388_608) - 8_388_608
  if a - r >= 0.5 { r += 1 }
  return x < 0 ? -r : r
}

/// TFLM `Quantize(scale, zero_point, f)` as used by
/// `CalculateActivationRangeQuantized`: zero_point + (int)round(f / scale),
/// the division and rounding in float. Values beyond Int32 (where TFLM
/// reports an error) saturate instead of trapping; NaN (0 / 0) gives nil.
@inline(__always)
func quantizeForActivation(_ f: Float, scale: Float, zeroPoint: Int32) -> Int32? {
  let t = roundHalfAwayFromZero(f / scale)
  if t.isNaN { return nil }
  if t >= 2_147_483_648 { return Int32.max }
  if t < -2_147_483_648 { return Int32.min }
  let (q, overflow) = zeroPoint.addingReportingOverflow(Int32(t))
  if overflow { return t > 0 ? Int32.max : Int32.min }
  return q
}

/// TFLM `CalculateActivationRangeQuantized` for an int8 output, generalised
/// to a real-valued clamp interval:
/// - no activation: `realMin: nil, realMax: nil` -> (-128, 127)
/// - ReLU:          `realMin: 0,   realMax: nil`
/// - ReLU6:         `realMin: 0,   realMax: 6`
/// - ReLU_N1_TO_1:  `realMin: -1,  realMax: 1`
/// Each bound is quantized as zeroPoint + round(real / scale) (float
/// division, round half away, as TfLiteRound(float)) and intersected with
/// [-128, 127]: min = max(-128, q(realMin)), max = min(127, q(realMax)).
public func quantizedActivationRange(realMin: Float?, realMax: Float?,
                                     outputScale: Float, outputZeroPoint: Int32)
  -> (min: Int32, max: Int32)
{
  var lo: Int32 = -128
  var hi: Int32 = 127
  if let realMin, let q = quantizeForActivation(realMin, scale: outputScale, zeroPoint: outputZeroPoint) {
    if q > lo { lo = q }
  }
  if let realMax, let q = quantizeForActivation(realMax, scale: outputScale, zeroPoint: outputZeroPoint) {
    if q < hi { hi = q }
  }
  return (lo, hi)
}

/// Per-channel requantization of Conv2D / DepthwiseConv2D / FullyConnected,
/// as TFLM `PopulateConvolutionQuantizationParams` /
/// `GetQuantizedConvolutionMultipler`: effective scale
/// double(inputScale) * double(filterScale) / double(outputScale), then
/// `quantizeMultiplier`.
public func convRequant(inputScale: Float, filterScale: Float, outputScale: Float)
  -> (multiplier: Int32, shift: Int32)
{
  let effective = Double(inputScale) * Double(filterScale) / Double(outputScale)
  return quantizeMultiplier(effective)
}

/// Integer bits of softmax's scaled differences (x − max) · beta, the
/// exponential's input format: TFLM's kScaledDiffIntegerBits.
let softmaxDiffIntegerBits: Int32 = 5

/// TFLM int8 softmax Prepare (`CalculateSoftmaxParams` ->
/// `PreprocessSoftmaxScaling(beta, input_scale, kScaledDiffIntegerBits = 5)`):
/// real = min(double(beta) * double(inputScale) * 2^26, 2^31 - 1),
/// (multiplier, leftShift) = QuantizeMultiplierGreaterThanOne(real),
/// diffMin = -CalculateInputRadius(5, leftShift).
/// TFLM requires real > 1 (beta * inputScale > 2^-26); the loader checks it.
public func prepareSoftmax(inputScale: Float, beta: Float) -> SoftmaxParams {
  let maxRealMultiplier: Double = 2_147_483_647          // (1LL << 31) - 1.0
  let product = Double(beta) * Double(inputScale) * Double(Int64(1) &<< Int64(31 &- softmaxDiffIntegerBits))
  // std::min<double>(a, b) returns (b < a) ? b : a.
  let real = maxRealMultiplier < product ? maxRealMultiplier : product
  let (multiplier, shift) = quantizeMultiplierGreaterThanOne(real)
  let radius = calculateInputRadius(inputIntegerBits: softmaxDiffIntegerBits, inputLeftShift: shift)
  return SoftmaxParams(inputMultiplier: multiplier, inputLeftShift: shift, diffMin: 0 &- radius)
}

/// TFLM int8 logistic Prepare (`CalculateArithmeticOpDataLogistic`,
/// kInputIntegerBits = 4): real = double(inputScale) * 2^27;
/// q = frexp(real, &leftShift); multiplier = (int32)round(q * 2^31) (no 2^31
/// fix-up in TFLM: with a Float scale q has 24 significant bits, so
/// q * 2^31 <= 2^31 - 2^7 and the fix-up is never needed; we saturate anyway);
/// radius = CalculateInputRadius(4, leftShift, 31).
public func prepareLogistic(inputScale: Float, inputZeroPoint: Int32) -> LogisticParams {
  let real = Double(inputScale) * 134_217_728   // * (1 << (31 - 4))
  var multiplier: Int32 = 0
  var shift: Int32 = 0
  if let (magnitude, exponent, negative) = frexpRoundedQ31(real) {
    let clamped = magnitude > 0x7FFF_FFFF ? 0x7FFF_FFFF : magnitude
    multiplier = Int32(bitPattern: negative ? 0 &- clamped : clamped)
    shift = exponent
  }
  let radius = calculateInputRadius(inputIntegerBits: 4, inputLeftShift: shift, totalSignedBits: 31)
  return LogisticParams(inputZeroPoint: inputZeroPoint, inputRangeRadius: radius,
                        inputMultiplier: multiplier, inputLeftShift: shift)
}

/// TFLM int8 Add Prepare (`CalculateOpDataAdd`): left_shift = 20,
/// twice_max_input_scale = 2 * double(max(s1, s2)) (max taken in float),
/// input multipliers s_i / twice_max (each <= 1/2), output multiplier
/// twice_max / (2^20 * s_out), each through QuantizeMultiplierSmallerThanOneExp.
/// Offsets: input_i = -zp_i, output = zp_out. activationMin/Max come from
/// `quantizedActivationRange`.
public func prepareAdd(input1Scale: Float, input1ZeroPoint: Int32,
                       input2Scale: Float, input2ZeroPoint: Int32,
                       outputScale: Float, outputZeroPoint: Int32,
                       activationMin: Int32, activationMax: Int32) -> AddParams {
  let leftShift: Int32 = 20
  // std::max(a, b) returns (a < b) ? b : a.
  let maxScale = input1Scale < input2Scale ? input2Scale : input1Scale
  let twiceMaxInputScale = 2 * Double(maxScale)
  let realInput1Multiplier = Double(input1Scale) / twiceMaxInputScale
  let realInput2Multiplier = Double(input2Scale) / twiceMaxInputScale
  let realOutputMultiplier = twiceMaxInputScale / (1_048_576 * Double(outputScale))  // (1 << 20) * s_out
  let q1 = quantizeMultiplierSmallerThanOneExp(realInput1Multiplier)
  let q2 = quantizeMultiplierSmallerThanOneExp(realInput2Multiplier)
  let qOut = quantizeMultiplierSmallerThanOneExp(realOutputMultiplier)
  return AddParams(
    input1Offset: 0 &- input1ZeroPoint, input2Offset: 0 &- input2ZeroPoint,
    outputOffset: outputZeroPoint, leftShift: leftShift,
    input1Multiplier: q1.multiplier, input1Shift: q1.shift,
    input2Multiplier: q2.multiplier, input2Shift: q2.shift,
    outputMultiplier: qOut.multiplier, outputShift: qOut.shift,
    activationMin: activationMin, activationMax: activationMax)
}
