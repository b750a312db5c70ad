// AVX512-VBMI 256-entry int8 table lookup, out[i] = table[in[i] + 128],
// bit-exact with byteTableReference (the eval of every byte-function
// activation: ReLU, ReLU6, LeakyReLU, HardSwish, Tanh, Logistic, Quantize,
// LookupTable). Runs only where the CPU has AVX512-VBMI (the loader's
// avx512ByteTableForm); without it the AVX-512 path uses the AVX2 kernel.
//
// The table is four 64-byte quarters held in four registers. Input byte x
// indexes quarter (x + 128) >> 6 at x & 63: x's bit 7 clear selects the upper
// half (quarters 2 and 3, x >= 0), bit 6 the odd quarter. Two forms, the
// same two the Add's byte tables have (cnnrt_add_args.byte_tables):
// - form 2: two VPERMT2B, each looking up a 128-entry half by bits 0...6, and
//   one blend by the sign bit: 3 vector instructions and a mask move per 64
//   bytes (faster on AMD CPUs for the Add's tables);
// - form 1: four VPERMB, each merge-masked over the previous by the bits its
//   quarter needs (later quarters overwrite earlier ones; no blend).
// 64 bytes per step, the tail by masked loads and stores.
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtByteTableAVX512(_ table: UnsafePointer<Int8>, _ count: Int, _ input: UnsafePointer<Int8>,
                                 _ output: UnsafeMutablePointer<Int8>, _ form: Int32) {
  let t = UnsafeRawPointer(table)
  let q0 = _mm512_loadu_si512(t), q1 = _mm512_loadu_si512(t + 64)
  let q2 = _mm512_loadu_si512(t + 128), q3 = _mm512_loadu_si512(t + 192)
  if form == 2 {
    byteRows512(count, input, output) { x in
      let negative = _mm512_permutex2var_epi8(q0, x, q1)   // entries 0...127: x in -128...-1
      let nonNegative = _mm512_permutex2var_epi8(q2, x, q3)  // entries 128...255: x in 0...127
      return _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), nonNegative, negative)
    }
  } else {
    let bit6 = _mm512_set1_epi8(0x40)
    byteRows512(count, input, output) { x in
      let upper = ~_mm512_movepi8_mask(x), odd = _mm512_test_epi8_mask(x, bit6)
      let r0 = _mm512_permutexvar_epi8(x, q0)
      let r1 = _mm512_mask_permutexvar_epi8(r0, odd, x, q1)
      let r2 = _mm512_mask_permutexvar_epi8(r1, upper, x, q2)
      return _mm512_mask_permutexvar_epi8(r2, upper & odd, x, q3)
    }
  }
}

/// out = f(in) for `count` bytes, 64 at a time (the last block masked: bytes
/// past `count` are neither read nor written).
@inline(__always)
func byteRows512(_ count: Int, _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>,
                 _ f: (__m512i) -> __m512i) {
  forEachBlock64(count) { i, mask, full in
    store64(output + i, f(load64(input + i, mask, full)), mask, full)
  }
}
#endif
