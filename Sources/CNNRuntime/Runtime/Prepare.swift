// Pass 2 of loading: build the model block, check the graph and every op
// against its tensors, and compute all kernel parameters ahead of inference.
import _CNNRuntimeShims

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
    poolOffset: 0, profileOffset: 0,
    pixelTable: (block + layout.pixelTableOffset).bindMemory(to: Int8.self, capacity: pixelTableBytes),
    kernelISA: layout.isa))

  // Tensors.
  var t = 0
  while t < Int(h.tensorCount) {
    let r = TensorRecord.read(from: data + Int(h.tensorTableOffset) + t * ModelFormat.tensorRecordSize)
    let type = ElementType(rawValue: r.elementType)!  // checked in pass 1
    let rank = Int(r.rank)
    // Rank <= 4: padded on the left with 1s to NHWC. Rank 5: the first two
    // dimensions folded into N (ops that need rank 5 read the record).
    var d = (1, 1, 1, 1)
    withUnsafeMutableBytes(of: &d) { raw in
      let p = raw.bindMemory(to: Int.self)
      var k = 0
      while k < rank {
        let slot = max(4 - rank + k, 0)
        p[slot] = k > 0 && slot == 0 ? p[0] * Int(r.dim(k)) : Int(r.dim(k))
        k += 1
      }
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

  // Ops, in order: graph checks, then each op's unit prepares it.
  var regions = OpRegionCursor(data: data, header: h, isa: layout.isa)
  let regionBase = block + layout.opRegionsOffset
  var o = 0
  while o < state.opCount {
    let rec = OpRecord.read(from: data + Int(h.opTableOffset) + o * ModelFormat.opRecordSize)
    let code = OpCode(rawValue: rec.opCode)!  // checked in pass 1
    var k = 0
    while k < Int(rec.inputCount) {
      let idx = rec.input(k, in: data)
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
    k = 0
    while k < Int(rec.outputCount) {
      let out = tensors + Int(rec.output(k, in: data))
      if !out.pointee.isActivation { throw LoadError(.badGraph, "op", index: o, "writes a constant tensor") }
      if out.pointee.isModelInput || out.pointee.producer >= 0 {
        throw LoadError(.badGraph, "op", index: o, "writes a tensor that is already written")
      }
      out.pointee.producer = o
      out.pointee.firstUse = o
      out.pointee.lastUse = o
      k += 1
    }

    guard let act = FusedActivation(rawValue: rec.activation) else {
      throw LoadError(.badOp, "op", index: o, "unknown fused activation")
    }
    guard let padding = PaddingKind(rawValue: rec.padding) else {
      throw LoadError(.badOp, "op", index: o, "unknown padding kind")
    }
    let region = regions.next(code, rec)
    var preparer = OpPreparer(
      ctx: OpPrepareContext(state: statePtr, index: o, rec: rec, name: code.staticName, activation: act,
                            padding: padding, selectedISA: layout.isa, extra: regionBase + region.extra,
                            extraCapacity: region.extraBytes),
      dataRegion: regionBase + region.data)
    code.visit(&preparer)
    if let e = preparer.error { throw e }
    (ops + o).initialize(to: PreparedOp(
      code: code, inputCount: Int(rec.inputCount), outputCount: Int(rec.outputCount),
      tensorList: data + Int(rec.tensorListOffset), data: regionBase + region.data,
      paramCount: preparer.ctx.paramCount, macs: preparer.ctx.macs))
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

  buildPixelTables(statePtr)
  planArena(statePtr, order: (block + layout.orderOffset).bindMemory(to: Int32.self, capacity: Int(h.tensorCount)))
  return statePtr
}

