// Optimised FullyConnected: the path is chosen once at model load and the
// ISA kernel (AVX2; AVX-512 VNNI and Arm with accumulators folded at load
// when the filter offset is 0) gets a
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

/// Paths whose FullyConnected kernel starts from initial accumulators folded
/// at load (bias + k * sum of the filter row, symmetric weights): the Arm
/// kernels multiply x by w (k = input offset); AVX-512's vpdpbusd multiplies
/// x + 128 by w (k = input offset - 128).
func foldsFullyConnectedSums(_ isa: Int32) -> Bool {
  isArmISA(isa) || isa == KernelISA.avx512
}

/// Extra model-block bytes of those initial accumulators.
func foldedFullyConnectedBytes(_ plan: OpPlanContext) -> Int {
  guard foldsFullyConnectedSums(plan.isa) else { return 0 }
  let out = plan.outputRecord
  return alignUp(4 * Int(out.dim(Int(out.rank) - 1)), 16) + 16
}

/// The argument block of a folding path (symmetric weights only): fills the
/// initial accumulators in a region of the model block and passes them as
/// the bias with input offset 0. nil: not a folding path, or parameters it
/// does not take (the op then uses the AVX2 kernel on x86, else the reference).
func foldedFullyConnectedArgs(
  _ ctx: inout OpPrepareContext, params: FullyConnectedParams, requant: ChannelRequant,
  batches: Int, depth: Int, units: Int, filter: UnsafePointer<Int8>, bias: UnsafePointer<Int32>?
) throws(LoadError) -> cnnrt_fc_args? {
  guard foldsFullyConnectedSums(ctx.isa), batches > 0, depth > 0, units > 0, params.filterOffset == 0,
        params.activationMin >= -128, params.activationMax <= 127, params.activationMin <= params.activationMax,
        ctx.canAllocate(bytes: 4 * units, alignment: 16) else { return nil }
  var u = 0
  while u < units {
    let s = requant.shift[u]
    if s < -31 || s > 31 { return nil }
    u += 1
  }
  let k = ctx.isa == KernelISA.avx512 ? params.inputOffset &- 128 : params.inputOffset
  let initial = try ctx.allocate(bytes: 4 * units, alignment: 16).bindMemory(to: Int32.self, capacity: units)
  u = 0
  while u < units {
    var sum: Int32 = 0
    var d = 0
    while d < depth { sum = sum &+ Int32(filter[u * depth + d]); d += 1 }
    initial[u] = (bias?[u] ?? 0) &+ k &* sum
    u += 1
  }
  var a = cnnrt_fc_args()
  a.batches = Int64(batches); a.depth = Int64(depth); a.units = Int64(units)
  a.input_offset = 0; a.filter_offset = 0; a.output_offset = params.outputOffset
  a.act_min = params.activationMin; a.act_max = params.activationMax
  a.filter = filter; a.bias = UnsafePointer(initial)
  a.multiplier = requant.multiplier; a.shift = requant.shift
  return a
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
  // AVX-512 VNNI: args from foldedFullyConnectedArgs only.
  if isa == KernelISA.avx512 {
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
/// optimised kernel. The caller guarantees the CPU supports `isa`. (The
/// AVX-512 kernel needs accumulators folded at load, so `avx512` runs the
/// AVX2 kernel here; models loaded on that path run the AVX-512 one.)
public func fullyConnectedOptimized(
  isa: Int32, params: FullyConnectedParams, requant: ChannelRequant,
  batches: Int, depth: Int, units: Int,
  input: UnsafePointer<Int8>, filter: UnsafePointer<Int8>, bias: UnsafePointer<Int32>?,
  output: UnsafeMutablePointer<Int8>
) -> Bool {
  guard let args = fullyConnectedKernelArgs(isa: isa, params: params, requant: requant, batches: batches,
                                            depth: depth, units: units, filter: filter, bias: bias)
  else { return false }
  fullyConnectedOptimized(isa: isa == KernelISA.avx512 ? KernelISA.avx2 : isa, args: args, input: input,
                          output: output)
  return true
}
