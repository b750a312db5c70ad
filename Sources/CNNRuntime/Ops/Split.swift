// Split (TFLite SPLIT, SPLIT_V and UNPACK, ONNX Split): one input, one or
// more outputs, along the axis in the record's `extra` (0 … rank − 1). Output
// k is the next slice of the input along the axis: it has the input's rank
// and dimensions except along the axis (its size there), or (UNPACK) rank − 1
// with the axis removed (size 1). The sizes must add up to the input's.
// Bytes are copied, as TFLM's split/unpack kernels do.

/// Each output's addressing, in the op's extra region.
struct SplitData {
  var copies: UnsafePointer<StridedCopy>
  var count: Int
}

enum SplitOp: RuntimeOp {
  static let name: StaticString = "Split"
  static let arity = OpArity(inputs: 1...1, outputs: 1...ModelFormat.maxOpOutputs)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int {
    Int(plan.rec.outputCount) * MemoryLayout<StridedCopy>.stride
  }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> SplitData {
    let input = try ctx.activationInput(0)
    try ctx.requireNoActivation()
    let shape = ctx.fullShape(Int(ctx.inputIndex(0)))
    let r = shape.rank
    if ctx.rec.extra >= UInt32(r) { throw ctx.fail(.badOp, "split: axis (extra) must be below the input rank") }
    let axis = Int(ctx.rec.extra)
    let n = Int(ctx.rec.outputCount)
    let copies = try ctx.allocate(bytes: n * MemoryLayout<StridedCopy>.stride)
      .bindMemory(to: StridedCopy.self, capacity: n)
    let strides = shape.strides
    var offset = 0
    var k = 0
    while k < n {
      let o = ctx.outputIndex(k)
      let output = ctx.tensor(o)
      try ctx.requireSameQuantization(input, output)
      let os = ctx.fullShape(o)
      var size = 0
      var counts = shape.dims
      if os.rank == r {
        size = os.dims[axis]
        counts[axis] = size
        var d = 0
        while d < r {
          if os.dims[d] != counts[d] { throw ctx.fail(.shapeMismatch, "split: outputs must match the input except along the axis") }
          d += 1
        }
      } else if os.rank == r - 1 {
        size = 1
        counts[axis] = 1
        var d = 0
        while d < r - 1 {
          if os.dims[d] != shape.dims[d < axis ? d : d + 1] {
            throw ctx.fail(.shapeMismatch, "split: an unpacked output must be the input without the axis")
          }
          d += 1
        }
      } else {
        throw ctx.fail(.shapeMismatch, "split: output rank must be the input's (or one less, unpack)")
      }
      if size < 1 || size > shape.dims[axis] - offset {
        throw ctx.fail(.shapeMismatch, "split: output sizes along the axis exceed the input's")
      }
      let (c, s) = padded(counts: counts, steps: strides, rank: r)
      let copy = StridedCopy(base: offset * strides[axis], counts: c, steps: s)
      try ctx.checkCopy(copy, input: input, output: output)
      (copies + k).initialize(to: copy)
      offset += size
      k += 1
    }
    if offset != shape.dims[axis] { throw ctx.fail(.shapeMismatch, "split: output sizes along the axis must add up to the input's") }
    return SplitData(copies: UnsafePointer(copies), count: n)
  }

  static func eval(_ data: UnsafePointer<SplitData>, _ ctx: OpEvalContext) {
    let d = data.pointee
    let input = ctx.input(0)
    var k = 0
    while k < d.count {
      stridedCopyReference(d.copies[k], input: input, output: ctx.output(k))
      k += 1
    }
  }
}
