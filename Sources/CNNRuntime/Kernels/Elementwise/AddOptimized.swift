// Optimised Add: the path is chosen once at model load (as for Conv2D, see
// Conv2DPacked.swift) and the ISA kernel is called with a cnnrt_add_args
// block built at load. Same-shape inputs are one row; a broadcast Add on
// the x86 paths walks its BroadcastPlan (Broadcast.swift) row by row, as
// Mul does: an operand that is one row repeated over every row of the
// other (a per-channel [1,1,1,C] operand over [N,H,W,C]) has its rescaled
// terms computed once per channel (cnnrtAddTermsAVX2) and the op runs as
// one cnnrtAddRowsAVX2 call, or cnnrtAddRowsAVX512 on that path
// (withRepeatedRowTerms, Broadcast.swift); other rows where both inputs are
// contiguous, and rows where one input is a single value (a scalar; a
// [1,H,W,1] operand over [1,H,W,C]), run one row kernel call each. On the
// AVX-512 path each row runs the AVX-512 kernel
// (_CNNKernelsAVX512/ElementwiseAVX512.swift), or the AVX2 one where a
// multiplier is Int32.min. The Arm paths run
// broadcast Add per pixel (ArmOps.swift).
import _CNNRuntimeShims
#if canImport(_CNNKernelsAVX2)
import _CNNKernelsAVX2
#endif
#if canImport(_CNNKernelsAVX512)
import _CNNKernelsAVX512
#endif

/// The argument block of the ISA Add kernels for `params`, or nil when the
/// parameters are outside what the vector kernels reproduce exactly (shift
/// counts out of range, clamp bounds outside int8) or `isa` has no Add
/// kernel: such ops keep addReference.
public func addKernelArgs(isa: Int32, params: AddParams) -> cnnrt_add_args? {
  #if (canImport(_CNNKernelsAVX2) && arch(x86_64)) || (canImport(_CNNKernelsNEON) && arch(arm64))
  guard isa == KernelISA.avx2 || isa == KernelISA.avx512 || isArmISA(isa) else { return nil }
  @inline(__always) func shiftOK(_ s: Int32) -> Bool { s >= -31 && s <= 31 }
  guard params.leftShift >= 0, params.leftShift <= 31,
        shiftOK(params.input1Shift), shiftOK(params.input2Shift), shiftOK(params.outputShift),
        params.activationMin >= -128, params.activationMin <= 127,
        params.activationMax >= -128, params.activationMax <= 127 else { return nil }
  var a = cnnrt_add_args()
  a.input1_offset = params.input1Offset; a.input2_offset = params.input2Offset
  a.output_offset = params.outputOffset; a.left_shift = params.leftShift
  a.input1_multiplier = params.input1Multiplier; a.input1_shift = params.input1Shift
  a.input2_multiplier = params.input2Multiplier; a.input2_shift = params.input2Shift
  a.output_multiplier = params.outputMultiplier; a.output_shift = params.outputShift
  a.act_min = params.activationMin; a.act_max = params.activationMax
  a.byte_tables = avx512ByteTableForm(isa: isa)
  #if canImport(_CNNKernelsAVX512)
  // The table kernel's split output stage, where it gives the same bytes for
  // every input pair (checked here, once per op).
  if a.byte_tables != 0 { a.split_output = cnnrtAddSplitOutputAVX512(&a) }
  #endif
  return a
  #else
  return nil
  #endif
}

/// Runs the `isa` Add kernel on `count` elements (args from `addKernelArgs`
/// for the same `isa`; the CPU must support it). A path this build lacks
/// writes nothing.
@inline(__always)
func addOptimized(isa: Int32, args: cnnrt_add_args, count: Int,
                  input1: UnsafePointer<Int8>, input2: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) {
  if isArmISA(isa) {
    var a = args
    armAddRun(isa: isa, args: &a, count: count, input1: input1, stride1: 1, input2: input2, stride2: 1, output: output)
    return
  }
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if isa == KernelISA.avx2 || isa == KernelISA.avx512 {
    var a = args
    addRowX86(isa: isa, &a, count, input1, input2, output)
  }
  #endif
}

#if canImport(_CNNKernelsAVX2) && arch(x86_64)
/// One same-shape row on an x86 path: the AVX-512 kernel on that path where
/// its requantization is exact (every multiplier but Int32.min), else AVX2.
@inline(__always)
func addRowX86(isa: Int32, _ a: inout cnnrt_add_args, _ count: Int, _ input1: UnsafePointer<Int8>,
               _ input2: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>) {
  #if canImport(_CNNKernelsAVX512)
  if isa == KernelISA.avx512 && cnnrtAddAVX512(&a, count, input1, input2, output) { return }
  #endif
  cnnrtAddAVX2(&a, count, input1, input2, output)
}

/// One row with a single value for the other input, as addRowX86.
@inline(__always)
func addScalarRowX86(isa: Int32, _ a: inout cnnrt_add_args, _ count: Int, _ input: UnsafePointer<Int8>,
                     _ inputIsSecond: Bool, _ value: Int8, _ output: UnsafeMutablePointer<Int8>) {
  #if canImport(_CNNKernelsAVX512)
  if isa == KernelISA.avx512 && cnnrtAddScalarAVX512(&a, count, input, inputIsSecond, value, output) { return }
  #endif
  cnnrtAddScalarAVX2(&a, count, input, inputIsSecond, value, output)
}
#endif

/// Broadcast Add on an x86 path along `plan` (args from `addKernelArgs` for
/// the same `isa`; the CPU must support it). A path this build lacks writes
/// nothing.
func addBroadcastOptimized(isa: Int32, args: cnnrt_add_args, plan: BroadcastPlan,
                           input1: UnsafePointer<Int8>, input2: UnsafePointer<Int8>,
                           output: UnsafeMutablePointer<Int8>) {
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  guard isa == KernelISA.avx2 || isa == KernelISA.avx512 else { return }
  var a = args
  let n = plan.rowLength
  let st1 = plan.strides1[4], st2 = plan.strides2[4]
  if let repeated = plan.repeatedRowInput {
    // A per-channel operand over [N,H,W,C]: its rescaled terms once per row
    // position, then two requantizations per element in one kernel call.
    let row = repeated == 0 ? input1 : input2, flat = repeated == 0 ? input2 : input1
    withRepeatedRowTerms(rowLength: n, total: plan.outputCount) { c0, count, terms in
      cnnrtAddTermsAVX2(&a, row + c0, count, repeated == 1, terms)
    } _: { rows, count, stride, offset, terms in
      #if canImport(_CNNKernelsAVX512)
      if isa == KernelISA.avx512
        && cnnrtAddRowsAVX512(&a, rows, count, stride, flat + offset, repeated == 0, terms, output + offset) { return }
      #endif
      cnnrtAddRowsAVX2(&a, rows, count, stride, flat + offset, repeated == 0, terms, output + offset)
    }
  } else if st1 == 1 && st2 == 1 {
    plan.forEachRow { i1, i2, o in addRowX86(isa: isa, &a, n, input1 + i1, input2 + i2, output + o) }
  } else if st1 == 1 {
    // Input 2 is one value per row.
    plan.forEachRow { i1, i2, o in addScalarRowX86(isa: isa, &a, n, input1 + i1, false, input2[i2], output + o) }
  } else if st2 == 1 {
    plan.forEachRow { i1, i2, o in addScalarRowX86(isa: isa, &a, n, input2 + i2, true, input1[i1], output + o) }
  } else {
    // Not produced by BroadcastPlan (some input walks the innermost dimension); kept total.
    let p = AddParams(input1Offset: args.input1_offset, input2Offset: args.input2_offset,
                      outputOffset: args.output_offset, leftShift: args.left_shift,
                      input1Multiplier: args.input1_multiplier, input1Shift: args.input1_shift,
                      input2Multiplier: args.input2_multiplier, input2Shift: args.input2_shift,
                      outputMultiplier: args.output_multiplier, outputShift: args.output_shift,
                      activationMin: args.act_min, activationMax: args.act_max)
    broadcastBinary(plan, input1, input2, output) { addElement(p, $0, $1) }
  }
  #endif
}

/// Broadcast Add on the optimised x86 path `isa` (for tests and benchmarks):
/// false, writing nothing, when the parameters or the path have no
/// optimised kernel. The caller guarantees the CPU supports `isa`.
public func addBroadcastOptimized(isa: Int32, params: AddParams, plan: BroadcastPlan,
                                  input1: UnsafePointer<Int8>, input2: UnsafePointer<Int8>,
                                  output: UnsafeMutablePointer<Int8>) -> Bool {
  guard isa == KernelISA.avx2 || isa == KernelISA.avx512, let args = addKernelArgs(isa: isa, params: params)
  else { return false }
  addBroadcastOptimized(isa: isa, args: args, plan: plan, input1: input1, input2: input2, output: output)
  return true
}

/// Same-shape Add on the optimised path `isa` (for tests and benchmarks):
/// false, writing nothing, when the parameters or the path have no
/// optimised kernel. The caller guarantees the CPU supports `isa`
/// (`resolvedKernelISA`).
public func addOptimized(isa: Int32, params: AddParams, count: Int,
                         input1: UnsafePointer<Int8>, input2: UnsafePointer<Int8>,
                         output: UnsafeMutablePointer<Int8>) -> Bool {
  guard count >= 0, let args = addKernelArgs(isa: isa, params: params) else { return false }
  addOptimized(isa: isa, args: args, count: count, input1: input1, input2: input2, output: output)
  return true
}
