// AVX2 (x86-64-v3) 256-entry int8 table lookup, out[i] = table[in[i] + 128],
// bit-exact with byteTableReference (the eval of every byte-function
// activation: ReLU, ReLU6, LeakyReLU, HardSwish, Tanh, Quantize, LookupTable).
//
// VPSHUFB looks up 16 entries by the low 4 bits of each index byte and gives
// 0 when the index's bit 7 is set. With u = in ^ 0x80 (= in + 128 as an
// unsigned byte) and table row k = entries 16k ... 16k + 15, the byte
// t = sat_u8((u ^ 16k) + 0x70) has bit 7 clear exactly when u's high nibble
// is k (then t = 0x70 + low nibble), so PSHUFB(row k, t) is the entry for
// those bytes and 0 for all others; the OR over k = 0 ... 15 is the lookup.
// 32 bytes per step; the tail (< 32) is scalar.
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtByteTableAVX2(_ table: UnsafePointer<Int8>, _ count: Int,
                               _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>) {
  @inline(__always) func row(_ k: Int) -> __m256i {
    _mm256_broadcastsi128_si256(_mm_loadu_si128(UnsafeRawPointer(table + 16 &* k).assumingMemoryBound(to: __m128i.self)))
  }
  let rows = (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7),
              row(8), row(9), row(10), row(11), row(12), row(13), row(14), row(15))
  let flip = _mm256_set1_epi8(-128)
  let bias = _mm256_set1_epi8(0x70)
  @inline(__always) func part(_ u: __m256i, _ k: Int8, _ r: __m256i) -> __m256i {
    let t = _mm256_adds_epu8(_mm256_xor_si256(u, _mm256_set1_epi8(k &* 16)), bias)
    return _mm256_shuffle_epi8(r, t)
  }
  var i = 0
  while i &+ 32 <= count {
    let u = _mm256_xor_si256(_mm256_loadu_si256(UnsafeRawPointer(input + i).assumingMemoryBound(to: __m256i.self)), flip)
    var a = _mm256_or_si256(part(u, 0, rows.0), part(u, 1, rows.1))
    var b = _mm256_or_si256(part(u, 2, rows.2), part(u, 3, rows.3))
    a = _mm256_or_si256(a, _mm256_or_si256(part(u, 4, rows.4), part(u, 5, rows.5)))
    b = _mm256_or_si256(b, _mm256_or_si256(part(u, 6, rows.6), part(u, 7, rows.7)))
    a = _mm256_or_si256(a, _mm256_or_si256(part(u, 8, rows.8), part(u, 9, rows.9)))
    b = _mm256_or_si256(b, _mm256_or_si256(part(u, 10, rows.10), part(u, 11, rows.11)))
    a = _mm256_or_si256(a, _mm256_or_si256(part(u, 12, rows.12), part(u, 13, rows.13)))
    b = _mm256_or_si256(b, _mm256_or_si256(part(u, 14, rows.14), part(u, 15, rows.15)))
    _mm256_storeu_si256(UnsafeMutableRawPointer(output + i).assumingMemoryBound(to: __m256i.self), _mm256_or_si256(a, b))
    i &+= 32
  }
  while i < count {
    output[i] = table[Int(input[i]) &+ 128]
    i &+= 1
  }
}
#endif
