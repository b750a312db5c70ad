// Reshape (also Flatten and Squeeze): the same bytes under a new shape.

/// RESHAPE: element counts and quantization equal. An int8 input written by
/// an earlier op is placed in the output's bytes at load, so nothing is
/// copied; otherwise (a model input, an input already placed in another
/// tensor, other types) the planner puts them apart and the bytes are copied.
enum ReshapeOp: RuntimeOp {
  static let name: StaticString = "Reshape"
  static let arity = OpArity(inputs: 1...1)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> NoOpData {
    let input = try ctx.activationInput(0)
    let output = ctx.output
    if input.count != output.count { throw ctx.fail(.shapeMismatch, "reshape changes the element count") }
    if !sameQuantization(input, output) { throw ctx.fail(.badOp, "reshape input and output quantization must be equal") }
    ctx.placeInputInOutput(0, offset: 0)
    return NoOpData()
  }

  static func eval(_ data: UnsafePointer<NoOpData>, _ ctx: OpEvalContext) {
    let src = UnsafeRawPointer(ctx.input(0))
    let out = ctx.output
    if src != UnsafeRawPointer(out) { cnnrt_shim_memcpy(out, src, ctx.outputCount) }
  }
}
