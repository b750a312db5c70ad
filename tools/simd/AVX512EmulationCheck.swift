// Checks tools/simd/AVX512Emulation.swift against the native AVX2
// instructions: each emulated 512-bit operation with a 256-bit counterpart
// must give, in each half, what the AVX2 instruction gives on that half.
// Built with the emulation for x86-64-v3 and run by `make avx512-emu-test`.
// (vpdpbusd has no AVX2 counterpart: it is compared with vpmaddwd of the
// widened bytes plus an add of adjacent pairs, and exercised by every
// AVX-512 Conv2D golden case; the Conv2D kernel has also run on real
// AVX-512 VNNI hardware with 0 bytes different from TFLM.)
import _Builtin_intrinsics.intel
#if canImport(Glibc)
import Glibc
#endif

struct Rng {
  var mix: SplitMix64
  init(s: UInt64) { mix = SplitMix64(s: s) }
  mutating func next() -> UInt64 { mix.next() }
  /// Random bits, with a bias to the edge values that break wrong emulations.
  mutating func vec() -> __m512i {
    var q = SIMD8<Int64>()
    for i in 0..<8 {
      switch next() % 8 {
      case 0: q[i] = Int64(bitPattern: 0x8000_0000_8000_0000)
      case 1: q[i] = Int64(bitPattern: 0x7FFF_FFFF_7FFF_FFFF)
      case 2: q[i] = -1
      case 3: q[i] = Int64(bitPattern: 0x8080_8080_8080_8080 ^ (next() & 0x0101_0101_0101_0101))
      default: q[i] = Int64(bitPattern: next())
      }
    }
    return q
  }
}

func lo(_ v: __m512i) -> __m256i { SIMD4<Int64>(v[0], v[1], v[2], v[3]) }
func hi(_ v: __m512i) -> __m256i { SIMD4<Int64>(v[4], v[5], v[6], v[7]) }
func low128(_ v: __m256i) -> __m128i { SIMD2<Int64>(v[0], v[1]) }
func high128(_ v: __m256i) -> __m128i { SIMD2<Int64>(v[2], v[3]) }

var failures = 0, checks = 0
func expect(_ name: String, _ got: __m512i, _ wantLo: __m256i, _ wantHi: __m256i) {
  checks += 1
  if lo(got) != wantLo || hi(got) != wantHi {
    failures += 1
    if failures <= 10 { print("MISMATCH \(name): emulated \(got), AVX2 \(wantLo) \(wantHi)") }
  }
}
func binary(_ name: String, _ a: __m512i, _ b: __m512i, _ emu: (__m512i, __m512i) -> __m512i,
            _ avx2: (__m256i, __m256i) -> __m256i) {
  expect(name, emu(a, b), avx2(lo(a), lo(b)), avx2(hi(a), hi(b)))
}

@main
struct EmulationCheck {
  static func main() {
    var rng = Rng(s: 2026)
    for _ in 0..<20000 {
      let a = rng.vec(), b = rng.vec()
      binary("add_epi8", a, b, _mm512_add_epi8, _mm256_add_epi8)
      binary("add_epi16", a, b, _mm512_add_epi16, _mm256_add_epi16)
      binary("sub_epi16", a, b, _mm512_sub_epi16, _mm256_sub_epi16)
      binary("adds_epi16", a, b, _mm512_adds_epi16, _mm256_adds_epi16)
      binary("add_epi32", a, b, _mm512_add_epi32, _mm256_add_epi32)
      binary("sub_epi32", a, b, _mm512_sub_epi32, _mm256_sub_epi32)
      binary("add_epi64", a, b, _mm512_add_epi64, _mm256_add_epi64)
      binary("sub_epi64", a, b, _mm512_sub_epi64, _mm256_sub_epi64)
      binary("max_epi8", a, b, _mm512_max_epi8, _mm256_max_epi8)
      binary("min_epi8", a, b, _mm512_min_epi8, _mm256_min_epi8)
      binary("max_epi32", a, b, _mm512_max_epi32, _mm256_max_epi32)
      binary("min_epi32", a, b, _mm512_min_epi32, _mm256_min_epi32)
      binary("mul_epi32", a, b, _mm512_mul_epi32, _mm256_mul_epi32)
      binary("mul_epu32", a, b, _mm512_mul_epu32, _mm256_mul_epu32)
      binary("mullo_epi32", a, b, _mm512_mullo_epi32, _mm256_mullo_epi32)
      binary("madd_epi16", a, b, _mm512_madd_epi16, _mm256_madd_epi16)
      binary("and", a, b, _mm512_and_si512, _mm256_and_si256)
      binary("or", a, b, _mm512_or_si512, _mm256_or_si256)
      binary("xor", a, b, _mm512_xor_si512, _mm256_xor_si256)
      expect("abs_epi32", _mm512_abs_epi32(a), _mm256_abs_epi32(lo(a)), _mm256_abs_epi32(hi(a)))
      // Per-lane counts: small, at the edges and far above the width.
      let counts = _mm512_and_si512(b, _mm512_set1_epi32(Int32(bitPattern: 0x8000_003F)))
      binary("sllv_epi32", a, counts, _mm512_sllv_epi32, _mm256_sllv_epi32)
      binary("srav_epi32", a, counts, _mm512_srav_epi32, _mm256_srav_epi32)
      let counts64 = _mm512_and_si512(b, _mm512_set1_epi64(Int64(bitPattern: 0x8000_0000_0000_007F)))
      binary("sllv_epi64", a, counts64, _mm512_sllv_epi64, _mm256_sllv_epi64)
      // vpsravq has no AVX2 form: each lane against the 64-bit shift it
      // defines (arithmetic, counts of 64 or more fill with the sign).
      do {
        let got = _mm512_srav_epi64(a, counts64)
        checks += 1
        for i in 0..<8 {
          let c = UInt64(bitPattern: counts64[i])
          let want = c > 63 ? (a[i] < 0 ? -1 : 0) : a[i] >> Int64(c)
          if got[i] != want { failures += 1; if failures <= 10 { print("MISMATCH srav_epi64 lane \(i)") }; break }
        }
      }
      let n = UInt32(truncatingIfNeeded: rng.next() % 72)
      expect("srli_epi64", _mm512_srli_epi64(a, n), _mm256_srli_epi64(lo(a), Int32(n)), _mm256_srli_epi64(hi(a), Int32(n)))
      expect("slli_epi64", _mm512_slli_epi64(a, n), _mm256_slli_epi64(lo(a), Int32(n)), _mm256_slli_epi64(hi(a), Int32(n)))
      expect("slli_epi32", _mm512_slli_epi32(a, n), _mm256_slli_epi32(lo(a), Int32(n)), _mm256_slli_epi32(hi(a), Int32(n)))
      expect("srai_epi32", _mm512_srai_epi32(a, n), _mm256_srai_epi32(lo(a), Int32(n)), _mm256_srai_epi32(hi(a), Int32(n)))
      let cnt = SIMD2<Int64>(Int64(n), 0)
      expect("srl_epi64", _mm512_srl_epi64(a, cnt), _mm256_srl_epi64(lo(a), cnt), _mm256_srl_epi64(hi(a), cnt))
      // Widening: 16 source bytes / words per 512-bit result.
      let x = low128(lo(a))
      let xs = SIMD2<Int64>(x[1], 0)
      expect("cvtepi8_epi32", _mm512_cvtepi8_epi32(x), _mm256_cvtepi8_epi32(x), _mm256_cvtepi8_epi32(xs))
      expect("cvtepu8_epi32", _mm512_cvtepu8_epi32(x), _mm256_cvtepu8_epi32(x), _mm256_cvtepu8_epi32(xs))
      expect("cvtepi8_epi16", _mm512_cvtepi8_epi16(lo(a)), _mm256_cvtepi8_epi16(low128(lo(a))), _mm256_cvtepi8_epi16(high128(lo(a))))
      expect("cvtepi16_epi32", _mm512_cvtepi16_epi32(lo(a)), _mm256_cvtepi16_epi32(low128(lo(a))), _mm256_cvtepi16_epi32(high128(lo(a))))
      // The narrowing masked store (vpmovdb) against AVX2's vpshufb of each
      // half's low bytes; lanes outside the mask keep the destination's bytes.
      do {
        let k = UInt16(truncatingIfNeeded: rng.next())
        var got = SIMD16<Int8>(repeating: 0x5A)
        withUnsafeMutableBytes(of: &got) { _mm512_mask_cvtepi32_storeu_epi8($0.baseAddress, k, a) }
        let low = _mm256_set_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 12, 8, 4, 0,
                                  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 12, 8, 4, 0)
        var want = SIMD16<Int8>(repeating: 0x5A)
        for (h, half) in [lo(a), hi(a)].enumerated() {
          let t = unsafeBitCast(_mm256_shuffle_epi8(half, low), to: SIMD32<Int8>.self)
          for i in 0..<4 where (k >> UInt16(8 * h + i)) & 1 != 0 { want[8 * h + i] = t[i] }
          for i in 0..<4 where (k >> UInt16(8 * h + 4 + i)) & 1 != 0 { want[8 * h + 4 + i] = t[16 + i] }
        }
        checks += 1
        if got != want { failures += 1; if failures <= 10 { print("MISMATCH mask_cvtepi32_storeu_epi8") } }
      }
      // Masks: vptestmd / vptestnmd against vpcmpeqd + vmovmskps.
      let andLo = _mm256_and_si256(lo(a), lo(b)), andHi = _mm256_and_si256(hi(a), hi(b))
      let zero256 = _mm256_setzero_si256()
      let zLo = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(andLo, zero256)))
      let zHi = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(andHi, zero256)))
      let zeroMask = UInt16(zLo) | UInt16(zHi) << 8
      checks += 2
      if _mm512_testn_epi32_mask(a, b) != zeroMask || _mm512_test_epi32_mask(a, b) != ~zeroMask { failures += 1 }
      // Blend by that mask against vpblendvb with the compare result.
      let mLo = _mm256_cmpeq_epi32(andLo, zero256), mHi = _mm256_cmpeq_epi32(andHi, zero256)
      expect("mask_blend_epi32", _mm512_mask_blend_epi32(zeroMask, a, b),
             _mm256_blendv_epi8(lo(a), lo(b), mLo), _mm256_blendv_epi8(hi(a), hi(b), mHi))
      // vpmovq2m against vmovmskpd; the masked vpaddq against vpaddq and
      // vpblendvb by the sign of the lanes of b (the mask's source).
      binary("andnot_si512", a, b, _mm512_andnot_si512, _mm256_andnot_si256)
      let signMask = _mm512_movepi64_mask(b)
      checks += 1
      if signMask != UInt8(_mm256_movemask_pd(_mm256_castsi256_pd(lo(b)))) | UInt8(_mm256_movemask_pd(_mm256_castsi256_pd(hi(b)))) << 4 {
        failures += 1
        if failures <= 10 { print("MISMATCH movepi64_mask") }
      }
      let sLo = _mm256_cmpgt_epi64(_mm256_setzero_si256(), lo(b)), sHi = _mm256_cmpgt_epi64(_mm256_setzero_si256(), hi(b))
      expect("mask_add_epi64", _mm512_mask_add_epi64(b, signMask, a, b),
             _mm256_blendv_epi8(lo(b), _mm256_add_epi64(lo(a), lo(b)), sLo),
             _mm256_blendv_epi8(hi(b), _mm256_add_epi64(hi(a), hi(b)), sHi))
      // vpmovb2m / vptestmb against vpmovmskb (with vpcmpeqb for the test).
      let m8 = UInt64(UInt32(bitPattern: _mm256_movemask_epi8(lo(a)))) | UInt64(UInt32(bitPattern: _mm256_movemask_epi8(hi(a)))) << 32
      let nz8 = { (v: __m256i) in ~UInt64(UInt32(bitPattern: _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, zero256)))) & 0xFFFF_FFFF }
      checks += 2
      if _mm512_movepi8_mask(a) != m8 { failures += 1; if failures <= 10 { print("MISMATCH movepi8_mask") } }
      if _mm512_test_epi8_mask(a, b) != nz8(_mm256_and_si256(lo(a), lo(b))) | nz8(_mm256_and_si256(hi(a), hi(b))) << 32 {
        failures += 1; if failures <= 10 { print("MISMATCH test_epi8_mask") }
      }
      // vpermb has no AVX2 counterpart: each byte against vpshufb on the
      // 16-byte quarter of the table its index names (index bits 4-5), as
      // vpermb's definition reads: table byte idx & 63.
      do {
        let t = emuI8(b), idx = emuU8(a), got = emuI8(_mm512_permutexvar_epi8(a, b))
        var want = SIMD64<Int8>()
        for i in 0..<64 {
          let q = Int(idx[i] >> 4) & 3
          var quarter = SIMD16<Int8>()
          for e in 0..<16 { quarter[e] = t[16 * q + e] }
          let shuffled = unsafeBitCast(_mm_shuffle_epi8(unsafeBitCast(quarter, to: __m128i.self),
                                                        _mm_set1_epi8(CChar(bitPattern: idx[i] & 15))), to: SIMD16<Int8>.self)
          want[i] = shuffled[0]
        }
        checks += 1
        if got != want { failures += 1; if failures <= 10 { print("MISMATCH permutexvar_epi8") } }
        // vpermt2b: vpermb on each table (checked above), bit 6 choosing.
        let c = emuI8(_mm512_xor_si512(b, a))
        let low = emuI8(_mm512_permutexvar_epi8(a, b)), high = emuI8(_mm512_permutexvar_epi8(a, emuZ(c)))
        var want2 = SIMD64<Int8>()
        for i in 0..<64 { want2[i] = idx[i] & 64 != 0 ? high[i] : low[i] }
        checks += 1
        if emuI8(_mm512_permutex2var_epi8(b, a, emuZ(c))) != want2 {
          failures += 1; if failures <= 10 { print("MISMATCH permutex2var_epi8") }
        }
      }
      // MARK: depthwise kernel (DepthwiseAVX512.swift)
      binary("unpacklo_epi8", a, b, _mm512_unpacklo_epi8, _mm256_unpacklo_epi8)
      binary("unpackhi_epi8", a, b, _mm512_unpackhi_epi8, _mm256_unpackhi_epi8)
      binary("unpacklo_epi16", a, b, _mm512_unpacklo_epi16, _mm256_unpacklo_epi16)
      binary("unpackhi_epi16", a, b, _mm512_unpackhi_epi16, _mm256_unpackhi_epi16)
      binary("packs_epi32", a, b, _mm512_packs_epi32, _mm256_packs_epi32)
      binary("packs_epi16", a, b, _mm512_packs_epi16, _mm256_packs_epi16)
      // vpermw with word pairs (2p, 2p + 1), p < 8, moves the dwords of the
      // low half: vpermd (vpermd8x32) on that half, once per result half.
      let pairIdx = emuZ(unsafeBitCast(b, to: SIMD16<UInt32>.self) & 7 &* 0x0002_0002 &+ 0x0001_0000)
      let dwordIdx = _mm512_and_si512(b, _mm512_set1_epi32(7))
      expect("permutexvar_epi16", _mm512_permutexvar_epi16(pairIdx, a),
             _mm256_permutevar8x32_epi32(lo(a), lo(dwordIdx)), _mm256_permutevar8x32_epi32(lo(a), hi(dwordIdx)))
      // Any index: bits above the 5 low ones are ignored.
      let words = unsafeBitCast(a, to: SIMD32<Int16>.self), idx = unsafeBitCast(b, to: SIMD32<UInt16>.self)
      let perm = unsafeBitCast(_mm512_permutexvar_epi16(b, a), to: SIMD32<Int16>.self)
      checks += 1
      for i in 0..<32 where perm[i] != words[Int(idx[i] % 32)] { failures += 1; break }
      // vpdpbusd: vpmaddwd of zero-extended a and sign-extended b bytes gives
      // pair sums; adjacent pairs plus the accumulator give each dword.
      let acc = rng.vec()
      var want = [Int32](repeating: 0, count: 16)
      for half in 0..<4 {
        let ab = SIMD2<Int64>(a[2 &* half], a[2 &* half &+ 1]), bb = SIMD2<Int64>(b[2 &* half], b[2 &* half &+ 1])
        let pairs = unsafeBitCast(_mm256_madd_epi16(_mm256_cvtepu8_epi16(ab), _mm256_cvtepi8_epi16(bb)), to: SIMD8<Int32>.self)
        let accs = unsafeBitCast(acc, to: SIMD16<Int32>.self)
        for j in 0..<4 { want[4 &* half &+ j] = accs[4 &* half &+ j] &+ pairs[2 &* j] &+ pairs[2 &* j &+ 1] }
      }
      let got = unsafeBitCast(_mm512_dpbusd_epi32(acc, a, b), to: SIMD16<Int32>.self)
      checks += 1
      for i in 0..<16 where got[i] != want[i] { failures += 1; break }
      // Elementwise, pooling and mean kernels: saturating packs (per
      // 128-bit lane, as the AVX2 ones), int32 <-> float32 and division on
      // the same bits read as floats (NaN, infinity, out of int32 range).
      binary("packs_epi32", a, b, _mm512_packs_epi32, _mm256_packs_epi32)
      binary("packs_epi16", a, b, _mm512_packs_epi16, _mm256_packs_epi16)
      let fa = unsafeBitCast(a, to: __m512.self), fb = unsafeBitCast(b, to: __m512.self)
      @inline(__always) func lo8(_ v: __m512) -> __m256 { unsafeBitCast(lo(unsafeBitCast(v, to: __m512i.self)), to: __m256.self) }
      @inline(__always) func hi8(_ v: __m512) -> __m256 { unsafeBitCast(hi(unsafeBitCast(v, to: __m512i.self)), to: __m256.self) }
      @inline(__always) func bits(_ v: __m256) -> __m256i { unsafeBitCast(v, to: __m256i.self) }
      expect("cvtepi32_ps", unsafeBitCast(_mm512_cvtepi32_ps(a), to: __m512i.self),
             bits(_mm256_cvtepi32_ps(lo(a))), bits(_mm256_cvtepi32_ps(hi(a))))
      expect("div_ps", unsafeBitCast(_mm512_div_ps(fa, fb), to: __m512i.self),
             bits(_mm256_div_ps(lo8(fa), lo8(fb))), bits(_mm256_div_ps(hi8(fa), hi8(fb))))
      // Small integers as floats, divided: the pooling kernel's domain.
      let ia = _mm512_srai_epi32(a, 8), ib = _mm512_or_si512(_mm512_and_si512(b, _mm512_set1_epi32(0xFFFF)), _mm512_set1_epi32(1))
      let q = _mm512_div_ps(_mm512_cvtepi32_ps(ia), _mm512_cvtepi32_ps(ib))
      expect("cvttps_epi32 (bits)", _mm512_cvttps_epi32(fa), _mm256_cvttps_epi32(lo8(fa)), _mm256_cvttps_epi32(hi8(fa)))
      expect("cvttps_epi32 (quotients)", _mm512_cvttps_epi32(q), _mm256_cvttps_epi32(lo8(q)), _mm256_cvttps_epi32(hi8(q)))
    }
    print("AVX-512 emulation against native AVX2: \(checks) checks, \(failures) mismatches")
    if failures != 0 { exit(1) }
  }
}
