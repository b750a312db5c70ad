// aarch64 dispatch for FullyConnected, Add (same shape and broadcast), Mul,
// max and average pooling and Mean (kernels: Sources/_CNNKernelsNEON). Each
// entry point returns false (or nil) when the path is not an Arm one or the
// parameters are outside what the kernels reproduce exactly; the op then
// runs its reference kernel.
import _CNNRuntimeShims
#if canImport(_CNNKernelsNEON)
import _CNNKernelsNEON
#endif
#if canImport(_CNNKernelsDotProd)
import _CNNKernelsDotProd
#endif

// MARK: - FullyConnected

@inline(__always)
func armFullyConnectedRun(isa: Int32, args: UnsafePointer<cnnrt_fc_args>, input: UnsafePointer<Int8>,
                          output: UnsafeMutablePointer<Int8>) {
  #if canImport(_CNNKernelsDotProd) && arch(arm64)
  if isa == KernelISA.dotprod { _CNNKernelsDotProd.cnnrtFullyConnectedArm(args, input, output); return }
  #endif
  #if canImport(_CNNKernelsNEON) && arch(arm64)
  if isa == KernelISA.neon { _CNNKernelsNEON.cnnrtFullyConnectedArm(args, input, output) }
  #endif
}

// MARK: - Add

/// Same-shape Add, or one row of a broadcast Add: input k advances by
/// stride k (1, or 0 for a repeated value).
@inline(__always)
func armAddRun(isa: Int32, args: UnsafePointer<cnnrt_add_args>, count: Int,
               input1: UnsafePointer<Int8>, stride1: Int, input2: UnsafePointer<Int8>, stride2: Int,
               output: UnsafeMutablePointer<Int8>) {
  #if canImport(_CNNKernelsNEON) && arch(arm64)
  if isArmISA(isa) { _CNNKernelsNEON.cnnrtAddArm(args, count, input1, stride1, input2, stride2, output) }
  #endif
}

// MARK: - Mul

/// One row of Mul: input k advances by stride k (1, or 0 for a repeated value).
@inline(__always)
func armMulRun(isa: Int32, args: UnsafePointer<cnnrt_mul_args>, count: Int,
               input1: UnsafePointer<Int8>, stride1: Int, input2: UnsafePointer<Int8>, stride2: Int,
               output: UnsafeMutablePointer<Int8>) {
  #if canImport(_CNNKernelsNEON) && arch(arm64)
  if isArmISA(isa) { _CNNKernelsNEON.cnnrtMulArm(args, count, input1, stride1, input2, stride2, output) }
  #endif
}

/// Broadcast Add on an Arm path: one kernel call per output pixel over the
/// channels (each input's channel stride 1, or 0 when its C is 1), the
/// pixel offsets as in addBroadcastReference.
func armAddBroadcast(isa: Int32, args: cnnrt_add_args, outputShape: Dims4,
                     input1Shape: Dims4, input1: UnsafePointer<Int8>,
                     input2Shape: Dims4, input2: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) {
  let s1 = broadcastStrides(input1Shape), s2 = broadcastStrides(input2Shape), C = outputShape.c
  var a = args
  var o = 0
  var b = 0
  while b < outputShape.n {
    var y = 0
    while y < outputShape.h {
      var x = 0
      while x < outputShape.w {
        armAddRun(isa: isa, args: &a, count: C,
                  input1: input1 + (b * s1.0 + y * s1.1 + x * s1.2), stride1: s1.3,
                  input2: input2 + (b * s2.0 + y * s2.1 + x * s2.2), stride2: s2.3, output: output + o)
        o += C
        x += 1
      }
      y += 1
    }
    b += 1
  }
}

// MARK: - Pooling

/// Max (`average` false) or average pooling on an Arm path; false when the
/// path or the parameters have no Arm kernel.
func armPool(isa: Int32, average: Bool, params: PoolParams, inputShape: Dims4, input: UnsafePointer<Int8>,
             outputShape: Dims4, output: UnsafeMutablePointer<Int8>) -> Bool {
  #if canImport(_CNNKernelsNEON) && arch(arm64)
  guard isArmISA(isa), inputShape.n > 0, inputShape.h > 0, inputShape.w > 0, inputShape.c > 0,
        outputShape.h > 0, outputShape.w > 0, outputShape.n == inputShape.n, outputShape.c == inputShape.c,
        params.filterH > 0, params.filterW > 0, params.strideH > 0, params.strideW > 0,
        !average || params.filterH * params.filterW <= 256, params.filterH <= 1 << 16, params.filterW <= 1 << 16,
        params.activationMin >= -128, params.activationMax <= 127 else { return false }
  var a = poolKernelArgs(params: params, inputShape: inputShape, outputShape: outputShape)
  if average { _CNNKernelsNEON.cnnrtAveragePoolArm(&a, input, output) } else { _CNNKernelsNEON.cnnrtMaxPoolArm(&a, input, output) }
  return true
  #else
  return false
  #endif
}

// MARK: - Mean

/// Mean over [outer, reduced, inner] on an Arm path; false when the path or
/// the parameters have no Arm kernel.
func armMean(isa: Int32, params: MeanParams, outer: Int, reduced: Int, inner: Int,
             input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) -> Bool {
  #if canImport(_CNNKernelsNEON) && arch(arm64)
  guard isArmISA(isa), outer > 0, reduced > 0, inner >= 8, params.shift >= -31, params.shift <= 31 else { return false }
  _CNNKernelsNEON.cnnrtMeanArm(outer, reduced, inner, params.inputZeroPointTimesCount, params.multiplier, params.shift,
                               params.outputZeroPoint, input, output)
  return true
  #else
  return false
  #endif
}
