// Pass 2 of loading: build the model block, check the graph and every op
// against its tensors, and compute all kernel parameters ahead of inference.
import _CNNRuntimeShims

/// Output size along one axis and the leading pad, TFLite conventions.
/// Returns nil when the op cannot produce any output.
func spatialOutput(input: Int, filter: Int, stride: Int, dilation: Int, padding: PaddingKind,
                   explicitBefore: Int, explicitAfter: Int) -> (size: Int, padBefore: Int)? {
  let effective = (filter - 1) * dilation + 1
  switch padding {
  case .valid:
    if input < effective { return nil }
    return ((input - effective) / stride + 1, 0)
  case .same:
    let out = (input + stride - 1) / stride
    let total = max((out - 1) * stride + effective - input, 0)
    return (out, total / 2)
  case .explicit:
    // The notes' (W − F + 2P) / S + 1, with possibly unequal pads.
    let padded = input + explicitBefore + explicitAfter
    if padded < effective { return nil }
    return ((padded - effective) / stride + 1, explicitBefore)
  }
}

/// Where the next op's packed weights go (the model block's packed region).
struct PackedCursor {
  let base: UnsafeMutableRawPointer
  var used: Int
  let capacity: Int
  let isa: Int32
}

struct OpContext {
  let state: UnsafeMutablePointer<ModelState>
  let index: Int
  let rec: OpRecord

  func tensor(_ i: Int) -> TensorInfo { state.pointee.tensors[i] }
  func fail(_ s: CNNStatus, _ detail: StaticString) -> LoadError { LoadError(s, "op", index: index, detail) }
}

/// Loads a model into `block` (layout.blockBytes bytes, 16-byte aligned).
func prepareModel(_ data: UnsafeRawPointer, _ size: Int, _ layout: LayoutSummary,
                  block: UnsafeMutableRawPointer) throws(LoadError) -> UnsafeMutablePointer<ModelState> {
  let h = layout.header
  let tensors = (block + layout.tensorsOffset).bindMemory(to: TensorInfo.self, capacity: Int(h.tensorCount))
  let ops = (block + layout.opsOffset).bindMemory(to: PreparedOp.self, capacity: Int(h.opCount))
  let statePtr = block.bindMemory(to: ModelState.self, capacity: 1)
  var metadata = MetadataRecord()
  if h.metadataOffset != 0 { metadata = MetadataRecord.read(from: data + Int(h.metadataOffset)) }
  statePtr.initialize(to: ModelState(
    data: data, size: size, ownedData: nil, ownsBlock: false, header: h,
    tensors: tensors, tensorCount: Int(h.tensorCount), ops: ops, opCount: Int(h.opCount),
    inputCount: Int(h.inputCount), outputCount: Int(h.outputCount),
    hasMetadata: h.metadataOffset != 0, metadata: metadata,
    activationBytes: 0, unplannedActivationBytes: 0, contextBytes: 0,
    poolOffset: 0, lutOffset: 0, profileOffset: 0, kernelISA: layout.isa))

  // Tensors.
  var t = 0
  while t < Int(h.tensorCount) {
    let r = TensorRecord.read(from: data + Int(h.tensorTableOffset) + t * ModelFormat.tensorRecordSize)
    let type = ElementType(rawValue: r.elementType)!  // checked in pass 1
    let rank = Int(r.rank)
    var d = (1, 1, 1, 1)
    withUnsafeMutableBytes(of: &d) { raw in
      let p = raw.bindMemory(to: Int.self)
      var k = 0
      while k < rank { p[4 - rank + k] = Int(r.dim(k)); k += 1 }
    }
    let dims = Dims4(n: d.0, h: d.1, w: d.2, c: d.3)
    let qk = QuantKind(rawValue: r.quantKind)!
    var scale: Float = 0
    var scaleCount = 0
    if qk != .none {
      scale = Float(bitPattern: readLE(data, Int(r.scalesOffset), as: UInt32.self))
      scaleCount = qk == .perChannel ? Int(r.dim(Int(r.quantAxis))) : 1
    }
    (tensors + t).initialize(to: TensorInfo(
      type: type, rank: rank, dims: dims, count: dims.count, byteSize: dims.count * type.byteSize,
      quantKind: qk, scale: scale, scalesOffset: Int(r.scalesOffset), scaleCount: scaleCount,
      zeroPoint: r.zeroPoint, constData: r.isConstant ? data + Int(r.dataOffset) : nil,
      nameOffset: r.nameOffset, arenaOffset: -1, producer: -1, firstUse: -1, lastUse: -1,
      isModelInput: false, isModelOutput: false))
    t += 1
  }
  let state = statePtr.pointee
  var i = 0
  while i < state.inputCount {
    let ti = state.inputTensor(i)
    if !tensors[ti].isActivation { throw LoadError(.badGraph, "model input", index: i, "is a constant tensor") }
    if tensors[ti].isModelInput { throw LoadError(.badGraph, "model input", index: i, "listed twice") }
    tensors[ti].isModelInput = true
    tensors[ti].firstUse = 0
    tensors[ti].lastUse = 0
    i += 1
  }

  // Ops, in order: graph checks and preparation.
  var requantUsed = 0
  let multipliers = (block + layout.multipliersOffset).bindMemory(to: Int32.self, capacity: max(layout.requantEntries, 1))
  let shifts = (block + layout.shiftsOffset).bindMemory(to: Int32.self, capacity: max(layout.requantEntries, 1))
  var packed = PackedCursor(base: block + layout.packedOffset, used: 0, capacity: layout.packedBytes, isa: layout.isa)
  var o = 0
  while o < state.opCount {
    let rec = OpRecord.read(from: data + Int(h.opTableOffset) + o * ModelFormat.opRecordSize)
    let code = OpCode(rawValue: rec.opCode)!
    var k = 0
    while k < ModelFormat.maxOpInputs {
      let idx = rec.input(k)
      if idx != ModelFormat.noTensor {
        let ti = tensors + Int(idx)
        if ti.pointee.isActivation {
          if !ti.pointee.isModelInput && ti.pointee.producer < 0 {
            throw LoadError(.badGraph, "op", index: o, "reads a tensor that no earlier op writes")
          }
          ti.pointee.lastUse = o
        }
      }
      k += 1
    }
    let out = tensors + Int(rec.output)
    if !out.pointee.isActivation { throw LoadError(.badGraph, "op", index: o, "writes a constant tensor") }
    if out.pointee.isModelInput || out.pointee.producer >= 0 {
      throw LoadError(.badGraph, "op", index: o, "writes a tensor that is already written")
    }
    out.pointee.producer = o
    out.pointee.firstUse = o
    out.pointee.lastUse = o

    let ctx = OpContext(state: statePtr, index: o, rec: rec)
    let prepared = try prepareOp(ctx, code: code, multipliers: multipliers + requantUsed, shifts: shifts + requantUsed,
                                 requantAvailable: layout.requantEntries - requantUsed, requantUsed: &requantUsed,
                                 packed: &packed)
    (ops + o).initialize(to: prepared)
    o += 1
  }
  i = 0
  while i < state.outputCount {
    let ti = state.outputTensor(i)
    if !tensors[ti].isActivation { throw LoadError(.badGraph, "model output", index: i, "is a constant tensor") }
    if !tensors[ti].isModelInput && tensors[ti].producer < 0 {
      throw LoadError(.badGraph, "model output", index: i, "is never written by an op")
    }
    tensors[ti].isModelOutput = true
    tensors[ti].lastUse = state.opCount
    i += 1
  }

  planArena(statePtr, order: (block + layout.orderOffset).bindMemory(to: Int32.self, capacity: Int(h.tensorCount)))
  return statePtr
}

// MARK: - Per-op checks and preparation

@inline(__always)
func sameQuantization(_ a: TensorInfo, _ b: TensorInfo) -> Bool {
  a.scale == b.scale && a.zeroPoint == b.zeroPoint
}

func requireActivation(_ ctx: OpContext, _ idx: UInt32, rank4: Bool) throws(LoadError) -> TensorInfo {
  if idx == ModelFormat.noTensor { throw ctx.fail(.badOp, "missing required input") }
  let t = ctx.tensor(Int(idx))
  if !t.isActivation { throw ctx.fail(.badOp, "data input must be an activation tensor") }
  if rank4 && t.rank != 4 { throw ctx.fail(.shapeMismatch, "input must be rank 4 (NHWC)") }
  return t
}

func prepareOp(_ ctx: OpContext, code: OpCode, multipliers: UnsafeMutablePointer<Int32>,
               shifts: UnsafeMutablePointer<Int32>, requantAvailable: Int,
               requantUsed: inout Int, packed: inout PackedCursor) throws(LoadError) -> PreparedOp {
  let rec = ctx.rec
  guard let act = FusedActivation(rawValue: rec.activation) else { throw ctx.fail(.badOp, "unknown fused activation") }
  guard let padding = PaddingKind(rawValue: rec.padding) else { throw ctx.fail(.badOp, "unknown padding kind") }
  let output = ctx.tensor(Int(rec.output))
  var op = PreparedOp(code: code, inputs: (Int32(bitPattern: rec.inputs.0), Int32(bitPattern: rec.inputs.1),
                                          Int32(bitPattern: rec.inputs.2)),
                      output: Int32(rec.output), kernel: .reshape, paramCount: 0, macs: 0)
  let (actMin, actMax) = activationRange(act, scale: output.scale, zeroPoint: output.zeroPoint)

  switch code {
  case .conv2D, .depthwiseConv2D:
    let input = try requireActivation(ctx, rec.inputs.0, rank4: true)
    if output.rank != 4 { throw ctx.fail(.shapeMismatch, "output must be rank 4 (NHWC)") }
    if rec.inputs.1 == ModelFormat.noTensor { throw ctx.fail(.badOp, "missing filter") }
    let filter = ctx.tensor(Int(rec.inputs.1))
    if filter.constData == nil || filter.type != .int8 || filter.rank != 4 {
      throw ctx.fail(.badOp, "filter must be a constant int8 rank-4 tensor")
    }
    if filter.quantKind == .none { throw ctx.fail(.badOp, "filter must be quantized") }
    if filter.zeroPoint != 0 { throw ctx.fail(.badOp, "filter zero point must be 0 (symmetric weights)") }
    try checkStrides(ctx)
    let outC = output.dims.c
    let kh = filter.dims.h, kw = filter.dims.w
    var depthMultiplier = 1
    if code == .conv2D {
      if filter.dims.n != outC { throw ctx.fail(.shapeMismatch, "filter count differs from output channels") }
      if input.dims.c % filter.dims.c != 0 { throw ctx.fail(.shapeMismatch, "input channels not a multiple of filter depth") }
      let groups = input.dims.c / filter.dims.c
      if outC % groups != 0 { throw ctx.fail(.shapeMismatch, "output channels not divisible by the group count") }
      if filter.quantKind == .perChannel && (filter.scaleCount != outC || filter.dims.n != filter.scaleCount) {
        throw ctx.fail(.badOp, "per-channel filter scales must be along the output-channel axis")
      }
      op.paramCount = Int64(outC) * Int64(kh * kw * filter.dims.c)
    } else {
      if filter.dims.n != 1 || filter.dims.c != outC { throw ctx.fail(.shapeMismatch, "depthwise filter must be [1, KH, KW, output channels]") }
      if outC % input.dims.c != 0 { throw ctx.fail(.shapeMismatch, "output channels not a multiple of input channels") }
      depthMultiplier = outC / input.dims.c
      if filter.quantKind == .perChannel && filter.scaleCount != outC {
        throw ctx.fail(.badOp, "per-channel filter scales must be along the channel axis")
      }
      op.paramCount = Int64(outC) * Int64(kh * kw)
    }
    if output.dims.n != input.dims.n { throw ctx.fail(.shapeMismatch, "batch differs between input and output") }
    let (padTop, padLeft) = try checkSpatial(ctx, padding: padding, input: input.dims, output: output.dims,
                                             filterH: kh, filterW: kw,
                                             dilationH: Int(rec.dilationH), dilationW: Int(rec.dilationW))
    try checkBias(ctx, channels: outC)
    if rec.inputs.2 != ModelFormat.noTensor { op.paramCount += Int64(outC) }
    op.macs = Int64(output.count) * Int64(kh * kw * (code == .conv2D ? filter.dims.c : 1))
    let rq = try fillRequant(ctx, input: input, filter: filter, output: output, channels: outC,
                             multipliers: multipliers, shifts: shifts, available: requantAvailable, used: &requantUsed)
    let p = ConvParams(inputOffset: -input.zeroPoint, outputOffset: output.zeroPoint,
                       strideH: Int(rec.strideH), strideW: Int(rec.strideW),
                       dilationH: Int(rec.dilationH), dilationW: Int(rec.dilationW),
                       padTop: padTop, padLeft: padLeft, depthMultiplier: depthMultiplier,
                       activationMin: actMin, activationMax: actMax)
    op.kernel = code == .conv2D ? .conv(p, rq) : .depthwise(p, rq)
    if code == .conv2D && packed.isa != KernelISA.portable && filter.dims.c == input.dims.c {
      let need = conv2DPackedBytes(isa: packed.isa, filterShape: filter.dims, inputChannels: input.dims.c)
      if need > 0 && need <= packed.capacity - packed.used {
        let region = packed.base + packed.used
        let bias = rec.inputs.2 == ModelFormat.noTensor ? nil
          : ctx.tensor(Int(rec.inputs.2)).constData.map { UnsafePointer($0.assumingMemoryBound(to: Int32.self)) }
        if conv2DPack(isa: packed.isa, params: p, requant: rq, inputShape: input.dims, filterShape: filter.dims,
                      filter: filter.constData!.assumingMemoryBound(to: Int8.self), bias: bias,
                      outputShape: output.dims, region: region, regionBytes: need) {
          packed.used += need
          op.kernel = .convPacked(isa: packed.isa, region: UnsafeRawPointer(region))
        }
      }
    }
    if code == .depthwiseConv2D && packed.isa != KernelISA.portable {
      let need = depthwiseConv2DPackedBytes(isa: packed.isa, filterShape: filter.dims, inputChannels: input.dims.c)
      if need > 0 && need <= packed.capacity - packed.used {
        let region = packed.base + packed.used
        let bias = rec.inputs.2 == ModelFormat.noTensor ? nil
          : ctx.tensor(Int(rec.inputs.2)).constData.map { UnsafePointer($0.assumingMemoryBound(to: Int32.self)) }
        if depthwiseConv2DPack(isa: packed.isa, params: p, requant: rq, inputShape: input.dims, filterShape: filter.dims,
                               filter: filter.constData!.assumingMemoryBound(to: Int8.self), bias: bias,
                               outputShape: output.dims, region: region, regionBytes: need) {
          packed.used += need
          op.kernel = .depthwisePacked(isa: packed.isa, region: UnsafeRawPointer(region))
        }
      }
    }

  case .fullyConnected:
    let input = try requireActivation(ctx, rec.inputs.0, rank4: false)
    if rec.inputs.1 == ModelFormat.noTensor { throw ctx.fail(.badOp, "missing filter") }
    let filter = ctx.tensor(Int(rec.inputs.1))
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
    try checkBias(ctx, channels: units)
    op.paramCount = Int64(units) * Int64(depth) + (rec.inputs.2 != ModelFormat.noTensor ? Int64(units) : 0)
    op.macs = Int64(batches) * Int64(units) * Int64(depth)
    let rq = try fillRequant(ctx, input: input, filter: filter, output: output, channels: units,
                             multipliers: multipliers, shifts: shifts, available: requantAvailable, used: &requantUsed)
    let p = FullyConnectedParams(inputOffset: -input.zeroPoint, filterOffset: -filter.zeroPoint,
                                 outputOffset: output.zeroPoint, activationMin: actMin, activationMax: actMax)
    op.kernel = .fullyConnected(p, rq, batches: batches, depth: depth, units: units)
    if packed.isa != KernelISA.portable {
      let bias = rec.inputs.2 == ModelFormat.noTensor ? nil
        : ctx.tensor(Int(rec.inputs.2)).constData.map { UnsafePointer($0.assumingMemoryBound(to: Int32.self)) }
      if let args = fullyConnectedKernelArgs(isa: packed.isa, params: p, requant: rq, batches: batches, depth: depth,
                                             units: units, filter: filter.constData!.assumingMemoryBound(to: Int8.self),
                                             bias: bias) {
        op.kernel = .fullyConnectedOptimized(isa: packed.isa, args)
      }
    }

  case .maxPool2D, .averagePool2D, .globalAveragePool:
    let input = try requireActivation(ctx, rec.inputs.0, rank4: true)
    if output.rank != 4 { throw ctx.fail(.shapeMismatch, "output must be rank 4 (NHWC)") }
    if !sameQuantization(input, output) { throw ctx.fail(.badOp, "pooling input and output quantization must be equal") }
    if output.dims.n != input.dims.n || output.dims.c != input.dims.c {
      throw ctx.fail(.shapeMismatch, "pooling keeps batch and channels")
    }
    var p: PoolParams
    if code == .globalAveragePool {
      if output.dims.h != 1 || output.dims.w != 1 { throw ctx.fail(.shapeMismatch, "global average pool output must be [N, 1, 1, C]") }
      p = PoolParams(strideH: 1, strideW: 1, filterH: input.dims.h, filterW: input.dims.w,
                     padTop: 0, padLeft: 0, activationMin: actMin, activationMax: actMax)
    } else {
      try checkStrides(ctx)
      if rec.filterH < 1 || rec.filterW < 1 || rec.filterH > maxSpatialParam || rec.filterW > maxSpatialParam {
        throw ctx.fail(.badOp, "pool filter size must be 1 to 4096")
      }
      if rec.dilationH != 1 || rec.dilationW != 1 { throw ctx.fail(.badOp, "pooling has no dilation") }
      let (padTop, padLeft) = try checkSpatial(ctx, padding: padding, input: input.dims, output: output.dims,
                                               filterH: Int(rec.filterH), filterW: Int(rec.filterW),
                                               dilationH: 1, dilationW: 1)
      p = PoolParams(strideH: Int(rec.strideH), strideW: Int(rec.strideW),
                     filterH: Int(rec.filterH), filterW: Int(rec.filterW),
                     padTop: padTop, padLeft: padLeft, activationMin: actMin, activationMax: actMax)
    }
    op.kernel = code == .maxPool2D ? .maxPool(p) : .averagePool(p)

  case .add:
    let a = try requireActivation(ctx, rec.inputs.0, rank4: false)
    let b = try requireActivation(ctx, rec.inputs.1, rank4: false)
    if !broadcasts(a.dims, to: output.dims) || !broadcasts(b.dims, to: output.dims) {
      throw ctx.fail(.shapeMismatch, "add inputs must have the output's shape or broadcast to it (dimensions equal or 1)")
    }
    let p = prepareAdd(input1Scale: a.scale, input1ZeroPoint: a.zeroPoint,
                       input2Scale: b.scale, input2ZeroPoint: b.zeroPoint,
                       outputScale: output.scale, outputZeroPoint: output.zeroPoint,
                       activationMin: actMin, activationMax: actMax)
    op.kernel = a.dims == output.dims && b.dims == output.dims ? .add(p) : .addBroadcast(p)
    if a.dims == output.dims && b.dims == output.dims, let args = addKernelArgs(isa: packed.isa, params: p) {
      op.kernel = .addOptimized(isa: packed.isa, args)
    }

  case .reshape:
    let input = try requireActivation(ctx, rec.inputs.0, rank4: false)
    if input.count != output.count { throw ctx.fail(.shapeMismatch, "reshape changes the element count") }
    if !sameQuantization(input, output) { throw ctx.fail(.badOp, "reshape input and output quantization must be equal") }
    op.kernel = .reshape

  case .softmax, .logistic:
    let input = try requireActivation(ctx, rec.inputs.0, rank4: false)
    if input.dims != output.dims { throw ctx.fail(.shapeMismatch, "input and output shapes differ") }
    if output.scale != 1.0 / 256.0 || output.zeroPoint != -128 {
      throw ctx.fail(.badOp, "output quantization must be scale 1/256, zero point -128")
    }
    if act != .none { throw ctx.fail(.badOp, "no fused activation allowed") }
    if code == .softmax {
      let beta: Float = rec.extra == 0 ? 1 : Float(bitPattern: rec.extra)
      if !(beta.isFinite && beta > 0) { throw ctx.fail(.badOp, "softmax beta must be finite and positive") }
      op.kernel = .softmax(prepareSoftmax(inputScale: input.scale, beta: beta),
                           rows: input.count / input.dims.c, depth: input.dims.c)
    } else {
      op.kernel = .logistic(prepareLogistic(inputScale: input.scale, inputZeroPoint: input.zeroPoint))
    }

  case .mean:
    let input = try requireActivation(ctx, rec.inputs.0, rank4: true)
    if act != .none { throw ctx.fail(.badOp, "no fused activation allowed") }
    if rec.extra != 0 { throw ctx.fail(.badOp, "mean: extra field must be 0") }
    let d = output.dims
    let keepDims = output.rank == 4 && d.n == input.dims.n && d.h == 1 && d.w == 1 && d.c == input.dims.c
    let dropDims = output.rank == 2 && d.w == input.dims.n && d.c == input.dims.c
    if !keepDims && !dropDims {
      throw ctx.fail(.shapeMismatch, "mean over H and W: output must be [N, 1, 1, C] or [N, C]")
    }
    let p = prepareMean(inputScale: input.scale, inputZeroPoint: input.zeroPoint,
                        outputScale: output.scale, outputZeroPoint: output.zeroPoint,
                        count: input.dims.h * input.dims.w)
    if p.shift > 31 { throw ctx.fail(.badOp, "mean: input scale / output scale too large (rescale shift above 31)") }
    op.kernel = .mean(p)

  case .pad:
    let input = try requireActivation(ctx, rec.inputs.0, rank4: true)
    if output.rank != 4 { throw ctx.fail(.shapeMismatch, "output must be rank 4 (NHWC)") }
    if act != .none { throw ctx.fail(.badOp, "no fused activation allowed") }
    if padding != .explicit { throw ctx.fail(.badOp, "pad: padding kind must be explicit (2)") }
    let limit = Int32(truncatingIfNeeded: ModelFormat.maxDimension)
    if rec.padTop < 0 || rec.padLeft < 0 || rec.padBottom < 0 || rec.padRight < 0
      || rec.padTop > limit || rec.padLeft > limit || rec.padBottom > limit || rec.padRight > limit {
      throw ctx.fail(.badOp, "pad: pads must be 0 to 65536")
    }
    // Channel pads live in the record's filter H / W fields.
    if rec.filterH < 0 || rec.filterW < 0 || rec.filterH > limit || rec.filterW > limit {
      throw ctx.fail(.badOp, "pad: channel pads must be 0 to 65536")
    }
    if output.dims.n != input.dims.n { throw ctx.fail(.shapeMismatch, "pad keeps the batch (only H, W and C can be padded)") }
    let top = Int(rec.padTop), left = Int(rec.padLeft), bottom = Int(rec.padBottom), right = Int(rec.padRight)
    let cBefore = Int(rec.filterH), cAfter = Int(rec.filterW)
    if output.dims.h != input.dims.h + top + bottom || output.dims.w != input.dims.w + left + right
      || output.dims.c != input.dims.c + cBefore + cAfter {
      throw ctx.fail(.shapeMismatch, "pad: output height/width/channels differ from input + pads")
    }
    if !sameQuantization(input, output) { throw ctx.fail(.badOp, "pad input and output quantization must be equal") }
    var value = Int8(truncatingIfNeeded: output.zeroPoint)
    if rec.extra != 0 {
      if rec.extra & ~UInt32(0x1FF) != 0 || rec.extra & OpRecord.padConstantFlag == 0 {
        throw ctx.fail(.badOp, "pad: extra must be 0 or 0x100 | an int8 fill value")
      }
      value = Int8(truncatingIfNeeded: rec.extra & 0xFF)
    }
    op.kernel = .pad(PadParams(padTop: top, padLeft: left, padBottom: bottom, padRight: right,
                               padChannelsBefore: cBefore, padChannelsAfter: cAfter, value: value))
  }
  return op
}

/// Every dimension of `d` equals the output's or is 1.
func broadcasts(_ d: Dims4, to out: Dims4) -> Bool {
  (d.n == out.n || d.n == 1) && (d.h == out.h || d.h == 1) && (d.w == out.w || d.w == 1) && (d.c == out.c || d.c == 1)
}

func checkStrides(_ ctx: OpContext) throws(LoadError) {
  let r = ctx.rec
  if r.strideH < 1 || r.strideW < 1 || r.strideH > maxSpatialParam || r.strideW > maxSpatialParam {
    throw ctx.fail(.badOp, "stride must be 1 to 4096")
  }
  if r.dilationH < 1 || r.dilationW < 1 || r.dilationH > maxSpatialParam || r.dilationW > maxSpatialParam {
    throw ctx.fail(.badOp, "dilation must be 1 to 4096")
  }
}

/// Checks that the output's H and W follow from the input, filter, stride,
/// dilation and padding, and returns the leading pads.
func checkSpatial(_ ctx: OpContext, padding: PaddingKind, input: Dims4, output: Dims4,
                  filterH: Int, filterW: Int, dilationH: Int, dilationW: Int) throws(LoadError) -> (Int, Int) {
  let r = ctx.rec
  if padding == .explicit {
    if r.padTop < 0 || r.padLeft < 0 || r.padBottom < 0 || r.padRight < 0 {
      throw ctx.fail(.badOp, "padding must not be negative")
    }
    let effH = (filterH - 1) * dilationH + 1, effW = (filterW - 1) * dilationW + 1
    if Int(r.padTop) >= effH || Int(r.padBottom) >= effH || Int(r.padLeft) >= effW || Int(r.padRight) >= effW {
      throw ctx.fail(.badOp, "padding must be smaller than the filter extent")
    }
  }
  guard let oh = spatialOutput(input: input.h, filter: filterH, stride: Int(r.strideH), dilation: dilationH,
                               padding: padding, explicitBefore: Int(r.padTop), explicitAfter: Int(r.padBottom)),
        let ow = spatialOutput(input: input.w, filter: filterW, stride: Int(r.strideW), dilation: dilationW,
                               padding: padding, explicitBefore: Int(r.padLeft), explicitAfter: Int(r.padRight))
  else { throw ctx.fail(.shapeMismatch, "filter larger than the padded input") }
  if oh.size != output.h || ow.size != output.w {
    throw ctx.fail(.shapeMismatch, "output height/width differ from (W - F + 2P) / S + 1")
  }
  return (oh.padBefore, ow.padBefore)
}

func checkBias(_ ctx: OpContext, channels: Int) throws(LoadError) {
  let idx = ctx.rec.inputs.2
  if idx == ModelFormat.noTensor { return }
  let b = ctx.tensor(Int(idx))
  if b.constData == nil || b.type != .int32 || b.count != channels {
    throw ctx.fail(.badOp, "bias must be a constant int32 tensor with one value per output channel")
  }
}

/// Per-channel multipliers and shifts from the scales, exactly as TFLite
/// Micro's Prepare: effective = double(s_in) × double(s_w[c]) / double(s_out).
func fillRequant(_ ctx: OpContext, input: TensorInfo, filter: TensorInfo, output: TensorInfo, channels: Int,
                 multipliers: UnsafeMutablePointer<Int32>, shifts: UnsafeMutablePointer<Int32>,
                 available: Int, used: inout Int) throws(LoadError) -> ChannelRequant {
  if channels > available { throw ctx.fail(.malformedModel, "requantization table overflow") }
  let state = ctx.state.pointee
  var c = 0
  while c < channels {
    let fs = filter.quantKind == .perChannel ? state.scale(of: filter, channel: c) : filter.scale
    let (m, s) = convRequant(inputScale: input.scale, filterScale: fs, outputScale: output.scale)
    multipliers[c] = m
    shifts[c] = s
    c += 1
  }
  used += channels
  return ChannelRequant(multiplier: UnsafePointer(multipliers), shift: UnsafePointer(shifts))
}

/// Clamp bounds of a fused activation in the output's quantized units.
func activationRange(_ act: FusedActivation, scale: Float, zeroPoint: Int32) -> (Int32, Int32) {
  let r: (min: Int32, max: Int32)
  switch act {
  case .none: r = quantizedActivationRange(realMin: nil, realMax: nil, outputScale: scale, outputZeroPoint: zeroPoint)
  case .relu: r = quantizedActivationRange(realMin: 0, realMax: nil, outputScale: scale, outputZeroPoint: zeroPoint)
  case .relu6: r = quantizedActivationRange(realMin: 0, realMax: 6, outputScale: scale, outputZeroPoint: zeroPoint)
  }
  return (r.min, r.max)
}
