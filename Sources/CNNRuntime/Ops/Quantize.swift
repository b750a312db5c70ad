// Quantize (TFLite QUANTIZE, int8 -> int8 requantization): TFLM Requantize,
// as a byte table (ByteTable.swift).
//
// At load: (M, s) = QuantizeMultiplier(double(s_in) / double(s_out)). Per
// input byte x: out = clamp(MultiplyByQuantizedMultiplier(x - zp_in, M, s) + zp_out, -128, 127).

enum QuantizeOp: RuntimeOp {
  static let name: StaticString = "Quantize"
  static let arity = OpArity(inputs: 1...1)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int { byteTableBytes }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ByteTableData {
    let input = try ctx.elementwiseInput()
    let output = ctx.output
    let (m, s) = quantizeMultiplier(Double(input.scale) / Double(output.scale))
    try ctx.checkRequantShift(s)
    let zpIn = input.zeroPoint, zpOut = output.zeroPoint
    return try ctx.byteTable { x in
      saturatingInt8(multiplyByQuantizedMultiplier(x &- zpIn, m, s) &+ zpOut)
    }
  }

  static func eval(_ data: UnsafePointer<ByteTableData>, _ ctx: OpEvalContext) { evalByteTable(data, ctx) }
}
