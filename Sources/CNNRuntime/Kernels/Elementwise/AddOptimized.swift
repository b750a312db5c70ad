// Optimised same-shape Add: the path is chosen once at model load (as for
// Conv2D, see Conv2DPacked.swift) and the ISA kernel is called with a
// cnnrt_add_args block built at load. Broadcast Add stays on the reference.
import _CNNRuntimeShims
#if canImport(_CNNKernelsAVX2)
import _CNNKernelsAVX2
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
    cnnrtAddAVX2(&a, count, input1, input2, output)
  }
  #endif
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
