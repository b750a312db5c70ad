// Fixed-point primitives against independently written formulas.
//
// The references below are written from the mathematical definition of each
// rounding rule (exact Int128 / rational arithmetic, or libm in Double where
// that is exact), not from the gemmlowp/TFLM code shape: e.g.
// SaturatingRoundingDoublingHighMul is "round(a*b / 2^31), ties toward
// +infinity", checked with floor division in Int128.

import Foundation
import Testing
@testable import CNNRuntime
import CNNTools

// MARK: - Test utilities (file-private: other test files have their own)


/// Int32 values that stress rounding and overflow: extremes, 0, +-1, powers of
/// two and their neighbours, then seeded random values (uniform bits, and
/// uniform magnitudes on a log scale so that small values are well covered).
private func interestingInt32s(count: Int, seed: UInt64) -> [Int32] {
  var values: [Int32] = [Int32.min, Int32.min + 1, Int32.max, Int32.max - 1, 0, 1, -1, 2, -2]
  for k in 0..<31 {
    let p = Int32(1) << k
    values += [p, -p, p &+ 1, -p &- 1, p &- 1, -p &+ 1]
  }
  var rng = SplitMix64(seed: seed)
  while values.count < count {
    if values.count % 2 == 0 {
      values.append(rng.int32())
    } else {
      let bits = rng.int(in: 0...31)
      let magnitude = Int64(rng.next() & ((UInt64(1) << UInt64(bits)) &- 1))
      let v = (rng.next() & 1 == 0) ? magnitude : -magnitude
      values.append(Int32(clamping: v))
    }
  }
  return values
}

/// floor(n / 2^k) for k >= 0 (arithmetic shift is floor division).
private func floorDivPOT(_ n: Int128, _ k: Int) -> Int128 { n >> k }

/// n / 2^k rounded to nearest, ties away from zero (k >= 0).
private func roundHalfAwayDivPOT(_ n: Int128, _ k: Int) -> Int128 {
  if k == 0 { return n }
  let half = Int128(1) << (k - 1)
  return n >= 0 ? (n + half) >> k : -((-n + half) >> k)
}

/// Reference SRDHM: round(a * b / 2^31) with ties toward +infinity,
/// i.e. floor((a * b + 2^30) / 2^31); the single unrepresentable result 2^31
/// saturates to Int32.max.
private func refSRDHM(_ a: Int32, _ b: Int32) -> Int32 {
  let r = floorDivPOT(Int128(a) * Int128(b) + (Int128(1) << 30), 31)
  return r > Int128(Int32.max) ? Int32.max : Int32(r)
}

/// Reference double-rounding MultiplyByQuantizedMultiplier, written as the two
/// exact rational roundings: v = x * 2^left (wrapping to int32 as the C
/// expression does), s = roundTiesUp(v * M / 2^31) (saturated),
/// r = roundTiesAway(s / 2^right).
private func refMBQM(_ x: Int32, _ m: Int32, _ shift: Int32) -> Int32 {
  let left = max(Int(shift), 0)
  let right = max(-Int(shift), 0)
  let v = Int32(truncatingIfNeeded: Int64(x) << left)
  let s = refSRDHM(v, m)
  return Int32(roundHalfAwayDivPOT(Int128(s), right))
}

// MARK: - SaturatingRoundingDoublingHighMul

@Suite("Fixed point: SaturatingRoundingDoublingHighMul")
struct SRDHMTests {
  @Test("matches round(a*b/2^31) ties up on extremes x extremes and 1M random pairs")
  func matchesExactRounding() {
    let specials = interestingInt32s(count: 200, seed: 1)
    var mismatches = 0
    var first: (Int32, Int32)?
    for a in specials {
      for b in specials where saturatingRoundingDoublingHighMul(a, b) != refSRDHM(a, b) {
        mismatches += 1
        if first == nil { first = (a, b) }
      }
    }
    var rng = SplitMix64(seed: 2)
    for _ in 0..<1_000_000 {
      let a = rng.int32(), b = rng.int32()
      if saturatingRoundingDoublingHighMul(a, b) != refSRDHM(a, b) {
        mismatches += 1
        if first == nil { first = (a, b) }
      }
    }
    #expect(mismatches == 0, "first mismatch: \(String(describing: first))")
  }

  @Test("gemmlowp's literal C form (nudge, truncating int64 division) agrees")
  func matchesGemmlowpForm() {
    // The C formula, kept here as a second witness of the ties-up claim.
    func cForm(_ a: Int32, _ b: Int32) -> Int32 {
      if a == b && a == Int32.min { return Int32.max }
      let ab = Int64(a) * Int64(b)
      let nudge: Int64 = ab >= 0 ? (1 << 30) : (1 - (1 << 30))
      return Int32((ab + nudge) / (1 << 31))
    }
    var rng = SplitMix64(seed: 3)
    var mismatches = 0
    for a in interestingInt32s(count: 2_000, seed: 4) {
      for _ in 0..<100 {
        let b = rng.int32()
        if saturatingRoundingDoublingHighMul(a, b) != cForm(a, b) { mismatches += 1 }
      }
    }
    #expect(mismatches == 0)
  }

  @Test("saturation and exact ties")
  func edgeCases() {
    #expect(saturatingRoundingDoublingHighMul(Int32.min, Int32.min) == Int32.max)
    #expect(saturatingRoundingDoublingHighMul(Int32.min, Int32.max) == -Int32.max)
    #expect(saturatingRoundingDoublingHighMul(Int32.max, Int32.max) == Int32.max - 1)
    // 1 * 2^30 / 2^31 = 0.5 -> 1 (tie up); -1 * 2^30 / 2^31 = -0.5 -> 0 (tie up)
    #expect(saturatingRoundingDoublingHighMul(1, 1 << 30) == 1)
    #expect(saturatingRoundingDoublingHighMul(-1, 1 << 30) == 0)
    #expect(saturatingRoundingDoublingHighMul(3, 1 << 30) == 2)    // 1.5 -> 2
    #expect(saturatingRoundingDoublingHighMul(-3, 1 << 30) == -1)  // -1.5 -> -1
  }
}

// MARK: - RoundingDivideByPOT

@Suite("Fixed point: RoundingDivideByPOT")
struct RoundingDivideByPOTTests {
  @Test("every exponent 0...31 on 100k values: nearest, ties away from zero")
  func matchesExactRounding() {
    let values = interestingInt32s(count: 100_000, seed: 10)
    for e in Int32(0)...31 {
      var mismatches = 0
      var first: Int32?
      for x in values where Int128(roundingDivideByPOT(x, e)) != roundHalfAwayDivPOT(Int128(x), Int(e)) {
        mismatches += 1
        if first == nil { first = x }
      }
      #expect(mismatches == 0, "exponent \(e): first mismatch x = \(String(describing: first))")
    }
  }

  @Test("ties go away from zero")
  func ties() {
    #expect(roundingDivideByPOT(1, 1) == 1)
    #expect(roundingDivideByPOT(-1, 1) == -1)
    #expect(roundingDivideByPOT(5, 1) == 3)
    #expect(roundingDivideByPOT(-5, 1) == -3)
    #expect(roundingDivideByPOT(-6, 2) == -2)   // -1.5 -> -2
    #expect(roundingDivideByPOT(Int32.min, 31) == -1)
    #expect(roundingDivideByPOT(Int32.max, 31) == 1)
    #expect(roundingDivideByPOT(1 << 30, 31) == 1)       // 0.5 -> 1
    #expect(roundingDivideByPOT(-(1 << 30), 31) == -1)   // -0.5 -> -1
    #expect(roundingDivideByPOT((1 << 30) - 1, 31) == 0)
  }
}

// MARK: - MultiplyByQuantizedMultiplier

@Suite("Fixed point: MultiplyByQuantizedMultiplier")
struct MBQMTests {
  /// Multipliers: mostly the real range [2^30, 2^31), plus edge values.
  static func multipliers(count: Int, seed: UInt64) -> [Int32] {
    var m: [Int32] = [1 << 30, (1 << 30) + 1, Int32.max, Int32.max - 1, 1_518_500_250, 0, 1, -1, Int32.min]
    var rng = SplitMix64(seed: seed)
    while m.count < count {
      m.append(m.count % 8 == 0 ? rng.int32() : Int32(1 << 30) + Int32(truncatingIfNeeded: rng.next() % (1 << 30)))
    }
    return m
  }

  @Test("every shift -31...30 on 100k (x, multiplier) pairs, double rounding")
  func everyShift() {
    let xs = interestingInt32s(count: 100_000, seed: 20)
    let ms = Self.multipliers(count: 100_000, seed: 21)
    for shift in Int32(-31)...30 {
      var mismatches = 0
      var first: (Int32, Int32)?
      for i in 0..<xs.count {
        let x = xs[i], m = ms[(i &* 7919) % ms.count]
        if multiplyByQuantizedMultiplier(x, m, shift) != refMBQM(x, m, shift) {
          mismatches += 1
          if first == nil { first = (x, m) }
        }
      }
      #expect(mismatches == 0, "shift \(shift): first mismatch (x, M) = \(String(describing: first))")
    }
  }

  @Test("within 1 of the exactly rounded product when x * 2^left does not wrap")
  func closeToExact() {
    var rng = SplitMix64(seed: 22)
    var worst: Int128 = 0
    for _ in 0..<200_000 {
      let shift = Int32(rng.int(in: -31...10))
      let left = max(Int(shift), 0)
      let x = Int32(truncatingIfNeeded: Int64(rng.int32()) >> left)  // |x| * 2^left < 2^31
      let m = Int32(1 << 30) + Int32(truncatingIfNeeded: rng.next() % (1 << 30))
      let r = Int128(multiplyByQuantizedMultiplier(x, m, shift))
      // exact value = x * m * 2^(shift - 31) = x*m*2^left / 2^(31 + right)
      let k = 31 + max(-Int(shift), 0)
      let num = (Int128(x) * Int128(m)) << left
      let diff = r * (Int128(1) << k) - num      // (r - exact) * 2^k
      let absDiff = diff < 0 ? -diff : diff
      #expect(absDiff <= (Int128(1) << k), "x \(x) m \(m) shift \(shift)")
      if absDiff > worst { worst = absDiff }
    }
  }

  @Test("x * 2^left wraps like the two's-complement C expression")
  func leftShiftWraps() {
    let x: Int32 = 0x4000_0001
    // (x << 2) wraps to 4; 4 * 2^30 / 2^31 = 2
    #expect(multiplyByQuantizedMultiplier(x, 1 << 30, 2) == 2)
    #expect(multiplyByQuantizedMultiplier(Int32.min, 1 << 30, 1) == 0)
  }

  @Test("SmallerThanOneExp / GreaterThanOne variants equal the general form on their domains")
  func variants() {
    let xs = interestingInt32s(count: 20_000, seed: 23)
    let ms = Self.multipliers(count: 1_000, seed: 24)
    var mismatches = 0
    for (i, x) in xs.enumerated() {
      let m = ms[i % ms.count]
      for s in Int32(-31)...0 where multiplyByQuantizedMultiplierSmallerThanOneExp(x, m, s) != refMBQM(x, m, s) {
        mismatches += 1
      }
      for s in Int32(0)...30 where multiplyByQuantizedMultiplierGreaterThanOne(x, m, s) != refMBQM(x, m, s) {
        mismatches += 1
      }
    }
    #expect(mismatches == 0)
  }

  @Test("requantizeToInt8: MBQM + offset, clamp in TFLM order")
  func requantize() {
    var rng = SplitMix64(seed: 25)
    var mismatches = 0
    for _ in 0..<100_000 {
      let acc = Int32(truncatingIfNeeded: Int64(rng.int32()) >> rng.int(in: 0...20))
      let m = Int32(1 << 30) + Int32(truncatingIfNeeded: rng.next() % (1 << 30))
      let shift = Int32(rng.int(in: -20...2))
      let zp = Int32(rng.int(in: -128...127))
      let lo = Int32(rng.int(in: -128...0)), hi = Int32(rng.int(in: 0...127))
      let v = min(max(refMBQM(acc, m, shift) + zp, lo), hi)
      if requantizeToInt8(acc, multiplier: m, shift: shift, outputOffset: zp,
                          activationMin: lo, activationMax: hi) != Int8(v) { mismatches += 1 }
    }
    #expect(mismatches == 0)
  }
}

// MARK: - QuantizeMultiplier

/// Reference TFLM QuantizeMultiplier written with libm: q = frexp(x),
/// round-half-away(q * 2^31), 2^31 fix-up, flush shift < -31.
private func refQuantizeMultiplier(_ x: Double) -> (Int32, Int32) {
  if x == 0 || !x.isFinite { return (0, 0) }
  var e: Int32 = 0
  let q = frexp(x, &e)
  var qFixed = Int64((q * 2_147_483_648.0).rounded(.toNearestOrAwayFromZero))
  if qFixed == (Int64(1) << 31) { qFixed /= 2; e += 1 }
  if e < -31 { return (0, 0) }
  return (Int32(truncatingIfNeeded: qFixed), e)
}

@Suite("Fixed point: QuantizeMultiplier and load-time helpers")
struct QuantizeMultiplierTests {
  static var edgeDoubles: [Double] {
    var v: [Double] = [0, -0.0, 1, 0.5, 0.25, 2, 3, 0.75, 1.5, 1e-3, 1e3, 0.1, 1.0 / 3.0,
                       Double.leastNonzeroMagnitude, Double.leastNormalMagnitude,
                       Double.leastNormalMagnitude.nextDown, Double.greatestFiniteMagnitude,
                       (1.0).nextDown, (1.0).nextUp, (0.5).nextDown, (0.5).nextUp,
                       pow(2, -31), pow(2, -32), pow(2, -33), pow(2, -31).nextDown, pow(2, -32).nextDown,
                       pow(2, 30), pow(2, 31), pow(2, 31) - 1, pow(2, 40), -1, -0.5, -(1.0).nextDown,
                       2_147_483_647.0 / 2_147_483_648.0]
    // Mantissas just below 1 that round to 2^31 (q >= 1 - 2^-32) and just not.
    for k in [-40, -31, -30, -10, -1, 0, 1, 10, 30] {
      let scale = pow(2.0, Double(k))
      v += [(1 - pow(2, -32)) * scale, (1 - pow(2, -32)).nextDown * scale,
            (1 - pow(2, -33)) * scale, (1 - pow(2, -31)) * scale]
      // exact ties at the 2^-32 position of q: (2m + 1) / 2^32 for some m
      v += [(Double(1 << 30) + 0.5) / pow(2, 31) * scale, (Double(1 << 30) + 1.5) / pow(2, 31) * scale,
            (Double((1 << 31) - 1) + 0.5) / pow(2, 31) * scale]
    }
    return v
  }

  @Test("bit-identical to frexp + round on edge cases and 300k random doubles")
  func matchesFrexpFormula() {
    var values = Self.edgeDoubles
    var rng = SplitMix64(seed: 30)
    for i in 0..<300_000 {
      switch i % 3 {
      case 0:  // any finite bit pattern (all exponents, subnormals included)
        let d = Double(bitPattern: rng.next())
        values.append(d.isFinite ? d : 1)
      case 1:  // realistic effective scales: products / quotients of float scales
        let s1 = Float(pow(10, -4 + 4 * rng.unit())), s2 = Float(pow(10, -3 + 3 * rng.unit()))
        let s3 = Float(pow(10, -3 + 3 * rng.unit()))
        values.append(Double(s1) * Double(s2) / Double(s3))
      default:  // significands with ties and near-ties at bit 22
        let sig = (UInt64(1) << 52) | (rng.next() & ((UInt64(1) << 52) - 1))
        let tweaked = (sig & ~((UInt64(1) << 22) - 1)) | (UInt64(1) << 21) | (rng.next() & 1)
        let exponent = UInt64(rng.int(in: 900...1100))
        values.append(Double(bitPattern: (exponent << 52) | (tweaked & ((UInt64(1) << 52) - 1))))
      }
    }
    var mismatches = 0
    var first: Double?
    for x in values {
      let got = quantizeMultiplier(x)
      let want = refQuantizeMultiplier(x)
      if got.multiplier != want.0 || got.shift != want.1 {
        mismatches += 1
        if first == nil { first = x }
      }
    }
    #expect(mismatches == 0, "first mismatch at \(String(describing: first))")
  }

  @Test("positive multipliers land in [2^30, 2^31) and represent the real value")
  func range() {
    var rng = SplitMix64(seed: 31)
    for _ in 0..<10_000 {
      let x = pow(10, -9 + 12 * rng.unit())
      let (m, s) = quantizeMultiplier(x)
      #expect(m >= 1 << 30)
      let back = Double(m) * pow(2, Double(s) - 31)
      #expect(abs(back - x) <= x * pow(2, -30))
    }
    #expect(quantizeMultiplier(1).multiplier == 1 << 30 && quantizeMultiplier(1).shift == 1)
    #expect(quantizeMultiplier((1.0).nextDown) == (1 << 30, 1))          // rounds up to 2^31
    #expect(quantizeMultiplier(pow(2, -40)) == (0, 0))                  // flushed
    #expect(quantizeMultiplier(.infinity) == (0, 0))
    #expect(quantizeMultiplier(.nan) == (0, 0))
  }

  @Test("CalculateInputRadius equals floor of the double formula")
  func inputRadius() {
    for bits in Int32(0)...31 {
      for shift in Int32(0)...40 {
        let real = Double((Int64(1) << Int64(bits)) - 1) * Double(Int64(1) << Int64(31 - bits)) / pow(2, Double(shift))
        let want = Int32(real.rounded(.down))
        #expect(calculateInputRadius(inputIntegerBits: bits, inputLeftShift: shift) == want,
                "bits \(bits) shift \(shift)")
      }
    }
    #expect(calculateInputRadius(inputIntegerBits: 5, inputLeftShift: 19) == 3968)
    #expect(calculateInputRadius(inputIntegerBits: 5, inputLeftShift: 24) == 124)
    #expect(calculateInputRadius(inputIntegerBits: 4, inputLeftShift: -1) == Int32.max)
  }

  @Test("roundHalfAwayFromZero(Float) equals Float.rounded(.toNearestOrAwayFromZero)")
  func floatRounding() {
    var values: [Float] = [0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, -0.49999997,
                           8_388_607.5, -8_388_607.5, 8_388_608, 1e30, -1e30, .infinity, -.infinity,
                           Float.leastNonzeroMagnitude, (0.5 as Float).nextDown, (0.5 as Float).nextUp]
    var rng = SplitMix64(seed: 32)
    for _ in 0..<1_000_000 {
      let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
      if f.isFinite { values.append(f) }
    }
    for k in -2000...2000 { values.append(Float(k) / 4) }   // exact quarters incl. all ties
    var mismatches = 0
    for f in values where roundHalfAwayFromZero(f) != f.rounded(.toNearestOrAwayFromZero) {
      mismatches += 1
    }
    #expect(mismatches == 0)
  }

  @Test("activation range follows TFLM CalculateActivationRangeQuantized")
  func activationRange() {
    func q(_ f: Float, _ s: Float, _ zp: Int32) -> Int64 {
      Int64(zp) + Int64((f / s).rounded(.toNearestOrAwayFromZero))
    }
    var rng = SplitMix64(seed: 33)
    for i in 0..<20_000 {
      let scale = i == 0 ? Float(6.0 / 255.0) : Float(pow(10, -3 + 3 * rng.unit()))
      let zp = Int32(rng.int(in: -128...127))
      let none = quantizedActivationRange(realMin: nil, realMax: nil, outputScale: scale, outputZeroPoint: zp)
      #expect(none == (-128, 127))
      let relu = quantizedActivationRange(realMin: 0, realMax: nil, outputScale: scale, outputZeroPoint: zp)
      #expect(relu == (Int32(max(-128, q(0, scale, zp))), 127))
      let relu6 = quantizedActivationRange(realMin: 0, realMax: 6, outputScale: scale, outputZeroPoint: zp)
      #expect(relu6 == (Int32(max(-128, q(0, scale, zp))), Int32(min(127, max(-128, q(6, scale, zp))))))
    }
  }

  @Test("convRequant = quantizeMultiplier(double(si) * double(sw) / double(so))")
  func convRequantFormula() {
    var rng = SplitMix64(seed: 34)
    for _ in 0..<20_000 {
      let si = Float(pow(10, -3 + 3 * rng.unit())), sw = Float(pow(10, -4 + 3 * rng.unit()))
      let so = Float(pow(10, -3 + 3 * rng.unit()))
      let got = convRequant(inputScale: si, filterScale: sw, outputScale: so)
      let want = refQuantizeMultiplier(Double(si) * Double(sw) / Double(so))
      #expect(got.multiplier == want.0 && got.shift == want.1)
    }
  }

  @Test("prepareSoftmax: PreprocessSoftmaxScaling(beta, scale, 5) and diff_min")
  func softmaxPrepare() {
    // The CMSIS-NN softmax vector uses multiplier 1077952640, shift 19,
    // diff_min -3968: input scale 1/255 with beta 1.
    let p = prepareSoftmax(inputScale: 1.0 / 255.0, beta: 1)
    #expect(p.inputMultiplier == 1_077_952_640 && p.inputLeftShift == 19 && p.diffMin == -3968)
    var rng = SplitMix64(seed: 35)
    for _ in 0..<20_000 {
      let scale = Float(pow(10, -4 + 5 * rng.unit()))
      let beta: Float = rng.next() & 1 == 0 ? 1 : Float(0.25 + 2 * rng.unit())
      let real = min(Double(beta) * Double(scale) * Double(1 << 26), Double((Int64(1) << 31) - 1))
      let (m, s) = refQuantizeMultiplier(real)
      let radius = Int32((31.0 * pow(2, 26) / pow(2, Double(s))).rounded(.down))
      let got = prepareSoftmax(inputScale: scale, beta: beta)
      #expect(got.inputMultiplier == m && got.inputLeftShift == s && got.diffMin == -radius)
    }
  }

  @Test("prepareLogistic: frexp(scale * 2^27), no 2^31 fix-up, radius with 4 integer bits")
  func logisticPrepare() {
    var rng = SplitMix64(seed: 36)
    for i in 0..<20_000 {
      let scale = i == 0 ? Float(1.0 / 16.0) : Float(pow(10, -4 + 5 * rng.unit()))
      let zp = Int32(rng.int(in: -128...127))
      var e: Int32 = 0
      let q = frexp(Double(scale) * Double(1 << 27), &e)
      let m = Int32((q * 2_147_483_648.0).rounded(.toNearestOrAwayFromZero))
      let radius = Int32((15.0 * pow(2, 27) / pow(2, Double(e))).rounded(.down))
      let got = prepareLogistic(inputScale: scale, inputZeroPoint: zp)
      #expect(got.inputMultiplier == m && got.inputLeftShift == e
              && got.inputRangeRadius == radius && got.inputZeroPoint == zp)
    }
  }

  @Test("prepareAdd: left shift 20, twice-max-scale multipliers")
  func addPrepare() {
    var rng = SplitMix64(seed: 37)
    for _ in 0..<20_000 {
      let s1 = Float(pow(10, -3 + 2 * rng.unit())), s2 = Float(pow(10, -3 + 2 * rng.unit()))
      let so = Float(pow(10, -3 + 2 * rng.unit()))
      let z1 = Int32(rng.int(in: -128...127)), z2 = Int32(rng.int(in: -128...127))
      let zo = Int32(rng.int(in: -128...127))
      let twice = 2 * Double(max(s1, s2))
      let q1 = refQuantizeMultiplier(Double(s1) / twice), q2 = refQuantizeMultiplier(Double(s2) / twice)
      let qo = refQuantizeMultiplier(twice / (Double(1 << 20) * Double(so)))
      let p = prepareAdd(input1Scale: s1, input1ZeroPoint: z1, input2Scale: s2, input2ZeroPoint: z2,
                         outputScale: so, outputZeroPoint: zo, activationMin: -128, activationMax: 127)
      #expect(p.leftShift == 20 && p.input1Offset == -z1 && p.input2Offset == -z2 && p.outputOffset == zo)
      #expect(p.input1Multiplier == q1.0 && p.input1Shift == q1.1)
      #expect(p.input2Multiplier == q2.0 && p.input2Shift == q2.1)
      #expect(p.outputMultiplier == qo.0 && p.outputShift == qo.1)
      #expect(p.input1Shift <= 0 && p.input2Shift <= 0)
    }
  }
}

// MARK: - gemmlowp helpers

@Suite("Fixed point: gemmlowp exp / reciprocal / logistic helpers")
struct GemmlowpHelperTests {
  @Test("saturatingRoundingMultiplyByPOT: saturating left shift, rounding right shift")
  func multiplyByPOT() {
    let values = interestingInt32s(count: 20_000, seed: 40)
    var mismatches = 0
    for e in Int32(-31)...31 {
      for x in values {
        let want: Int32
        if e >= 0 {
          let exact = Int128(x) << Int(e)
          want = exact > Int128(Int32.max) ? Int32.max : (exact < Int128(Int32.min) ? Int32.min : Int32(exact))
        } else {
          want = Int32(roundHalfAwayDivPOT(Int128(x), Int(-e)))
        }
        if saturatingRoundingMultiplyByPOT(x, e) != want { mismatches += 1 }
      }
    }
    #expect(mismatches == 0)
  }

  @Test("roundingHalfSum = (a + b) / 2 rounded half away from zero")
  func halfSum() {
    let values = interestingInt32s(count: 3_000, seed: 41)
    var mismatches = 0
    for a in values {
      for b in values.prefix(300) {
        if Int128(roundingHalfSum(a, b)) != roundHalfAwayDivPOT(Int128(a) + Int128(b), 1) { mismatches += 1 }
      }
    }
    #expect(mismatches == 0)
  }

  @Test("countLeadingZeros")
  func clz() {
    #expect(countLeadingZeros(0) == 32)
    #expect(countLeadingZeros(1) == 31)
    #expect(countLeadingZeros(UInt32.max) == 0)
    #expect(countLeadingZeros(1 << 19) == 12)
  }

  @Test("exp_on_negative_values (Q5.26 and Q4.27 inputs) approximates exp within 2^-22")
  func expAccuracy() {
    var rng = SplitMix64(seed: 42)
    for integerBits in [Int32(0), 1, 4, 5, 6, 12] {
      let fractional = Double(31 - integerBits)
      var worst = 0.0
      for i in 0..<50_000 {
        let a: Int32 = i == 0 ? 0 : (i == 1 ? Int32.min : -Int32(truncatingIfNeeded: rng.next() & 0x7FFF_FFFF))
        let got = Double(expOnNegativeValues(a, integerBits: integerBits)) / 2_147_483_648.0
        let want = Foundation.exp(Double(a) / pow(2, fractional))
        worst = max(worst, abs(got - want))
      }
      #expect(worst < pow(2, -22), "integerBits \(integerBits): worst error \(worst)")
    }
    #expect(expOnNegativeValues(0, integerBits: 5) == Int32.max)
  }

  @Test("one_over_one_plus_x_for_x_in_0_1 approximates 1/(1+x) within 2^-26")
  func reciprocalAccuracy() {
    var rng = SplitMix64(seed: 43)
    var worst = 0.0
    for i in 0..<200_000 {
      let a: Int32 = i == 0 ? 0 : (i == 1 ? Int32.max : Int32(truncatingIfNeeded: rng.next() & 0x7FFF_FFFF))
      let got = Double(oneOverOnePlusXForXIn01(a)) / 2_147_483_648.0
      let want = 1 / (1 + Double(a) / 2_147_483_648.0)
      worst = max(worst, abs(got - want))
    }
    #expect(worst < pow(2, -26), "worst error \(worst)")
  }

  @Test("GetReciprocal(x, 12) gives 1/x")
  func getReciprocalAccuracy() {
    var rng = SplitMix64(seed: 44)
    for _ in 0..<100_000 {
      let x = Int32(truncatingIfNeeded: rng.next() & 0x7FFF_FFFF) | 1
      let (r, bits) = getReciprocal(x, integerDigits: 12)
      let got = Double(r) / 2_147_483_648.0 / pow(2, Double(bits))
      let want = 1 / (Double(x) / pow(2, 19))
      #expect(abs(got - want) <= want * pow(2, -25))
    }
  }

  @Test("logistic (Q4.27 input) approximates 1/(1+exp(-x)) within 2^-22")
  func logisticAccuracy() {
    var rng = SplitMix64(seed: 45)
    var worst = 0.0
    for i in 0..<200_000 {
      // Q4.27 inputs over the whole range (-16, 16); 0 is exact 1/2.
      let a: Int32 = i == 0 ? 0 : Int32(truncatingIfNeeded: rng.next() >> 32)
      if a == Int32.min { continue }
      let got = Double(logisticFixedPoint(a, integerBits: 4)) / 2_147_483_648.0
      let want = 1 / (1 + Foundation.exp(-Double(a) / pow(2, 27)))
      worst = max(worst, abs(got - want))
    }
    #expect(worst < pow(2, -22), "worst error \(worst)")
    #expect(logisticFixedPoint(0, integerBits: 4) == 1 << 30)
  }
}
