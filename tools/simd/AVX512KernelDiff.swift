// Differential check of the AVX-512 elementwise, pooling, mean and byte-table kernels
// (Sources/_CNNKernelsAVX512, instructions emulated by AVX512Emulation.swift)
// against the AVX2 kernels they replace (bit-exact with the references,
// covered by the golden tests) on random parameters, including the extremes
// the golden models never reach: every shift in -31...31, multipliers up to
// 2^31 - 1 and negative ones, left shifts up to 31, windows up to 2^16 taps,
// row lengths around each multiple of 64. Each output buffer has guard bytes
// after it that must stay untouched. Where an AVX-512 kernel declines
// (returns false: Int32.min multiplier, oversized window) it must not write.
// Two building blocks are also checked against a scalar reference directly,
// where an error would rarely reach an int8 output: Add's int32 input terms
// (AddTerm512) and the per-lane requantization in both its forms
// (RequantLanes512, which the band Conv2D and depthwise kernels use).
// Built and run by `make avx512-emu-test`.
import _Builtin_intrinsics.intel
import _CNNRuntimeShims
#if canImport(Glibc)
import Glibc
#endif

struct DiffRng {
  var mix: SplitMix64
  init(s: UInt64) { mix = SplitMix64(s: s) }
  mutating func next() -> UInt64 { mix.next() }
  mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
  mutating func i32(_ lo: Int32, _ hi: Int32) -> Int32 { Int32(int(Int(lo), Int(hi))) }
  /// Random bytes; one time in four mostly -128 or mostly 127 (saturated
  /// activations: the sums at the int16 and window bounds).
  mutating func bytes(_ n: Int) -> [Int8] {
    switch next() % 8 {
    case 0: return (0..<n).map { _ in next() % 512 == 0 ? Int8(truncatingIfNeeded: next()) : -128 }
    case 1: return (0..<n).map { _ in next() % 512 == 0 ? Int8(truncatingIfNeeded: next()) : 127 }
    default: return (0..<n).map { _ in Int8(truncatingIfNeeded: next()) }
    }
  }
  /// A multiplier: mostly QuantizeMultiplier's [2^30, 2^31), sometimes any
  /// int32, sometimes the edges.
  mutating func multiplier() -> Int32 {
    switch next() % 10 {
    case 0: return Int32.max
    case 1: return 1 << 30
    case 2: return Int32(truncatingIfNeeded: next())
    case 3: return 0
    case 4: return Int32.min
    default: return i32(1 << 30, Int32.max)
    }
  }
  /// A shift: mostly small right shifts, sometimes anything in -31...31.
  mutating func shift() -> Int32 { next() % 3 == 0 ? i32(-31, 31) : i32(-12, 2) }
  mutating func actBounds() -> (Int32, Int32) {
    if next() % 3 == 0 { return (-128, 127) }
    let a = i32(-128, 127), b = i32(-128, 127)
    return next() % 8 == 0 ? (a, b) : (min(a, b), max(a, b))  // sometimes min > max
  }
  /// actBounds, a quarter of them as a fused ReLU gives them: act_min = the
  /// output offset (the requantization's ReLU form).
  mutating func actBounds(offset: Int32) -> (Int32, Int32) {
    let (lo, hi) = actBounds()
    return next() % 4 == 0 ? (offset, max(hi, offset)) : (lo, hi)
  }
}

var failures = 0, cases = 0, declined = 0, splitCases = 0
var failuresByKernel: [String: Int] = [:]
let guardBytes = 80

func check(_ name: String, _ got: [Int8], _ want: [Int8], _ detail: @autoclosure () -> String) {
  cases += 1
  if got != want {
    failures += 1
    failuresByKernel[name, default: 0] += 1
    if failures <= 10 {
      let i = got.indices.first { got[$0] != want[$0] } ?? -1
      print("MISMATCH \(name) at \(i) of \(got.count - guardBytes): \(detail())")
    }
  }
}

/// Runs `avx512` (false: declined) and `avx2` into guarded buffers; compares.
func compare(_ name: String, _ count: Int, _ detail: @autoclosure () -> String,
             _ avx512: (UnsafeMutablePointer<Int8>) -> Bool, _ avx2: (UnsafeMutablePointer<Int8>) -> Void) {
  var got = [Int8](repeating: 0x5A, count: count + guardBytes)
  var want = got
  let ran = got.withUnsafeMutableBufferPointer { avx512($0.baseAddress!) }
  if !ran {
    declined += 1
    check(name + " (declined: wrote)", got, [Int8](repeating: 0x5A, count: count + guardBytes), detail())
    return
  }
  want.withUnsafeMutableBufferPointer { avx2($0.baseAddress!) }
  check(name, got, want, detail())
}

/// Add parameters as prepareAdd makes them from random scales (left shift
/// 20, input multipliers s_i / (2 max(s1, s2)), output 2 max / (2^20 s_out),
/// QuantizeMultiplier's rounding), offsets in the runtime's range.
func preparedLikeAdd(_ a: inout cnnrt_add_args, _ rng: inout DiffRng) {
  func scale() -> Double { pow(10, -3 + 3 * Double(rng.next() % 1_000_000) / 1e6) }
  func quantize(_ x: Double) -> (Int32, Int32) {
    var e: Int32 = 0
    let m = frexp(x, &e)
    var q = Int64((m * 2147483648.0).rounded())
    if q == 1 << 31 { q /= 2; e += 1 }
    return (Int32(q), e)
  }
  let s1 = scale(), s2 = scale(), so = scale()
  let twice = 2 * max(s1, s2)
  a.left_shift = 20
  (a.input1_multiplier, a.input1_shift) = quantize(s1 / twice)
  (a.input2_multiplier, a.input2_shift) = quantize(s2 / twice)
  (a.output_multiplier, a.output_shift) = quantize(twice / (1_048_576 * so))
  a.input1_offset = rng.i32(-127, 128); a.input2_offset = rng.i32(-127, 128)
}

func rowLength(_ rng: inout DiffRng) -> Int {
  switch rng.next() % 4 {
  case 0: return rng.int(0, 20)
  case 1: return 64 * rng.int(1, 4) + rng.int(-2, 2)
  default: return rng.int(1, 300)
  }
}

/// The reference's Add term: MultiplyByQuantizedMultiplierSmallerThanOneExp
/// ((x + offset) << left, m, shift), i.e. SaturatingRoundingDoublingHighMul
/// then RoundingDivideByPOT(-shift), written out in 64-bit scalar arithmetic.
func referenceAddTerm(_ x: Int32, _ offset: Int32, _ m: Int32, _ shift: Int32, _ left: Int32) -> Int32 {
  let a = (x &+ offset) &<< left
  let h: Int64
  if a == Int32.min && m == Int32.min {
    h = Int64(Int32.max)
  } else {
    let ab = Int64(a) * Int64(m)
    h = (ab + (ab >= 0 ? 1 << 30 : 1 - (1 << 30))) / (1 << 31)  // truncating, as C++
  }
  let e = Int64(0 &- shift)
  let mask = (Int64(1) << e) - 1
  let threshold = (mask >> 1) + (h < 0 ? 1 : 0)
  return Int32(truncatingIfNeeded: (h >> e) + ((h & mask) > threshold ? 1 : 0))
}

/// AddTerm512 (the int32 form of an Add input's term) against the reference
/// on every int8 input, for random parameters in and at the edges of its
/// domain: a term one off rarely changes an Add's int8 output, so the kernel
/// comparisons alone would not catch it.
func checkAddTerms(_ rng: inout DiffRng) {
  var xs = [SIMD16<Int32>](repeating: SIMD16<Int32>(), count: 16)
  for i in 0..<256 { xs[i / 16][i % 16] = Int32(i) - 128 }
  var checked = 0, bad = 0
  for t in 0..<4000 {
    let left: Int32 = t % 2 == 0 ? 20 : rng.i32(9, 22)
    let m: Int32 = t % 7 == 0 ? [Int32.max, 1 << 30, (1 << (30 - left)) + 1][t % 3] : rng.multiplier()
    let shift: Int32 = t % 5 == 0 ? rng.i32(-31, 0) : rng.i32(-12, 0)
    // In and just outside the domain's offsets (-128...128; outside: nil).
    let offset = t % 11 == 0 ? [Int32(-129), 129, -128, 128, Int32.min, Int32.max][t % 6] : rng.i32(-128, 128)
    guard let term = AddTerm512(offset: offset, multiplier: m,
                                shift: shift, left: left) else { continue }
    checked += 1
    for v in xs {
      let got = unsafeBitCast(term.apply(unsafeBitCast(v, to: __m512i.self)), to: SIMD16<Int32>.self)
      for l in 0..<16 where got[l] != referenceAddTerm(v[l], offset, m, shift, left) {
        bad += 1
        if bad <= 5 { print("MISMATCH add term x=\(v[l]) offset=\(offset) M=\(m) shift=\(shift) left=\(left): \(got[l])") }
      }
    }
  }
  print("AVX-512 Add terms (int32 form) against the reference: \(checked) parameter sets x 256 inputs, \(bad) differ")
  if bad != 0 { failures += 1; failuresByKernel["add term", default: 0] += bad }
}

/// The reference's MultiplyByQuantizedMultiplier(x, m, shift) + offset
/// (wrapping int32), in 64-bit scalar arithmetic: the left shift, then
/// referenceAddTerm's two roundings.
func referenceRequant(_ x: Int32, _ m: Int32, _ shift: Int32, _ offset: Int32) -> Int32 {
  referenceAddTerm(x, 0, m, min(shift, 0), max(shift, 0)) &+ offset
}

/// RequantLanes512 (the conv and depthwise band kernels' per-lane
/// requantization, offset included) against the reference, in both its forms:
/// the short one (every lane with M != 0 has a shift in -23...-1,
/// |offset| <= 128) and the long one, on accumulators at the edges
/// (Int32.min, Int32.max, 0, -1), small ones (exact ties for multipliers such
/// as 3 * 2^29) and random ones. The golden cases reach few of these.
func checkRequantLanes(_ rng: inout DiffRng) {
  var short = 0, long = 0, relu = 0, bad = 0
  for t in 0..<6000 {
    var m = SIMD16<Int32>(), sh = SIMD16<Int32>()
    let eligible = t % 4 != 0
    for l in 0..<16 {
      switch rng.next() % 16 {
      case 0: m[l] = 0; sh[l] = rng.i32(-31, 31)
      case 1: m[l] = [1 << 30, (1 << 30) + 1, Int32.max, 3 << 29, Int32.max - (1 << 20), 1, -5][rng.int(0, 6)]
              sh[l] = [Int32(-1), -23, -2, -22][rng.int(0, 3)]
      default:
        m[l] = rng.next() % 8 == 0 ? rng.i32(Int32.min + 1, Int32.max) : rng.i32(1 << 30, Int32.max)
        sh[l] = rng.i32(-23, -1)
      }
      if !eligible && rng.next() % 4 == 0 {
        // Outside the short form: any multiplier but Int32.min (the callers'
        // guard), any shift.
        let x = rng.multiplier()
        m[l] = x == Int32.min ? Int32.max : x; sh[l] = rng.shift()
      }
    }
    let zo: Int32 = t % 5 == 0 ? [Int32(-128), 128, 127, -129, 129, 1000][rng.int(0, 5)] : rng.i32(-128, 127)
    // Every other set with act_min = zo (a fused ReLU): the ReLU form where
    // the short form's conditions hold (about one multiplier in 16 is
    // negative); its results clamped from below at zo (as every caller
    // clamps) must equal the reference's clamped there.
    let actMin = t % 2 == 0 ? zo : Int32.min
    let q = RequantLanes512(unsafeBitCast(m, to: __m512i.self), unsafeBitCast(sh, to: __m512i.self), offset: zo,
                            actMin: actMin)
    if q.short { short += 1 } else { long += 1 }
    if q.relu { relu += 1 }
    for i in 0..<24 {
      var acc = SIMD16<Int32>()
      for l in 0..<16 {
        switch i {
        case 0: acc[l] = [Int32.min, Int32.max, 0, -1][l % 4]
        case 1...8: acc[l] = rng.i32(-4096, 4096)
        default: acc[l] = Int32(truncatingIfNeeded: rng.next() &>> UInt64(rng.int(0, 40)))
        }
      }
      let got = unsafeBitCast(q.apply(unsafeBitCast(acc, to: __m512i.self)), to: SIMD16<Int32>.self)
      for l in 0..<16 {
        let want = referenceRequant(acc[l], m[l], sh[l], zo)
        if q.relu ? max(got[l], actMin) == max(want, actMin) : got[l] == want { continue }
        bad += 1
        if bad <= 5 {
          print("MISMATCH requant lanes (short \(q.short), relu \(q.relu)) acc=\(acc[l]) M=\(m[l]) shift=\(sh[l]) zo=\(zo): \(got[l])")
        }
      }
    }
  }
  print("AVX-512 per-lane requantization against the reference: \(short) short-form (\(relu) of them ReLU-form) and \(long) long-form lane sets x 384 accumulators, \(bad) differ")
  if bad != 0 || short == 0 || long == 0 || relu == 0 { failures += 1; failuresByKernel["requant lanes", default: 0] += max(bad, 1) }
}

@main
struct KernelDiff {
  static func main() {
    var rng = DiffRng(s: 512)
    checkAddTerms(&rng)
    checkRequantLanes(&rng)
    for _ in 0..<3000 {
      // Add, same shape and scalar.
      var a = cnnrt_add_args()
      // Offsets mostly the runtime's (-128...128), sometimes any int32 (the
      // kernels must still match or decline).
      a.input1_offset = rng.next() % 8 == 0 ? Int32(truncatingIfNeeded: rng.next()) : rng.i32(-128, 128)
      a.input2_offset = rng.next() % 8 == 0 ? Int32(truncatingIfNeeded: rng.next()) : rng.i32(-128, 128)
      a.output_offset = rng.i32(-128, 127)
      a.left_shift = rng.next() % 2 == 0 ? 20 : rng.i32(0, 31)
      a.input1_multiplier = rng.multiplier(); a.input1_shift = rng.shift()
      a.input2_multiplier = rng.multiplier(); a.input2_shift = rng.shift()
      a.output_multiplier = rng.multiplier(); a.output_shift = rng.shift()
      (a.act_min, a.act_max) = rng.actBounds(offset: a.output_offset)
      // Both forms of the same-shape Add: terms computed, or looked up in
      // byte tables (rows of addTableMinCount and more).
      a.byte_tables = rng.next() % 2 == 0 ? Int32(1 + rng.next() % 2) : 0  // vpermb or vpermt2b
      // The split output stage where the load-time check takes it (one
      // table case in two; prepared-like parameters in half of those, so
      // that it passes often).
      if a.byte_tables != 0 && rng.next() % 2 == 0 {
        if rng.next() % 2 == 0 { preparedLikeAdd(&a, &rng) }
        a.split_output = cnnrtAddSplitOutputAVX512(&a)
        if a.split_output != 0 { splitCases += 1 }
      }
      let n = a.byte_tables != 0 && rng.next() % 2 == 0 ? rng.int(250, 1100) : rowLength(&rng)
      let x1 = rng.bytes(n + 64), x2 = rng.bytes(n + 64)
      let value = Int8(truncatingIfNeeded: rng.next()), second = rng.next() % 2 == 0
      compare("add", n, "n=\(n) \(a)", { o in cnnrtAddAVX512(&a, n, x1, x2, o) }, { o in cnnrtAddAVX2(&a, n, x1, x2, o) })
      compare("add scalar", n, "n=\(n) second=\(second) v=\(value) \(a)",
              { o in cnnrtAddScalarAVX512(&a, n, x1, second, value, o) },
              { o in cnnrtAddScalarAVX2(&a, n, x1, second, value, o) })

      // Add with a repeated row (a per-channel operand): rows of up to 512
      // (the runtime's term buffer), `stride` apart; both kernels read the
      // same terms, from cnnrtAddTermsAVX2.
      let rows = rng.int(1, 3), count = min(n, 512), stride = count + rng.int(0, 3)
      let span = (rows - 1) * stride + count
      let rowValues = rng.bytes(count + 64)
      var terms = [Int32](repeating: 0, count: count + 64)
      cnnrtAddTermsAVX2(&a, rowValues, count, !second, &terms)
      let flat = rng.bytes(span + 64)
      compare("add rows", span, "rows=\(rows) count=\(count) stride=\(stride) second=\(second) \(a)",
              { o in cnnrtAddRowsAVX512(&a, rows, count, stride, flat, second, terms, o) },
              { o in cnnrtAddRowsAVX2(&a, rows, count, stride, flat, second, terms, o) })

      // Mul, same shape and scalar (the runtime's domain: offsets in
      // -255...255, multiplier >= 0, shift in -31...31).
      var m = cnnrt_mul_args()
      m.input1_offset = rng.i32(-255, 255); m.input2_offset = rng.i32(-255, 255)
      m.output_offset = rng.i32(-128, 127)
      m.output_multiplier = max(0, rng.multiplier()); m.output_shift = rng.shift()
      (m.act_min, m.act_max) = rng.actBounds(offset: m.output_offset)
      let factor = Int32(value) + m.input2_offset
      compare("mul", n, "n=\(n) \(m)", { o in cnnrtMulAVX512(&m, n, x1, x2, o) }, { o in cnnrtMulAVX2(&m, n, x1, x2, o) })
      compare("mul scalar", n, "n=\(n) factor=\(factor) \(m)",
              { o in cnnrtMulScalarAVX512(&m, n, x1, m.input1_offset, factor, o) },
              { o in cnnrtMulScalarAVX2(&m, n, x1, m.input1_offset, factor, o) })
      let factors = rowValues.map { Int32($0) + m.input2_offset }
      compare("mul rows", span, "rows=\(rows) count=\(count) stride=\(stride) \(m)",
              { o in cnnrtMulRowsAVX512(&m, rows, count, stride, flat, m.input1_offset, factors, o) },
              { o in cnnrtMulRowsAVX2(&m, rows, count, stride, flat, m.input1_offset, factors, o) })
    }
    for t in 0..<1500 {
      // Pooling: random geometry, padding, windows partly or wholly outside.
      var p = cnnrt_pool_args()
      let big = t % 100 == 0
      p.batches = Int64(rng.int(1, 2))
      p.in_h = Int64(big ? rng.int(200, 260) : rng.int(1, 9)); p.in_w = Int64(big ? rng.int(200, 260) : rng.int(1, 9))
      p.channels = Int64(big ? rng.int(1, 3) : [rng.int(1, 20), 64 * rng.int(1, 3) + rng.int(-3, 3), rng.int(1, 200)][rng.int(0, 2)])
      p.filter_h = Int64(big ? 256 : rng.int(1, 5)); p.filter_w = Int64(big ? rng.int(255, 257) : rng.int(1, 5))
      p.stride_h = Int64(rng.int(1, 3)); p.stride_w = Int64(rng.int(1, 3))
      p.pad_top = Int64(rng.int(0, 2)); p.pad_left = Int64(rng.int(0, 2))
      p.out_h = Int64(rng.int(1, 4)); p.out_w = Int64(rng.int(1, 4))
      (p.act_min, p.act_max) = rng.actBounds()
      let x = rng.bytes(Int(p.batches * p.in_h * p.in_w * p.channels))
      let outCount = Int(p.batches * p.out_h * p.out_w * p.channels)
      compare("max pool", outCount, "\(p)", { o in cnnrtMaxPoolAVX512(&p, x, o); return true },
              { o in cnnrtMaxPoolAVX2(&p, x, o) })
      compare("average pool", outCount, "\(p)", { o in cnnrtAveragePoolAVX512(&p, x, o) },
              { o in cnnrtAveragePoolAVX2(&p, x, o) })
    }
    for _ in 0..<1500 {
      // Mean over [outer, reduced, inner]: up to 600 rows (int16 widening
      // every 256), inner around multiples of 64.
      let outer = rng.int(1, 3), reduced = rng.next() % 4 == 0 ? rng.int(250, 600) : rng.int(1, 40)
      let inner = rng.next() % 2 == 0 ? 64 * rng.int(1, 3) + rng.int(-2, 2) : rng.int(1, 100)
      let x = rng.bytes(outer * reduced * inner)
      let zp = Int32(rng.int(-128, 127)) &* Int32(reduced), mult = rng.multiplier(), sh = rng.shift()
      let outZp = rng.i32(-128, 127)
      compare("mean", outer * inner, "\(outer)x\(reduced)x\(inner) zp*n=\(zp) M=\(mult) shift=\(sh) zp_out=\(outZp)",
              { o in cnnrtMeanAVX512(outer, reduced, inner, zp, mult, sh, outZp, x, o) },
              { o in cnnrtMeanAVX2(outer, reduced, inner, zp, mult, sh, outZp, x, o) })
    }
    for t in 0..<1500 {
      // Byte tables: a random table, both VBMI forms, row lengths around
      // each multiple of 64; one case in 50 every byte value at every
      // position mod 64.
      let table = (0..<256).map { _ in Int8(truncatingIfNeeded: rng.next()) }
      let n = t % 50 == 0 ? 256 * 65 : rowLength(&rng)
      let x = t % 50 == 0 ? (0..<n).map { Int8(truncatingIfNeeded: $0 &* 3) } : rng.bytes(n)
      for form: Int32 in [1, 2] {
        compare("byte table form \(form)", n, "n=\(n)", { o in cnnrtByteTableAVX512(table, n, x, o, form); return true },
                { o in cnnrtByteTableAVX2(table, n, x, o) })
      }
    }
    print("AVX-512 elementwise/pool/mean/byte-table kernels against AVX2: \(cases) cases (\(declined) declined; \(splitCases) Adds with the split output stage), \(failures) differ")
    for (name, n) in failuresByKernel.sorted(by: { $0.key < $1.key }) { print("  \(name): \(n) cases differ") }
    if failures != 0 { exit(1) }
  }
}
