// Tanh (TFLite TANH, int8): TFLM reference_integer_ops::Tanh, as a byte
// table (ByteTable.swift). Output scale 1/128, zero point 0.
//
// At load: the prepare of Logistic (`prepareLogistic`: multiplier and left
// shift of s_in × 2^27, radius = CalculateInputRadius(4, shift)). Per input
// byte, d = x - zp_in:
//   d <= -radius: -128;  d >= radius: 127;
//   else q = MultiplyByQuantizedMultiplier(d, M, shift) (Q4.27),
//        out = clamp(RoundingDivideByPOT(gemmlowp tanh(q) [Q0], 24), -128, 127).
// |d| < radius keeps |d| × 2^shift < 15 × 2^27, so nothing wraps.

enum TanhOp: RuntimeOp {
  static let name: StaticString = "Tanh"
  static let arity = OpArity(inputs: 1...1)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int { byteTableBytes }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ByteTableData {
    let input = try ctx.elementwiseInput()
    let output = ctx.output
    if output.scale != 1.0 / 128.0 || output.zeroPoint != 0 {
      throw ctx.fail(.badOp, "tanh: output quantization must be scale 1/128, zero point 0")
    }
    let p = prepareLogistic(inputScale: input.scale, inputZeroPoint: input.zeroPoint)
    return try ctx.byteTable { x in
      let d = x &- p.inputZeroPoint
      if d <= 0 &- p.inputRangeRadius { return -128 }
      if d >= p.inputRangeRadius { return 127 }
      let q4 = multiplyByQuantizedMultiplier(d, p.inputMultiplier, p.inputLeftShift)
      return saturatingInt8(roundingDivideByPOT(tanhFixedPoint(q4, integerBits: 4), 24))
    }
  }

  static func eval(_ data: UnsafePointer<ByteTableData>, _ ctx: OpEvalContext) { evalByteTable(data, ctx) }
}
