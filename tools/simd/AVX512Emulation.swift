// Bit-level software emulation of the AVX-512 instructions the
// _CNNKernelsAVX512 kernels use, for machines without AVX-512.
//
// `make avx512-emu-test` compiles the UNCHANGED kernel sources of
// Sources/_CNNKernelsAVX512 together with this file, for x86-64-v3 (AVX2):
// a function declared in the module being compiled shadows the Clang
// intrinsic of the same name and signature, so every `_mm512_*` call in
// the kernels lands here instead of emitting an AVX-512 instruction. An
// intrinsic missing here either fails to compile for x86-64-v3 or leaves a
// ZMM/opmask instruction in the object, which the build rejects (one that is
// plain vector arithmetic in the compiler's header compiles to AVX2 code).
// The runtime of that build (CNNRT_AVX512_EMULATION,
// cnnrt_cpu.h) reports the AVX-512 path as available on an AVX2 CPU, so the
// golden, random-model and no-allocation C tests run the real kernel code,
// its packing and its dispatch on CNNRT_ISA=avx512.
//
// Each function implements the operation of the instruction as the Intel
// SDM (vol. 2) defines it, lane by lane, on the integer lanes of the 512-bit
// value: wrapping arithmetic where the instruction wraps, per-lane shift
// counts that saturate (logical: 0, arithmetic: sign fill) at or above the
// element width, masked lanes either kept (merge) or zeroed, masked stores
// touching only the selected bytes. tools/simd/AVX512EmulationCheck.swift
// (run by the same make target) compares those with a 256-bit AVX2
// counterpart against the native AVX2 instruction on random data, one half
// of the 512-bit operation at a time.
#if arch(x86_64)
import _Builtin_intrinsics.intel

// MARK: lane views
@inline(__always) func emuI8(_ v: __m512i) -> SIMD64<Int8> { unsafeBitCast(v, to: SIMD64<Int8>.self) }
@inline(__always) func emuU8(_ v: __m512i) -> SIMD64<UInt8> { unsafeBitCast(v, to: SIMD64<UInt8>.self) }
@inline(__always) func emuI16(_ v: __m512i) -> SIMD32<Int16> { unsafeBitCast(v, to: SIMD32<Int16>.self) }
@inline(__always) func emuI32(_ v: __m512i) -> SIMD16<Int32> { unsafeBitCast(v, to: SIMD16<Int32>.self) }
@inline(__always) func emuU32(_ v: __m512i) -> SIMD16<UInt32> { unsafeBitCast(v, to: SIMD16<UInt32>.self) }
@inline(__always) func emuI64(_ v: __m512i) -> SIMD8<Int64> { v }  // __m512i is SIMD8<Int64>
@inline(__always) func emuU64(_ v: __m512i) -> SIMD8<UInt64> { unsafeBitCast(v, to: SIMD8<UInt64>.self) }
@inline(__always) func emuZ<T: SIMD>(_ v: T) -> __m512i { unsafeBitCast(v, to: __m512i.self) }

// MARK: loads, stores, constants
/// VMOVDQU32/64 zmm, m512: 64 bytes from any address.
@inline(__always) func _mm512_loadu_si512(_ p: UnsafeRawPointer?) -> __m512i {
  p!.loadUnaligned(as: __m512i.self)
}
/// VMOVDQU32/64 m512, zmm.
@inline(__always) func _mm512_storeu_si512(_ p: UnsafeMutableRawPointer?, _ a: __m512i) {
  p!.storeBytes(of: a, as: __m512i.self)
}
/// VMOVDQU8 zmm{k}{z}, m512: byte i is loaded when mask bit i is set, else 0
/// (a masked-off byte is not accessed: no fault past the end of a buffer).
@inline(__always) func _mm512_maskz_loadu_epi8(_ k: __mmask64, _ p: UnsafeRawPointer?) -> __m512i {
  var r = SIMD64<Int8>(repeating: 0)
  let src = p!.assumingMemoryBound(to: Int8.self)
  for i in 0..<64 where (k >> UInt64(i)) & 1 != 0 { r[i] = src[i] }
  return emuZ(r)
}
/// VMOVDQU32 zmm{k}{z}, m512: dword lanes under the mask, others 0.
@inline(__always) func _mm512_maskz_loadu_epi32(_ k: __mmask16, _ p: UnsafeRawPointer?) -> __m512i {
  var r = SIMD16<Int32>(repeating: 0)
  let src = p!
  for i in 0..<16 where (k >> UInt16(i)) & 1 != 0 { r[i] = src.loadUnaligned(fromByteOffset: 4 &* i, as: Int32.self) }
  return emuZ(r)
}
/// VMOVDQU8 m512{k}, zmm: only the bytes under the mask are written.
@inline(__always) func _mm512_mask_storeu_epi8(_ p: UnsafeMutableRawPointer?, _ k: __mmask64, _ a: __m512i) {
  let v = emuI8(a), dst = p!.assumingMemoryBound(to: Int8.self)
  for i in 0..<64 where (k >> UInt64(i)) & 1 != 0 { dst[i] = v[i] }
}
/// VMOVDQU32 m512{k}, zmm.
@inline(__always) func _mm512_mask_storeu_epi32(_ p: UnsafeMutableRawPointer?, _ k: __mmask16, _ a: __m512i) {
  let v = emuI32(a), dst = p!
  for i in 0..<16 where (k >> UInt16(i)) & 1 != 0 { dst.storeBytes(of: v[i], toByteOffset: 4 &* i, as: Int32.self) }
}
@inline(__always) func _mm512_setzero_si512() -> __m512i { emuZ(SIMD16<Int32>(repeating: 0)) }
@inline(__always) func _mm512_set1_epi8(_ x: CChar) -> __m512i { emuZ(SIMD64<Int8>(repeating: Int8(x))) }
@inline(__always) func _mm512_set1_epi16(_ x: Int16) -> __m512i { emuZ(SIMD32<Int16>(repeating: x)) }
@inline(__always) func _mm512_set1_epi32(_ x: Int32) -> __m512i { emuZ(SIMD16<Int32>(repeating: x)) }
@inline(__always) func _mm512_set1_epi64(_ x: Int64) -> __m512i { emuZ(SIMD8<Int64>(repeating: x)) }

// MARK: integer arithmetic (wrapping unless named otherwise)
@inline(__always) func _mm512_add_epi8(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(emuI8(a) &+ emuI8(b)) }
@inline(__always) func _mm512_add_epi16(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(emuI16(a) &+ emuI16(b)) }
@inline(__always) func _mm512_sub_epi16(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(emuI16(a) &- emuI16(b)) }
@inline(__always) func _mm512_add_epi32(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(emuI32(a) &+ emuI32(b)) }
@inline(__always) func _mm512_sub_epi32(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(emuI32(a) &- emuI32(b)) }
@inline(__always) func _mm512_add_epi64(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(emuI64(a) &+ emuI64(b)) }
@inline(__always) func _mm512_sub_epi64(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(emuI64(a) &- emuI64(b)) }
/// VPADDQ zmm{k}: a + b in the qword lanes under the mask, src elsewhere.
@inline(__always) func _mm512_mask_add_epi64(_ src: __m512i, _ k: __mmask8, _ a: __m512i, _ b: __m512i) -> __m512i {
  let x = emuI64(src), y = emuI64(a) &+ emuI64(b)
  var r = SIMD8<Int64>()
  for i in 0..<8 { r[i] = (k >> UInt8(i)) & 1 != 0 ? y[i] : x[i] }
  return emuZ(r)
}
/// VPADDSW: signed 16-bit add, saturated to -32768...32767.
@inline(__always) func _mm512_adds_epi16(_ a: __m512i, _ b: __m512i) -> __m512i {
  let x = emuI16(a), y = emuI16(b)
  var r = SIMD32<Int16>()
  for i in 0..<32 { r[i] = Int16(clamping: Int32(x[i]) + Int32(y[i])) }
  return emuZ(r)
}
/// VPADDD zmm{k}: a + b in the lanes under the mask, src elsewhere.
@inline(__always) func _mm512_mask_add_epi32(_ src: __m512i, _ k: __mmask16, _ a: __m512i, _ b: __m512i) -> __m512i {
  _mm512_mask_blend_epi32(k, src, _mm512_add_epi32(a, b))
}
@inline(__always) func _mm512_max_epi8(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(pointwiseMax(emuI8(a), emuI8(b))) }
@inline(__always) func _mm512_min_epi8(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(pointwiseMin(emuI8(a), emuI8(b))) }
@inline(__always) func _mm512_max_epi32(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(pointwiseMax(emuI32(a), emuI32(b))) }
@inline(__always) func _mm512_min_epi32(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(pointwiseMin(emuI32(a), emuI32(b))) }
@inline(__always) func _mm512_mask_max_epi32(_ src: __m512i, _ k: __mmask16, _ a: __m512i, _ b: __m512i) -> __m512i {
  _mm512_mask_blend_epi32(k, src, _mm512_max_epi32(a, b))
}
/// VPABSD: |x|, with |Int32.min| = Int32.min (0x80000000 unchanged).
@inline(__always) func _mm512_abs_epi32(_ a: __m512i) -> __m512i {
  let x = emuI32(a)
  var r = SIMD16<Int32>()
  for i in 0..<16 { r[i] = x[i] < 0 ? 0 &- x[i] : x[i] }
  return emuZ(r)
}
/// VPMULDQ: the signed low dwords of each qword, multiplied to a 64-bit product.
@inline(__always) func _mm512_mul_epi32(_ a: __m512i, _ b: __m512i) -> __m512i {
  let x = emuI64(a), y = emuI64(b)
  var r = SIMD8<Int64>()
  for i in 0..<8 { r[i] = Int64(Int32(truncatingIfNeeded: x[i])) &* Int64(Int32(truncatingIfNeeded: y[i])) }
  return emuZ(r)
}
/// VPMULUDQ: the unsigned low dwords of each qword, 64-bit product.
@inline(__always) func _mm512_mul_epu32(_ a: __m512i, _ b: __m512i) -> __m512i {
  let x = emuU64(a), y = emuU64(b)
  var r = SIMD8<UInt64>()
  for i in 0..<8 { r[i] = (x[i] & 0xFFFF_FFFF) &* (y[i] & 0xFFFF_FFFF) }
  return emuZ(r)
}
/// VPMULLD: low 32 bits of the signed product.
@inline(__always) func _mm512_mullo_epi32(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(emuI32(a) &* emuI32(b)) }
/// VPMADDWD: dword i = a.w[2i] * b.w[2i] + a.w[2i+1] * b.w[2i+1] (signed; the
/// only overflow, -32768 * -32768 twice, wraps to Int32.min).
@inline(__always) func _mm512_madd_epi16(_ a: __m512i, _ b: __m512i) -> __m512i {
  let x = emuI16(a), y = emuI16(b)
  var r = SIMD16<Int32>()
  for i in 0..<16 {
    r[i] = (Int32(x[2 &* i]) &* Int32(y[2 &* i])) &+ (Int32(x[2 &* i &+ 1]) &* Int32(y[2 &* i &+ 1]))
  }
  return emuZ(r)
}
/// VPDPBUSD (AVX512_VNNI): dword i = src.d[i] + sum over j < 4 of
/// ZeroExtend(a.b[4i+j]) * SignExtend(b.b[4i+j]), wrapping (no saturation).
@inline(__always) func _mm512_dpbusd_epi32(_ src: __m512i, _ a: __m512i, _ b: __m512i) -> __m512i {
  let s = emuI32(src), u = emuU8(a), w = emuI8(b)
  var r = SIMD16<Int32>()
  for i in 0..<16 {
    var acc = s[i]
    for j in 0..<4 { acc = acc &+ Int32(u[4 &* i &+ j]) &* Int32(w[4 &* i &+ j]) }
    r[i] = acc
  }
  return emuZ(r)
}
/// The sum of the 16 dwords, wrapping (a sequence of adds in the compiler's header).
@inline(__always) func _mm512_reduce_add_epi32(_ a: __m512i) -> Int32 {
  let x = emuI32(a)
  var s: Int32 = 0
  for i in 0..<16 { s = s &+ x[i] }
  return s
}

// MARK: bitwise, shifts
/// VPANDNQ: (NOT a) AND b.
@inline(__always) func _mm512_andnot_si512(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(~emuU64(a) & emuU64(b)) }
@inline(__always) func _mm512_and_si512(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(emuU64(a) & emuU64(b)) }
@inline(__always) func _mm512_or_si512(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(emuU64(a) | emuU64(b)) }
@inline(__always) func _mm512_xor_si512(_ a: __m512i, _ b: __m512i) -> __m512i { emuZ(emuU64(a) ^ emuU64(b)) }
/// VPSRLQ imm: logical; a count above 63 gives 0.
@inline(__always) func _mm512_srli_epi64(_ a: __m512i, _ n: UInt32) -> __m512i {
  n > 63 ? _mm512_setzero_si512() : emuZ(emuU64(a) &>> UInt64(n))
}
/// VPSLLQ imm: a count above 63 gives 0.
@inline(__always) func _mm512_slli_epi64(_ a: __m512i, _ n: UInt32) -> __m512i {
  n > 63 ? _mm512_setzero_si512() : emuZ(emuU64(a) &<< UInt64(n))
}
/// VPSRAQ imm: arithmetic; a count above 63 acts as 63 (sign fill).
@inline(__always) func _mm512_srai_epi64(_ a: __m512i, _ n: UInt32) -> __m512i {
  emuZ(emuI64(a) &>> Int64(min(n, 63)))
}
/// VPSLLD imm: a count above 31 gives 0.
@inline(__always) func _mm512_slli_epi32(_ a: __m512i, _ n: UInt32) -> __m512i {
  n > 31 ? _mm512_setzero_si512() : emuZ(emuU32(a) &<< UInt32(n))
}
/// VPSRAD imm: a count above 31 acts as 31.
@inline(__always) func _mm512_srai_epi32(_ a: __m512i, _ n: UInt32) -> __m512i {
  emuZ(emuI32(a) &>> Int32(min(n, 31)))
}
/// VPSRLQ xmm count: the low qword of `count` (unsigned) for every lane.
@inline(__always) func _mm512_srl_epi64(_ a: __m512i, _ count: __m128i) -> __m512i {
  let n = UInt64(bitPattern: count[0])
  return n > 63 ? _mm512_setzero_si512() : emuZ(emuU64(a) &>> n)
}
/// VPSLLVD: per-lane count, taken unsigned; 32 or more gives 0.
@inline(__always) func _mm512_sllv_epi32(_ a: __m512i, _ count: __m512i) -> __m512i {
  let x = emuU32(a), c = emuU32(count)
  var r = SIMD16<UInt32>()
  for i in 0..<16 { r[i] = c[i] > 31 ? 0 : x[i] &<< c[i] }
  return emuZ(r)
}
/// VPSLLVQ: per-lane count, taken unsigned; 64 or more gives 0.
@inline(__always) func _mm512_sllv_epi64(_ a: __m512i, _ count: __m512i) -> __m512i {
  let x = emuU64(a), c = emuU64(count)
  var r = SIMD8<UInt64>()
  for i in 0..<8 { r[i] = c[i] > 63 ? 0 : x[i] &<< c[i] }
  return emuZ(r)
}
/// VPSRAVQ: per-lane count, taken unsigned; 64 or more fills with the sign.
@inline(__always) func _mm512_srav_epi64(_ a: __m512i, _ count: __m512i) -> __m512i {
  let x = emuI64(a), c = emuU64(count)
  var r = SIMD8<Int64>()
  for i in 0..<8 { r[i] = x[i] &>> Int64(min(c[i], 63)) }
  return emuZ(r)
}
/// VPSRAVD: per-lane count, taken unsigned; 32 or more fills with the sign.
@inline(__always) func _mm512_srav_epi32(_ a: __m512i, _ count: __m512i) -> __m512i {
  let x = emuI32(a), c = emuU32(count)
  var r = SIMD16<Int32>()
  for i in 0..<16 { r[i] = x[i] &>> Int32(min(c[i], 31)) }
  return emuZ(r)
}

// MARK: masks, blends, permutes
/// VPTESTMD: mask bit i = (a.d[i] AND b.d[i]) != 0.
@inline(__always) func _mm512_test_epi32_mask(_ a: __m512i, _ b: __m512i) -> __mmask16 {
  let x = emuU32(a) & emuU32(b)
  var k: __mmask16 = 0
  for i in 0..<16 where x[i] != 0 { k |= 1 << UInt16(i) }
  return k
}
/// VPMOVQ2M: mask bit i = the sign bit of qword lane i.
@inline(__always) func _mm512_movepi64_mask(_ a: __m512i) -> __mmask8 {
  let x = emuI64(a)
  var k: __mmask8 = 0
  for i in 0..<8 where x[i] < 0 { k |= 1 << UInt8(i) }
  return k
}
/// VPTESTNMD: mask bit i = (a.d[i] AND b.d[i]) == 0.
@inline(__always) func _mm512_testn_epi32_mask(_ a: __m512i, _ b: __m512i) -> __mmask16 {
  ~_mm512_test_epi32_mask(a, b)
}
/// VPBLENDMD: lane i from b where mask bit i is set, else from a.
@inline(__always) func _mm512_mask_blend_epi32(_ k: __mmask16, _ a: __m512i, _ b: __m512i) -> __m512i {
  let x = emuI32(a), y = emuI32(b)
  var r = SIMD16<Int32>()
  for i in 0..<16 { r[i] = (k >> UInt16(i)) & 1 != 0 ? y[i] : x[i] }
  return emuZ(r)
}
/// VPBLENDMB: byte lanes, 64-bit mask.
@inline(__always) func _mm512_mask_blend_epi8(_ k: __mmask64, _ a: __m512i, _ b: __m512i) -> __m512i {
  let x = emuI8(a), y = emuI8(b)
  var r = SIMD64<Int8>()
  for i in 0..<64 { r[i] = (k >> UInt64(i)) & 1 != 0 ? y[i] : x[i] }
  return emuZ(r)
}
/// VMOVDQA32 zmm{k}: b under the mask, src elsewhere.
@inline(__always) func _mm512_mask_mov_epi32(_ src: __m512i, _ k: __mmask16, _ b: __m512i) -> __m512i {
  _mm512_mask_blend_epi32(k, src, b)
}
/// VMOVDQU8 zmm{k}{z}: bytes under the mask, others 0.
@inline(__always) func _mm512_maskz_mov_epi8(_ k: __mmask64, _ a: __m512i) -> __m512i {
  _mm512_mask_blend_epi8(k, _mm512_setzero_si512(), a)
}
/// VPERMB (AVX512-VBMI): byte i = a.b[idx.b[i] & 63] (index first).
@inline(__always) func _mm512_permutexvar_epi8(_ idx: __m512i, _ a: __m512i) -> __m512i {
  let x = emuU8(idx), t = emuU8(a)
  var r = SIMD64<UInt8>()
  for i in 0..<64 { r[i] = t[Int(x[i] & 63)] }
  return emuZ(r)
}
/// VPERMB zmm{k}: lanes under the mask as _mm512_permutexvar_epi8, src elsewhere.
@inline(__always) func _mm512_mask_permutexvar_epi8(_ src: __m512i, _ k: __mmask64, _ idx: __m512i, _ a: __m512i) -> __m512i {
  _mm512_mask_blend_epi8(k, src, _mm512_permutexvar_epi8(idx, a))
}
/// VPERMT2B / VPERMI2B (AVX512-VBMI), two tables: byte i = (idx.b[i] & 64 ?
/// b : a).b[idx.b[i] & 63].
@inline(__always) func _mm512_permutex2var_epi8(_ a: __m512i, _ idx: __m512i, _ b: __m512i) -> __m512i {
  let x = emuU8(idx), t = emuU8(a), u = emuU8(b)
  var r = SIMD64<UInt8>()
  for i in 0..<64 { r[i] = x[i] & 64 != 0 ? u[Int(x[i] & 63)] : t[Int(x[i] & 63)] }
  return emuZ(r)
}
/// VPTESTMB: mask bit i = (a.b[i] AND b.b[i]) != 0.
@inline(__always) func _mm512_test_epi8_mask(_ a: __m512i, _ b: __m512i) -> __mmask64 {
  let x = emuU8(a) & emuU8(b)
  var k: __mmask64 = 0
  for i in 0..<64 where x[i] != 0 { k |= 1 << UInt64(i) }
  return k
}
/// VPMOVB2M: mask bit i = the sign bit of byte i.
@inline(__always) func _mm512_movepi8_mask(_ a: __m512i) -> __mmask64 {
  let x = emuI8(a)
  var k: __mmask64 = 0
  for i in 0..<64 where x[i] < 0 { k |= 1 << UInt64(i) }
  return k
}
/// VPERMD: lane i = a.d[idx.d[i] & 15] (note the operand order: index first).
@inline(__always) func _mm512_permutexvar_epi32(_ idx: __m512i, _ a: __m512i) -> __m512i {
  let x = emuI32(a), n = emuU32(idx)
  var r = SIMD16<Int32>()
  for i in 0..<16 { r[i] = x[Int(n[i] & 15)] }
  return emuZ(r)
}

// MARK: width conversions
/// VPMOVSXBD: 16 signed bytes (the low 128 bits) to 16 dwords.
@inline(__always) func _mm512_cvtepi8_epi32(_ a: __m128i) -> __m512i {
  let b = unsafeBitCast(a, to: SIMD16<Int8>.self)
  var r = SIMD16<Int32>()
  for i in 0..<16 { r[i] = Int32(b[i]) }
  return emuZ(r)
}
/// VPMOVZXBD: 16 unsigned bytes to 16 dwords.
@inline(__always) func _mm512_cvtepu8_epi32(_ a: __m128i) -> __m512i {
  let b = unsafeBitCast(a, to: SIMD16<UInt8>.self)
  var r = SIMD16<Int32>()
  for i in 0..<16 { r[i] = Int32(b[i]) }
  return emuZ(r)
}
/// VPMOVSXBW: 32 signed bytes to 32 words.
@inline(__always) func _mm512_cvtepi8_epi16(_ a: __m256i) -> __m512i {
  let b = unsafeBitCast(a, to: SIMD32<Int8>.self)
  var r = SIMD32<Int16>()
  for i in 0..<32 { r[i] = Int16(b[i]) }
  return emuZ(r)
}
/// VPMOVSXWD: 16 signed words to 16 dwords.
@inline(__always) func _mm512_cvtepi16_epi32(_ a: __m256i) -> __m512i {
  let w = unsafeBitCast(a, to: SIMD16<Int16>.self)
  var r = SIMD16<Int32>()
  for i in 0..<16 { r[i] = Int32(w[i]) }
  return emuZ(r)
}
/// VPMOVDB: each dword truncated to its low byte, 16 bytes.
@inline(__always) func _mm512_cvtepi32_epi8(_ a: __m512i) -> __m128i {
  let x = emuI32(a)
  var r = SIMD16<Int8>()
  for i in 0..<16 { r[i] = Int8(truncatingIfNeeded: x[i]) }
  return unsafeBitCast(r, to: __m128i.self)
}
/// VPMOVSDB: each dword saturated to -128...127.
@inline(__always) func _mm512_cvtsepi32_epi8(_ a: __m512i) -> __m128i {
  let x = emuI32(a)
  var r = SIMD16<Int8>()
  for i in 0..<16 { r[i] = Int8(clamping: x[i]) }
  return unsafeBitCast(r, to: __m128i.self)
}
/// VPMOVDB m128{k}, zmm: the truncated bytes of the lanes under the mask.
@inline(__always) func _mm512_mask_cvtepi32_storeu_epi8(_ p: UnsafeMutableRawPointer?, _ k: __mmask16, _ a: __m512i) {
  let x = emuI32(a), dst = p!.assumingMemoryBound(to: Int8.self)
  for i in 0..<16 where (k >> UInt16(i)) & 1 != 0 { dst[i] = Int8(truncatingIfNeeded: x[i]) }
}
/// The low 256 bits (no instruction).
@inline(__always) func _mm512_castsi512_si256(_ a: __m512i) -> __m256i {
  let q = emuI64(a)
  return SIMD4<Int64>(q[0], q[1], q[2], q[3])
}
/// 256 bits into the low half; the upper half is undefined in the SDM's
/// terms, zero here.
@inline(__always) func _mm512_castsi256_si512(_ a: __m256i) -> __m512i {
  emuZ(SIMD8<Int64>(a[0], a[1], a[2], a[3], 0, 0, 0, 0))
}

// MARK: - depthwise kernel
// (DepthwiseAVX512.swift: the tap transpose, the packs back to channel
// order, the depth-multiplier gather.) All but vpermw work within each
// 128-bit lane, as their AVX2 forms do within each half.
/// VPUNPCKLBW: in each 128-bit lane L, bytes 2i and 2i + 1 are a.b[16L + i]
/// and b.b[16L + i], i = 0...7.
@inline(__always) func _mm512_unpacklo_epi8(_ a: __m512i, _ b: __m512i) -> __m512i { emuUnpack8(a, b, 0) }
/// VPUNPCKHBW: the same with i = 8...15.
@inline(__always) func _mm512_unpackhi_epi8(_ a: __m512i, _ b: __m512i) -> __m512i { emuUnpack8(a, b, 8) }
@inline(__always) func emuUnpack8(_ a: __m512i, _ b: __m512i, _ from: Int) -> __m512i {
  let x = emuI8(a), y = emuI8(b)
  var r = SIMD64<Int8>()
  for lane in 0..<4 {
    for i in 0..<8 {
      r[16 &* lane &+ 2 &* i] = x[16 &* lane &+ from &+ i]
      r[16 &* lane &+ 2 &* i &+ 1] = y[16 &* lane &+ from &+ i]
    }
  }
  return emuZ(r)
}
/// VPUNPCKLWD: in each 128-bit lane L, words 2i and 2i + 1 are a.w[8L + i]
/// and b.w[8L + i], i = 0...3.
@inline(__always) func _mm512_unpacklo_epi16(_ a: __m512i, _ b: __m512i) -> __m512i { emuUnpack16(a, b, 0) }
/// VPUNPCKHWD: the same with i = 4...7.
@inline(__always) func _mm512_unpackhi_epi16(_ a: __m512i, _ b: __m512i) -> __m512i { emuUnpack16(a, b, 4) }
@inline(__always) func emuUnpack16(_ a: __m512i, _ b: __m512i, _ from: Int) -> __m512i {
  let x = emuI16(a), y = emuI16(b)
  var r = SIMD32<Int16>()
  for lane in 0..<4 {
    for i in 0..<4 {
      r[8 &* lane &+ 2 &* i] = x[8 &* lane &+ from &+ i]
      r[8 &* lane &+ 2 &* i &+ 1] = y[8 &* lane &+ from &+ i]
    }
  }
  return emuZ(r)
}
/// VPACKSSDW: in each 128-bit lane L, words 0...3 are a.d[4L...4L+3] and
/// words 4...7 b.d[4L...4L+3], each saturated to -32768...32767.
@inline(__always) func _mm512_packs_epi32(_ a: __m512i, _ b: __m512i) -> __m512i {
  let x = emuI32(a), y = emuI32(b)
  var r = SIMD32<Int16>()
  for lane in 0..<4 {
    for i in 0..<4 {
      r[8 &* lane &+ i] = Int16(clamping: x[4 &* lane &+ i])
      r[8 &* lane &+ 4 &+ i] = Int16(clamping: y[4 &* lane &+ i])
    }
  }
  return emuZ(r)
}
/// VPACKSSWB: in each 128-bit lane L, bytes 0...7 are a.w[8L...8L+7] and
/// bytes 8...15 b.w[8L...8L+7], each saturated to -128...127.
@inline(__always) func _mm512_packs_epi16(_ a: __m512i, _ b: __m512i) -> __m512i {
  let x = emuI16(a), y = emuI16(b)
  var r = SIMD64<Int8>()
  for lane in 0..<4 {
    for i in 0..<8 {
      r[16 &* lane &+ i] = Int8(clamping: x[8 &* lane &+ i])
      r[16 &* lane &+ 8 &+ i] = Int8(clamping: y[8 &* lane &+ i])
    }
  }
  return emuZ(r)
}
/// VPERMW (AVX512BW): word i = a.w[idx.w[i] & 31], across the whole register
/// (note the operand order: index first).
@inline(__always) func _mm512_permutexvar_epi16(_ idx: __m512i, _ a: __m512i) -> __m512i {
  let x = emuI16(a), n = unsafeBitCast(idx, to: SIMD32<UInt16>.self)
  var r = SIMD32<Int16>()
  for i in 0..<32 { r[i] = x[Int(n[i] & 31)] }
  return emuZ(r)
}

// MARK: - elementwise, pooling and mean kernels
// (ElementwiseAVX512.swift, PoolAVX512.swift, MeanAVX512.swift; vpackssdw and
// vpacksswb are in the depthwise section above.)
/// VMOVDQU8 xmm{k}{z}, m128 (AVX512VL+BW): byte i loaded when mask bit i is
/// set, else 0; masked-off bytes are not accessed.
@inline(__always) func _mm_maskz_loadu_epi8(_ k: __mmask16, _ p: UnsafeRawPointer?) -> __m128i {
  var r = SIMD16<Int8>(repeating: 0)
  let src = p!.assumingMemoryBound(to: Int8.self)
  for i in 0..<16 where (k >> UInt16(i)) & 1 != 0 { r[i] = src[i] }
  return unsafeBitCast(r, to: __m128i.self)
}
/// VMOVDQU8 ymm{k}{z}, m256 (AVX512VL+BW): as above, 32 bytes.
@inline(__always) func _mm256_maskz_loadu_epi8(_ k: __mmask32, _ p: UnsafeRawPointer?) -> __m256i {
  var r = SIMD32<Int8>(repeating: 0)
  let src = p!.assumingMemoryBound(to: Int8.self)
  for i in 0..<32 where (k >> UInt32(i)) & 1 != 0 { r[i] = src[i] }
  return unsafeBitCast(r, to: __m256i.self)
}
@inline(__always) func _mm512_set1_ps(_ x: Float) -> __m512 { SIMD16<Float>(repeating: x) }
/// VCVTDQ2PS: int32 to float32, rounded to nearest even (MXCSR default),
/// as Swift's Float(Int32).
@inline(__always) func _mm512_cvtepi32_ps(_ a: __m512i) -> __m512 {
  let x = emuI32(a)
  var r = SIMD16<Float>()
  for i in 0..<16 { r[i] = Float(x[i]) }
  return r
}
/// VDIVPS: IEEE division, correctly rounded to nearest even (Swift's /).
@inline(__always) func _mm512_div_ps(_ a: __m512, _ b: __m512) -> __m512 { a / b }
/// VCVTTPS2DQ: truncation toward zero; NaN or out of int32 range gives the
/// integer indefinite 0x80000000.
@inline(__always) func _mm512_cvttps_epi32(_ a: __m512) -> __m512i {
  var r = SIMD16<Int32>()
  for i in 0..<16 {
    let v = a[i]
    r[i] = v.isNaN || v >= 2147483648.0 || v < -2147483648.0 ? Int32.min : Int32(v)
  }
  return emuZ(r)
}
#endif
