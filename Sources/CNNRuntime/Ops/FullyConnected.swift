// FullyConnected int8 reference kernel: bit-exact with TFLM
// reference_integer_ops::FullyConnected (per-tensor, with weights offset) and
// FullyConnectedPerChannel (filterOffset 0).

/// Int8 fully connected layer.
///
/// - input: [batches, depth] (any tensor flattened, row-major).
/// - filter: [units, depth], row-major.
/// - bias: `units` Int32 values or nil.
/// - requant: `units` multipliers and shifts (per-tensor = all equal).
/// - output: [batches, units].
///
/// acc = sum((filter + filterOffset) * (input + inputOffset)) + bias, then
/// `requantizeToInt8`. filterOffset is -filter_zero_point (0 for symmetric
/// weights, which makes this FullyConnectedPerChannel).
///
/// Int32 accumulation bound: |filter + filterOffset| <= 255 and
/// |input + inputOffset| <= 255, so each product is at most 65,025 and the
/// sum over `depth` terms plus a bias with |bias| <= 2^30 is exact for
/// depth <= 16,512 (for symmetric weights, |product| <= 32,640 and
/// depth <= 32,896). Beyond that it wraps like TFLM's int32 accumulator.
///
/// Non-positive sizes write nothing.
public func fullyConnectedReference(
  params: FullyConnectedParams, requant: ChannelRequant,
  batches: Int, depth: Int, units: Int,
  input: UnsafePointer<Int8>, filter: UnsafePointer<Int8>,
  bias: UnsafePointer<Int32>?,
  output: UnsafeMutablePointer<Int8>
) {
  guard batches > 0, depth > 0, units > 0 else { return }
  let inputOffset = params.inputOffset
  let filterOffset = params.filterOffset
  for b in 0..<batches {
    let row = input + b &* depth
    for u in 0..<units {
      let weights = filter + u &* depth
      var acc: Int32 = 0
      for d in 0..<depth {
        let x = Int32(row[d]) &+ inputOffset
        let w = Int32(weights[d]) &+ filterOffset
        acc = acc &+ w &* x
      }
      if let bias { acc = acc &+ bias[u] }
      output[b &* units &+ u] = requantizeToInt8(
        acc, multiplier: requant.multiplier[u], shift: requant.shift[u],
        outputOffset: params.outputOffset,
        activationMin: params.activationMin, activationMax: params.activationMax)
    }
  }
}

// MARK: - Op unit

struct FullyConnectedData {
  var params: FullyConnectedParams
  var requant: ChannelRequant
  var batches: Int
  var depth: Int
  var units: Int
  /// Argument block of the optimised kernel for `isa`, or nil (reference).
  var optimized: cnnrt_fc_args?
  var isa: Int32
}

/// FULLY_CONNECTED: input of any shape flattened to [batches, depth],
/// filter [units, depth] (constant int8, per-tensor with any zero point or
/// per-channel symmetric), optional int32 bias [units], fused activation.
enum FullyConnectedOp: RuntimeOp {
  static let name: StaticString = "FullyConnected"
  static let arity = OpArity(inputs: 2...3)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int { requantTableBytes(plan) + foldedFullyConnectedBytes(plan) }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> FullyConnectedData {
    let input = try ctx.activationInput(0)
    let output = ctx.output
    guard let filter = ctx.constantInput(1) else { throw ctx.fail(.badOp, "missing filter") }
    if filter.constData == nil || filter.type != .int8 || filter.rank != 2 {
      throw ctx.fail(.badOp, "filter must be a constant int8 [units, depth] tensor")
    }
    if filter.quantKind == .none { throw ctx.fail(.badOp, "filter must be quantized") }
    let units = filter.dims.w, depth = filter.dims.c
    if input.count % depth != 0 { throw ctx.fail(.shapeMismatch, "input size not a multiple of the filter depth") }
    let batches = input.count / depth
    if output.dims.c != units || output.count != batches * units {
      throw ctx.fail(.shapeMismatch, "output must be [batches, units]")
    }
    if filter.quantKind == .perChannel {
      if filter.scaleCount != units || filter.zeroPoint != 0 {
        throw ctx.fail(.badOp, "per-channel filter scales must be along the units axis, zero point 0")
      }
    }
    let bias = try ctx.bias(channels: units)
    ctx.paramCount = Int64(units) * Int64(depth) + (bias != nil ? Int64(units) : 0)
    ctx.macs = Int64(batches) * Int64(units) * Int64(depth)
    let rq = try ctx.channelRequant(input: input, filter: filter, channels: units)
    let (actMin, actMax) = ctx.activationRange
    let p = FullyConnectedParams(inputOffset: -input.zeroPoint, filterOffset: -filter.zeroPoint,
                                 outputOffset: output.zeroPoint, activationMin: actMin, activationMax: actMax)
    let filterData = filter.constData!.assumingMemoryBound(to: Int8.self)
    // Arm and AVX-512 fold the filter sums into initial accumulators; AVX2
    // (and AVX-512 when it cannot fold) computes with the offsets.
    var isa = ctx.isa
    var args = try foldedFullyConnectedArgs(&ctx, params: p, requant: rq, batches: batches, depth: depth,
                                            units: units, filter: filterData, bias: bias)
    if args == nil && isa == KernelISA.avx512 { isa = KernelISA.avx2 }
    if args == nil && (isa == KernelISA.avx2) {
      args = fullyConnectedKernelArgs(isa: isa, params: p, requant: rq, batches: batches, depth: depth, units: units,
                                      filter: filterData, bias: bias)
    }
    return FullyConnectedData(params: p, requant: rq, batches: batches, depth: depth, units: units,
                              optimized: args, isa: isa)
  }

  static func eval(_ data: UnsafePointer<FullyConnectedData>, _ ctx: OpEvalContext) {
    let d = data.pointee
    if let args = d.optimized {
      fullyConnectedOptimized(isa: d.isa, args: args, input: ctx.input(0), output: ctx.output)
      return
    }
    #if CNNRT_DSP
    if fullyConnectedDSP(params: d.params, requant: d.requant, batches: d.batches, depth: d.depth, units: d.units,
                         input: ctx.input(0), filter: ctx.input(1), bias: ctx.bias(2), output: ctx.output) { return }
    #endif
    fullyConnectedReference(params: d.params, requant: d.requant, batches: d.batches, depth: d.depth, units: d.units,
                            input: ctx.input(0), filter: ctx.input(1), bias: ctx.bias(2), output: ctx.output)
  }
}
