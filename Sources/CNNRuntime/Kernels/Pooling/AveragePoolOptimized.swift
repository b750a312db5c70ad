// AveragePool2D and MaxPool2D dispatch: the AVX2 kernels (_CNNKernelsAVX2/PoolAVX2.swift)
// or on the AVX-512 path the AVX-512 ones (_CNNKernelsAVX512/PoolAVX512.swift;
// an average pool with windows over 2^16 taps or activation bounds outside
// int8 runs the AVX2 kernel there) when the model's path has one and the
// parameters are in its domain, else averagePool2DReference. The argument
// block is a few stores per run (no allocation).
import _CNNRuntimeShims
#if canImport(_CNNKernelsAVX2)
import _CNNKernelsAVX2
#endif
#if canImport(_CNNKernelsAVX512)
import _CNNKernelsAVX512
#endif

/// The pooling kernels' argument block (every ISA's pooling kernels take it).
@inline(__always)
func poolKernelArgs(params: PoolParams, inputShape: Dims4, outputShape: Dims4) -> cnnrt_pool_args {
  var a = cnnrt_pool_args()
  a.batches = Int64(inputShape.n); a.in_h = Int64(inputShape.h); a.in_w = Int64(inputShape.w)
  a.channels = Int64(inputShape.c); a.out_h = Int64(outputShape.h); a.out_w = Int64(outputShape.w)
  a.stride_h = Int64(params.strideH); a.stride_w = Int64(params.strideW)
  a.filter_h = Int64(params.filterH); a.filter_w = Int64(params.filterW)
  a.pad_top = Int64(params.padTop); a.pad_left = Int64(params.padLeft)
  a.act_min = params.activationMin; a.act_max = params.activationMax
  return a
}

/// Average pooling on the kernel path `isa` (the CPU must support it),
/// byte-identical to averagePool2DReference.
public func averagePool2DOptimized(
  isa: Int32, params: PoolParams,
  inputShape: Dims4, input: UnsafePointer<Int8>,
  outputShape: Dims4, output: UnsafeMutablePointer<Int8>
) {
  if armPool(isa: isa, average: true, params: params, inputShape: inputShape, input: input,
             outputShape: outputShape, output: output) { return }
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if (isa == KernelISA.avx2 || isa == KernelISA.avx512),
     inputShape.n > 0, inputShape.h > 0, inputShape.w > 0, inputShape.c > 0,
     outputShape.h > 0, outputShape.w > 0, outputShape.n == inputShape.n, outputShape.c == inputShape.c,
     params.filterH > 0, params.filterW > 0, params.filterH <= 1 << 12, params.filterW <= 1 << 11,
     params.activationMin >= -128, params.activationMax <= 127 {
    var a = poolKernelArgs(params: params, inputShape: inputShape, outputShape: outputShape)
    #if canImport(_CNNKernelsAVX512)
    if isa == KernelISA.avx512 && cnnrtAveragePoolAVX512(&a, input, output) { return }
    #endif
    cnnrtAveragePoolAVX2(&a, input, output)
    return
  }
  #endif
  averagePool2DReference(params: params, inputShape: inputShape, input: input, outputShape: outputShape,
                         output: output)
}

/// Max pooling on the AVX2 kernel (the AVX-512 one on that path) when the
/// model's path has it and the activation bounds are int8 values; false
/// otherwise (the caller runs maxPool2DReference).
func maxPool2DOptimized(
  isa: Int32, params: PoolParams,
  inputShape: Dims4, input: UnsafePointer<Int8>,
  outputShape: Dims4, output: UnsafeMutablePointer<Int8>
) -> Bool {
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if (isa == KernelISA.avx2 || isa == KernelISA.avx512),
     inputShape.n > 0, inputShape.h > 0, inputShape.w > 0, inputShape.c > 0,
     outputShape.h > 0, outputShape.w > 0, outputShape.n == inputShape.n, outputShape.c == inputShape.c,
     params.filterH > 0, params.filterW > 0,
     params.activationMin >= -128, params.activationMin <= 127,
     params.activationMax >= -128, params.activationMax <= 127 {
    var a = poolKernelArgs(params: params, inputShape: inputShape, outputShape: outputShape)
    #if canImport(_CNNKernelsAVX512)
    if isa == KernelISA.avx512 {
      cnnrtMaxPoolAVX512(&a, input, output)
      return true
    }
    #endif
    cnnrtMaxPoolAVX2(&a, input, output)
    return true
  }
  #endif
  return false
}
