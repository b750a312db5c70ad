// Optimised Mean over [outer, reduced, inner] (the global average of a CNN
// head): the AVX2 kernel, the AVX-512 one (_CNNKernelsAVX512/MeanAVX512.swift) or the Arm one, chosen by
// the model's path at each call; meanReference otherwise.
import _CNNRuntimeShims
#if canImport(_CNNKernelsAVX2)
import _CNNKernelsAVX2
#endif
#if canImport(_CNNKernelsAVX512)
import _CNNKernelsAVX512
#endif

/// Runs Mean on the optimised path `isa` (the CPU must support it): false,
/// writing nothing, when the path or the parameters have no optimised kernel
/// (the caller then runs meanReference). The vector requantization is exact
/// for a shift in -31...31 and a multiplier other than Int32.min
/// (prepareMean's are in [0, 2^31)).
public func meanOptimized(isa: Int32, params: MeanParams, outer: Int, reduced: Int, inner: Int,
                          input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) -> Bool {
  if isArmISA(isa) {
    return armMean(isa: isa, params: params, outer: outer, reduced: reduced, inner: inner, input: input, output: output)
  }
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  guard isa == KernelISA.avx2 || isa == KernelISA.avx512, outer > 0, reduced > 0, inner > 0,
        params.shift >= -31, params.shift <= 31, params.multiplier != Int32.min else { return false }
  #if canImport(_CNNKernelsAVX512)
  if isa == KernelISA.avx512 && cnnrtMeanAVX512(outer, reduced, inner, params.inputZeroPointTimesCount,
                                                params.multiplier, params.shift, params.outputZeroPoint, input, output) {
    return true
  }
  #endif
  cnnrtMeanAVX2(outer, reduced, inner, params.inputZeroPointTimesCount, params.multiplier, params.shift,
                params.outputZeroPoint, input, output)
  return true
  #else
  return false
  #endif
}
