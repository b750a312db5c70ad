// Transpose (TFLite TRANSPOSE, ONNX Transpose): output dimension k is input
// dimension perm[k] (input 1, constant int32 [rank], a permutation); bytes
// are copied, as TFLM reference_ops::Transpose does for int8.

enum TransposeOp: RuntimeOp {
  static let name: StaticString = "Transpose"
  static let arity = OpArity(inputs: 2...2)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> StridedCopy {
    let (input, output, shape, out) = try ctx.sameRankByteMove()
    let r = shape.rank
    guard let p = ctx.int32Constant(1, count: r) else {
      throw ctx.fail(.badOp, "transpose: input 1 must be a constant int32 permutation with one entry per input dimension")
    }
    let strides = shape.strides
    var seen = 0
    var steps = Ints5()
    var k = 0
    while k < r {
      let a = Int(readLE(p, 4 * k, as: Int32.self))
      if a < 0 || a >= r || seen & (1 << a) != 0 { throw ctx.fail(.badOp, "transpose: perm is not a permutation of the axes") }
      seen |= 1 << a
      if out.dims[k] != shape.dims[a] { throw ctx.fail(.shapeMismatch, "transpose: output dimension k must be input dimension perm[k]") }
      steps[k] = strides[a]
      k += 1
    }
    let (c, s) = padded(counts: out.dims, steps: steps, rank: r)
    let copy = StridedCopy(base: 0, counts: c, steps: s)
    try ctx.checkCopy(copy, input: input, output: output)
    return copy
  }

  static func eval(_ data: UnsafePointer<StridedCopy>, _ ctx: OpEvalContext) {
    stridedCopyReference(data.pointee, input: ctx.input(0), output: ctx.output)
  }
}
