// AVX2 (x86-64-v3) 256-entry int8 table lookup, out[i] = table[in[i] + 128],
// bit-exact with byteTableReference (the eval of every byte-function
// activation: ReLU, ReLU6, LeakyReLU, HardSwish, Tanh, Quantize, LookupTable).
//
// With u = in ^ 0x80 (= in + 128 as an unsigned byte), table row k holds
// entries 16k ... 16k + 15, the entries of the bytes whose high nibble is k.
// VPSHUFB looks a row up by the low 4 bits of each index byte and gives 0
// where the index's bit 7 is set. Each pair of rows 2j, 2j + 1 is looked up
// with the low nibble and bit 7 = u's bit 4 (for row 2j), resp. its
// complement (row 2j + 1), so OR-ing the two gives the pair's entry: 8 pairs,
// 16 shuffles and 8 ORs. Three rounds of VPBLENDVB then pick among the pairs
// by u's bits 5, 6 and 7 (4 + 2 + 1 blends), each bit moved to the byte's
// sign bit by a 16-bit left shift (the bits a shift carries in from the
// lower byte land below the sign bit). 39 instructions per 32 bytes, 7 of
// them blends (one port on Zen 3), against 64 for masking each of the 16
// rows' shuffles by the high nibble and OR-ing the results.
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
  let lowNibble = _mm256_set1_epi8(0x0F)
  @inline(__always) func pick(_ a: __m256i, _ b: __m256i, _ m: __m256i) -> __m256i { _mm256_blendv_epi8(a, b, m) }
  var i = 0
  while i &+ 32 <= count {
    let u = _mm256_xor_si256(_mm256_loadu_si256(UnsafeRawPointer(input + i).assumingMemoryBound(to: __m256i.self)), flip)
    // Index of the even rows: 0 where u's bit 4 is set; of the odd rows: 0 where it is clear.
    let even = _mm256_or_si256(_mm256_and_si256(u, lowNibble), _mm256_and_si256(_mm256_slli_epi16(u, 3), flip))
    let odd = _mm256_xor_si256(even, flip)
    @inline(__always) func pair(_ a: __m256i, _ b: __m256i) -> __m256i {
      _mm256_or_si256(_mm256_shuffle_epi8(a, even), _mm256_shuffle_epi8(b, odd))
    }
    let m5 = _mm256_slli_epi16(u, 2), m6 = _mm256_slli_epi16(u, 1)
    let q0 = pick(pair(rows.0, rows.1), pair(rows.2, rows.3), m5)
    let q1 = pick(pair(rows.4, rows.5), pair(rows.6, rows.7), m5)
    let q2 = pick(pair(rows.8, rows.9), pair(rows.10, rows.11), m5)
    let q3 = pick(pair(rows.12, rows.13), pair(rows.14, rows.15), m5)
    let out = pick(pick(q0, q1, m6), pick(q2, q3, m6), u)
    _mm256_storeu_si256(UnsafeMutableRawPointer(output + i).assumingMemoryBound(to: __m256i.self), out)
    i &+= 32
  }
  while i < count {
    output[i] = table[Int(input[i]) &+ 128]
    i &+= 1
  }
}
#endif
