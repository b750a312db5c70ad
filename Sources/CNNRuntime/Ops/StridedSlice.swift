// StridedSlice (TFLite STRIDED_SLICE and SLICE, ONNX Slice): the tools
// resolve begin/end/strides and the masks at import into, per input axis,
// a first index, a step and a count (input 1, constant int32 [rank, 3]);
// the runtime checks them and copies bytes (TFLM reference_ops::StridedSlice
// for int8 reads the same elements in the same order).

enum StridedSliceOp: RuntimeOp {
  static let name: StaticString = "StridedSlice"
  static let arity = OpArity(inputs: 2...2)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> StridedCopy {
    let input = try ctx.activationInput(0)
    let output = ctx.output
    try ctx.requireNoActivation()
    try ctx.requireSameQuantization(input, output)
    let shape = ctx.fullShape(Int(ctx.inputIndex(0)))
    let r = shape.rank
    guard let p = ctx.int32Constant(1, count: 3 * r) else {
      throw ctx.fail(.badOp, "strided slice: input 1 must be a constant int32 [rank, 3] (begin, stride, count per axis)")
    }
    let strides = shape.strides
    var counts = Ints5(), steps = Ints5()
    var base = 0
    var k = 0
    while k < r {
      let begin = Int(readLE(p, 12 * k, as: Int32.self))
      let stride = Int(readLE(p, 12 * k + 4, as: Int32.self))
      let count = Int(readLE(p, 12 * k + 8, as: Int32.self))
      let dim = shape.dims[k]
      if stride == 0 || stride > ModelFormat.maxDimension || stride < -ModelFormat.maxDimension {
        throw ctx.fail(.badOp, "strided slice: stride must be non-zero, at most 65536 in magnitude")
      }
      if count < 1 || count > dim { throw ctx.fail(.badOp, "strided slice: count must be 1 to the axis size") }
      let last = begin + (count - 1) * stride
      if begin < 0 || begin >= dim || last < 0 || last >= dim {
        throw ctx.fail(.shapeMismatch, "strided slice: slice outside the input tensor")
      }
      counts[k] = count
      steps[k] = stride * strides[k]
      base += begin * strides[k]
      k += 1
    }
    let out = ctx.fullShape(ctx.outputIndex(0))
    if !out.sameIgnoringOnes(counts, rank: r) {
      throw ctx.fail(.shapeMismatch, "strided slice: output shape differs from the slice counts")
    }
    let (c, s) = padded(counts: counts, steps: steps, rank: r)
    let copy = StridedCopy(base: base, counts: c, steps: s)
    try ctx.checkCopy(copy, input: input, output: output)
    return copy
  }

  static func eval(_ data: UnsafePointer<StridedCopy>, _ ctx: OpEvalContext) {
    stridedCopyReference(data.pointee, input: ctx.input(0), output: ctx.output)
  }
}
