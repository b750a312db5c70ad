// Reshape (also Flatten and Squeeze): the same bytes under a new shape.

/// RESHAPE: element counts and quantization equal. The planner may place
/// input and output at different offsets, so the bytes are copied (nothing
/// is done when they share the same bytes).
enum ReshapeOp: RuntimeOp {
  static let name: StaticString = "Reshape"
  static let arity = OpArity(inputs: 1...1)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> NoOpData {
    let input = try ctx.activationInput(0)
    let output = ctx.output
    if input.count != output.count { throw ctx.fail(.shapeMismatch, "reshape changes the element count") }
    if !sameQuantization(input, output) { throw ctx.fail(.badOp, "reshape input and output quantization must be equal") }
    return NoOpData()
  }

  static func eval(_ data: UnsafePointer<NoOpData>, _ ctx: OpEvalContext) {
    let src = UnsafeRawPointer(ctx.input(0))
    let out = ctx.output
    if src != UnsafeRawPointer(out) { cnnrt_shim_memcpy(out, src, ctx.outputCount) }
  }
}
