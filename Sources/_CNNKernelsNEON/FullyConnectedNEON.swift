// aarch64 FullyConnected, bit-exact with fullyConnectedReference for
// symmetric weights (filter_offset 0; the runtime keeps the reference
// otherwise). The runtime passes `bias` = bias + input_offset * sum(filter
// row), computed at load, and input_offset 0, so the raw int8 inputs enter
// the products. Four units at a time share each 16-byte input load:
//   dotprod: one SDOT per unit and 16 depths (16 MACs);
//   neon:    SMULL + SMULL2 + 2 SADALP per unit and 16 depths.
// The depth tail (< 16) is summed in scalar code. The four sums are folded
// with ADDP into one vector, + the initial value, requantized
// (cnnrt_requant_s32), + output offset, clamped and stored.
#if arch(arm64)
import _CNNRuntimeShims

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtFullyConnectedArm(_ a: UnsafePointer<cnnrt_fc_args>, _ input: UnsafePointer<Int8>,
                                   _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let filter = p.filter, let mult = p.multiplier, let shift = p.shift, let accInit = p.bias else { return }
  let batches = Int(p.batches), depth = Int(p.depth), units = Int(p.units)
  guard batches > 0, depth > 0, units > 0 else { return }
  let full = depth & ~15
  let offset = vdupq_n_s32(p.output_offset), zero = vdupq_n_s32(0)
  let lo = vdupq_n_s8(Int8(truncatingIfNeeded: p.act_min)), hi = vdupq_n_s8(Int8(truncatingIfNeeded: p.act_max))
  var lanes = (Int32(0), Int32(0), Int32(0), Int32(0))
  var bytes = (Int64(0), Int64(0))
  withUnsafeMutableBytes(of: &lanes) { lanesRaw in
    withUnsafeMutableBytes(of: &bytes) { bytesRaw in
      let v32 = lanesRaw.baseAddress!.assumingMemoryBound(to: Int32.self)
      let v8 = bytesRaw.baseAddress!.assumingMemoryBound(to: Int8.self)
      var b = 0
      while b < batches {
        let x = input + b * depth
        var u = 0
        while u < units {
          let n = units - u < 4 ? units - u : 4
          // Rows past the last unit repeat it (computed, not stored).
          let r0 = filter + u * depth
          let r1 = filter + (u + (n > 1 ? 1 : 0)) * depth
          let r2 = filter + (u + (n > 2 ? 2 : 0)) * depth
          let r3 = filter + (u + (n > 3 ? 3 : 0)) * depth
          var a0 = zero, a1 = zero, a2 = zero, a3 = zero
          var d = 0
          while d < full {
            let xv = cnnrt_ld_s8(x + d)
            let w0 = cnnrt_ld_s8(r0 + d), w1 = cnnrt_ld_s8(r1 + d), w2 = cnnrt_ld_s8(r2 + d), w3 = cnnrt_ld_s8(r3 + d)
            #if CNNRT_DOTPROD
            a0 = cnnrt_sdot(a0, w0, xv); a1 = cnnrt_sdot(a1, w1, xv)
            a2 = cnnrt_sdot(a2, w2, xv); a3 = cnnrt_sdot(a3, w3, xv)
            #else
            a0 = cnnrt_padal_s16(cnnrt_padal_s16(a0, cnnrt_mull_lo_s8(w0, xv)), cnnrt_mull_hi_s8(w0, xv))
            a1 = cnnrt_padal_s16(cnnrt_padal_s16(a1, cnnrt_mull_lo_s8(w1, xv)), cnnrt_mull_hi_s8(w1, xv))
            a2 = cnnrt_padal_s16(cnnrt_padal_s16(a2, cnnrt_mull_lo_s8(w2, xv)), cnnrt_mull_hi_s8(w2, xv))
            a3 = cnnrt_padal_s16(cnnrt_padal_s16(a3, cnnrt_mull_lo_s8(w3, xv)), cnnrt_mull_hi_s8(w3, xv))
            #endif
            d += 16
          }
          // [sum a0, sum a1, sum a2, sum a3] (wrapping, as the reference's int32 sum).
          let sums = cnnrt_padd_s32(cnnrt_padd_s32(a0, a1), cnnrt_padd_s32(a2, a3))
          cnnrt_st_s32(v32, sums)
          var j = 0
          while j < 4 {
            let row = j == 0 ? r0 : (j == 1 ? r1 : (j == 2 ? r2 : r3))
            var t = v32[j]
            var k = full
            while k < depth { t = t &+ Int32(row[k]) &* Int32(x[k]); k += 1 }
            v32[j] = t &+ accInit[u + (j < n ? j : 0)]
            j += 1
          }
          // Per-unit requantization parameters (repeats past the last unit).
          var m = (Int32(0), Int32(0), Int32(0), Int32(0)), s = m
          withUnsafeMutableBytes(of: &m) { mRaw in
            withUnsafeMutableBytes(of: &s) { sRaw in
              let mp = mRaw.baseAddress!.assumingMemoryBound(to: Int32.self)
              let sp = sRaw.baseAddress!.assumingMemoryBound(to: Int32.self)
              var i = 0
              while i < 4 { mp[i] = mult[u + (i < n ? i : 0)]; sp[i] = shift[u + (i < n ? i : 0)]; i += 1 }
              let sv = cnnrt_ld_s32(sp)
              let q = cnnrt_requant_s32(cnnrt_ld_s32(v32), cnnrt_ld_s32(mp), vmaxq_s32(sv, zero), vminq_s32(sv, zero))
              cnnrt_st_s8(v8, cnnrt_narrow16(q, q, q, q, offset, lo, hi))
            }
          }
          let out = output + b * units + u
          var i = 0
          while i < n { out[i] = v8[i]; i += 1 }
          u += 4
        }
        b += 1
      }
    }
  }
}
#endif
