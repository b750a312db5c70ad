// Optimised Mul: the path is chosen once at model load (as for Add, see
// AddOptimized.swift) and the ISA row kernels are called with a
// cnnrt_mul_args block built at load, row by row along the op's broadcast
// plan: rows where both inputs are contiguous (same shape; an SE gate
// [1,1,1,C] over [1,H,W,C]) and rows where one input is a single value
// (a [1,H,W,1] factor over [1,H,W,C]); on the AVX-512 path the AVX-512
// row kernels (_CNNKernelsAVX512/ElementwiseAVX512.swift). An operand that
// is one row repeated over every row (an SE gate or a per-channel
// constant) runs as one cnnrtMulRowsAVX2 call over the whole op, or
// cnnrtMulRowsAVX512 on that path (withRepeatedRowTerms, Broadcast.swift).
// Both Arm paths run the NEON row kernel (ArmOps.swift), each input
// contiguous along the row or one value for it.
import _CNNRuntimeShims
#if canImport(_CNNKernelsAVX2)
import _CNNKernelsAVX2
#endif
#if canImport(_CNNKernelsAVX512)
import _CNNKernelsAVX512
#endif

/// The argument block of the ISA Mul kernels for `params`, or nil when the
/// parameters are outside what the vector kernels reproduce exactly (shift
/// out of -31...31, a negative multiplier, clamp bounds outside int8) or
/// `isa` has no Mul kernel: such ops keep the reference.
public func mulKernelArgs(isa: Int32, params: MulParams) -> cnnrt_mul_args? {
  #if (canImport(_CNNKernelsAVX2) && arch(x86_64)) || (canImport(_CNNKernelsNEON) && arch(arm64))
  guard isa == KernelISA.avx2 || isa == KernelISA.avx512 || isArmISA(isa) else { return nil }
  guard params.outputShift >= -31, params.outputShift <= 31, params.outputMultiplier >= 0,
        params.activationMin >= -128, params.activationMin <= 127,
        params.activationMax >= -128, params.activationMax <= 127,
        params.input1Offset >= -255, params.input1Offset <= 255,
        params.input2Offset >= -255, params.input2Offset <= 255 else { return nil }
  var a = cnnrt_mul_args()
  a.input1_offset = params.input1Offset; a.input2_offset = params.input2Offset
  a.output_offset = params.outputOffset
  a.output_multiplier = params.outputMultiplier; a.output_shift = params.outputShift
  a.act_min = params.activationMin; a.act_max = params.activationMax
  return a
  #else
  return nil
  #endif
}

/// Whether the `isa` row kernels take `plan`'s rows: each input contiguous
/// along the row or one value for it (innermost stride 1 or 0), on x86 at
/// least one of them contiguous. Other plans (not produced by BroadcastPlan
/// for Mul, kept total) run the reference; decided at load.
func mulPlanHasKernel(isa: Int32, plan: BroadcastPlan) -> Bool {
  let st1 = plan.strides1[4], st2 = plan.strides2[4]
  guard (st1 == 0 || st1 == 1) && (st2 == 0 || st2 == 1) else { return false }
  return isArmISA(isa) || st1 == 1 || st2 == 1
}

/// Runs Mul on the `isa` path along `plan` (args from `mulKernelArgs` for
/// the same `isa`, a plan `mulPlanHasKernel` takes; the CPU must support
/// it). A path this build lacks writes nothing.
@inline(__always)
func mulOptimized(isa: Int32, args: cnnrt_mul_args, plan: BroadcastPlan,
                  input1: UnsafePointer<Int8>, input2: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) {
  if isArmISA(isa) {
    var a = args
    let n = plan.rowLength, st1 = plan.strides1[4], st2 = plan.strides2[4]
    plan.forEachRow { i1, i2, o in
      armMulRun(isa: isa, args: &a, count: n, input1: input1 + i1, stride1: st1, input2: input2 + i2, stride2: st2,
                output: output + o)
    }
    return
  }
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if isa == KernelISA.avx2 || isa == KernelISA.avx512 {
    var a = args
    let n = plan.rowLength
    let st1 = plan.strides1[4], st2 = plan.strides2[4]
    if let repeated = plan.repeatedRowInput {
      // An SE gate or per-channel constant over [N,H,W,C]: its values plus
      // offset once per row position, then the whole op in one kernel call.
      let row = repeated == 0 ? input1 : input2, flat = repeated == 0 ? input2 : input1
      let rowOffset = repeated == 0 ? args.input1_offset : args.input2_offset
      let flatOffset = repeated == 0 ? args.input2_offset : args.input1_offset
      withRepeatedRowTerms(rowLength: n, total: plan.outputCount) { c0, count, factors in
        var j = 0
        while j < count { factors[j] = Int32(row[c0 &+ j]) &+ rowOffset; j &+= 1 }
      } _: { rows, count, stride, offset, factors in
        #if canImport(_CNNKernelsAVX512)
        if isa == KernelISA.avx512
          && cnnrtMulRowsAVX512(&a, rows, count, stride, flat + offset, flatOffset, factors, output + offset) { return }
        #endif
        cnnrtMulRowsAVX2(&a, rows, count, stride, flat + offset, flatOffset, factors, output + offset)
      }
    } else if st1 == 1 && st2 == 1 {
      plan.forEachRow { i1, i2, o in mulRowX86(isa: isa, &a, n, input1 + i1, input2 + i2, output + o) }
    } else if st1 == 1 {
      // Input 2 is one value per row.
      plan.forEachRow { i1, i2, o in
        mulScalarRowX86(isa: isa, &a, n, input1 + i1, args.input1_offset, Int32(input2[i2]) &+ args.input2_offset,
                        output + o)
      }
    } else {
      // Input 1 is one value per row (mulPlanHasKernel: input 2 is contiguous).
      plan.forEachRow { i1, i2, o in
        mulScalarRowX86(isa: isa, &a, n, input2 + i2, args.input2_offset, Int32(input1[i1]) &+ args.input1_offset,
                        output + o)
      }
    }
  }
  #endif
}

#if canImport(_CNNKernelsAVX2) && arch(x86_64)
/// One same-shape row on an x86 path: the AVX-512 kernel on that path (its
/// requantization covers every multiplier mulKernelArgs admits), else AVX2.
@inline(__always)
func mulRowX86(isa: Int32, _ a: inout cnnrt_mul_args, _ count: Int, _ input1: UnsafePointer<Int8>,
               _ input2: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>) {
  #if canImport(_CNNKernelsAVX512)
  if isa == KernelISA.avx512 && cnnrtMulAVX512(&a, count, input1, input2, output) { return }
  #endif
  cnnrtMulAVX2(&a, count, input1, input2, output)
}

/// One row times a single value (`factor`, offset included), as mulRowX86.
@inline(__always)
func mulScalarRowX86(isa: Int32, _ a: inout cnnrt_mul_args, _ count: Int, _ input: UnsafePointer<Int8>,
                     _ inputOffset: Int32, _ factor: Int32, _ output: UnsafeMutablePointer<Int8>) {
  #if canImport(_CNNKernelsAVX512)
  if isa == KernelISA.avx512 && cnnrtMulScalarAVX512(&a, count, input, inputOffset, factor, output) { return }
  #endif
  cnnrtMulScalarAVX2(&a, count, input, inputOffset, factor, output)
}
#endif

/// Mul on the optimised path `isa` (for tests and benchmarks): false,
/// writing nothing, when the parameters or the path have no optimised
/// kernel. The caller guarantees the CPU supports `isa` (`resolvedKernelISA`).
public func mulOptimized(isa: Int32, params: MulParams, plan: BroadcastPlan,
                         input1: UnsafePointer<Int8>, input2: UnsafePointer<Int8>,
                         output: UnsafeMutablePointer<Int8>) -> Bool {
  guard let args = mulKernelArgs(isa: isa, params: params), mulPlanHasKernel(isa: isa, plan: plan) else { return false }
  mulOptimized(isa: isa, args: args, plan: plan, input1: input1, input2: input2, output: output)
  return true
}
