// Optimised FullyConnected: the path is chosen once at model load and the
// ISA kernel (AVX2; AVX-512 VNNI when the filter offset is 0) gets a
// cnnrt_fc_args block built at load (the filter, bias and
// requantization arrays are referenced in place, not copied).
import _CNNRuntimeShims
#if canImport(_CNNKernelsAVX2)
import _CNNKernelsAVX2
#endif
#if canImport(_CNNKernelsAVX512)
import _CNNKernelsAVX512
#endif

/// The argument block of the ISA FullyConnected kernels, or nil when `isa`
/// has none or the parameters are outside what they reproduce exactly
/// (offsets outside -127...128, shifts outside -31...31, clamp bounds
/// outside int8): such ops keep fullyConnectedReference. The pointed-to
/// arrays must outlive the block.
public func fullyConnectedKernelArgs(
  isa: Int32, params: FullyConnectedParams, requant: ChannelRequant,
  batches: Int, depth: Int, units: Int,
  filter: UnsafePointer<Int8>, bias: UnsafePointer<Int32>?
) -> cnnrt_fc_args? {
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  guard isa == KernelISA.avx2 || isa == KernelISA.avx512, batches > 0, depth > 0, units > 0,
        params.inputOffset >= -127, params.inputOffset <= 128,
        params.filterOffset >= -127, params.filterOffset <= 128,
        params.activationMin >= -128, params.activationMin <= 127,
        params.activationMax >= -128, params.activationMax <= 127 else { return nil }
  var u = 0
  while u < units {
    let s = requant.shift[u]
    if s < -31 || s > 31 { return nil }
    u += 1
  }
  var a = cnnrt_fc_args()
  a.batches = Int64(batches); a.depth = Int64(depth); a.units = Int64(units)
  a.input_offset = params.inputOffset; a.filter_offset = params.filterOffset
  a.output_offset = params.outputOffset
  a.act_min = params.activationMin; a.act_max = params.activationMax
  a.filter = filter; a.bias = bias
  a.multiplier = requant.multiplier; a.shift = requant.shift
  return a
  #else
  return nil
  #endif
}

/// Runs the `isa` FullyConnected kernel (args from `fullyConnectedKernelArgs`
/// for the same `isa`; the CPU must support it). A path this build lacks
/// writes nothing.
@inline(__always)
func fullyConnectedOptimized(isa: Int32, args: cnnrt_fc_args, input: UnsafePointer<Int8>,
                             output: UnsafeMutablePointer<Int8>) {
  if isArmISA(isa) {
    var a = args
    armFullyConnectedRun(isa: isa, args: &a, input: input, output: output)
    return
  }
  #if canImport(_CNNKernelsAVX512) && arch(x86_64)
  // AVX-512 VNNI for a filter offset of 0 (TFLite's symmetric int8 weights).
  if isa == KernelISA.avx512 && args.filter_offset == 0 {
    var a = args
    cnnrtFullyConnectedAVX512(&a, input, output)
    return
  }
  #endif
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if isa == KernelISA.avx2 || isa == KernelISA.avx512 {
    var a = args
    cnnrtFullyConnectedAVX2(&a, input, output)
  }
  #endif
}

/// FullyConnected on the optimised path `isa` (for tests and benchmarks):
/// false, writing nothing, when the parameters or the path have no
/// optimised kernel. The caller guarantees the CPU supports `isa`.
public func fullyConnectedOptimized(
  isa: Int32, params: FullyConnectedParams, requant: ChannelRequant,
  batches: Int, depth: Int, units: Int,
  input: UnsafePointer<Int8>, filter: UnsafePointer<Int8>, bias: UnsafePointer<Int32>?,
  output: UnsafeMutablePointer<Int8>
) -> Bool {
  guard let args = fullyConnectedKernelArgs(isa: isa, params: params, requant: requant, batches: batches,
                                            depth: depth, units: units, filter: filter, bias: bias)
  else { return false }
  fullyConnectedOptimized(isa: isa, args: args, input: input, output: output)
  return true
}
