// ReLU (TFLite RELU, int8): TFLM ReluQuantized, as a byte table (ByteTable.swift).
//
// At load: (M, s) = QuantizeMultiplier(double(s_in) / double(s_out)),
// lo = max(-128, zp_out + roundf(0 / s_out)) = zp_out, hi = 127. Per input byte x:
// out = clamp(zp_out + MultiplyByQuantizedMultiplier(x - zp_in, M, s), lo, hi).

enum ReluOp: RuntimeOp {
  static let name: StaticString = "ReLU"
  static let arity = OpArity(inputs: 1...1)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int { byteTableBytes }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ByteTableData {
    let input = try ctx.elementwiseInput()
    let output = ctx.output
    let (m, s) = quantizeMultiplier(Double(input.scale) / Double(output.scale))
    try ctx.checkRequantShift(s)
    let zpIn = input.zeroPoint, zpOut = output.zeroPoint
    let lo: Int32 = zpOut > -128 ? zpOut : -128
    return try ctx.byteTable { x in
      let v = zpOut &+ multiplyByQuantizedMultiplier(x &- zpIn, m, s)
      return saturatingInt8(v < lo ? lo : v)
    }
  }

  static func eval(_ data: UnsafePointer<ByteTableData>, _ ctx: OpEvalContext) { evalByteTable(data, ctx) }
}
