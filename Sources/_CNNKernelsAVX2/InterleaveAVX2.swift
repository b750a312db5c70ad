// AVX2 (x86-64-v3) interleave of two byte runs, bit-exact with the Gather
// op's loop for it: per row of 2n bytes, out[2j] = in[j] and
// out[2j + 1] = in[n + j] (ShuffleNet's channel shuffle of two groups, a
// Gather of channels). 16 j per step: vpunpcklbw and vpunpckhbw of the two
// runs' 16 bytes are the step's 32 outputs in order. When 16 does not divide
// n, the row's last step starts at n - 16 and writes again some bytes the
// step before it wrote, with the same values (the output does not overlap
// the input). The caller passes n >= 16 (the Gather op runs its loop for
// shorter halves).
#if arch(x86_64)
import _Builtin_intrinsics.intel

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtInterleave2AVX2(_ rows: Int, _ n: Int, _ input: UnsafePointer<Int8>,
                                 _ output: UnsafeMutablePointer<Int8>) {
  guard n >= 16 else { return }
  var r = 0
  while r < rows {
    let a = input + r &* 2 &* n, b = a + n, out = output + r &* 2 &* n
    @inline(__always) func step(_ j: Int) {
      let va = _mm_loadu_si128(UnsafeRawPointer(a + j).assumingMemoryBound(to: __m128i.self))
      let vb = _mm_loadu_si128(UnsafeRawPointer(b + j).assumingMemoryBound(to: __m128i.self))
      let dst = UnsafeMutableRawPointer(out + 2 &* j)
      _mm_storeu_si128(dst.assumingMemoryBound(to: __m128i.self), _mm_unpacklo_epi8(va, vb))
      _mm_storeu_si128((dst + 16).assumingMemoryBound(to: __m128i.self), _mm_unpackhi_epi8(va, vb))
    }
    var j = 0
    while j &+ 16 <= n { step(j); j &+= 16 }
    if j < n { step(n &- 16) }
    r &+= 1
  }
}
#endif
