// LookupTable (cnnrt's own op): out = table[in + 128], the table a constant
// int8 [256] tensor (input 1). The tools emit it for elementwise functions
// TFLite Micro has no int8 kernel for (ONNX HardSigmoid), computing each
// entry in float from the input and output quantizations. The table is
// copied into the op's extra region (16-byte aligned) at load.

enum LookupTableOp: RuntimeOp {
  static let name: StaticString = "LookupTable"
  static let arity = OpArity(inputs: 2...2)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int { byteTableBytes }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ByteTableData {
    _ = try ctx.elementwiseInput()
    guard let t = ctx.constantInput(1), let data = t.constData else {
      throw ctx.fail(.badOp, "lookup table: input 1 must be a constant int8 tensor of 256 values")
    }
    if t.type != .int8 || t.count != byteTableBytes {
      throw ctx.fail(.badOp, "lookup table: input 1 must be a constant int8 tensor of 256 values")
    }
    let values = data.assumingMemoryBound(to: Int8.self)
    return try ctx.byteTable { x in values[Int(x &+ 128)] }
  }

  static func eval(_ data: UnsafePointer<ByteTableData>, _ ctx: OpEvalContext) { evalByteTable(data, ctx) }
}
