// LeakyReLU (TFLite LEAKY_RELU, int8): TFLM QuantizeLeakyRelu, as a byte
// table (ByteTable.swift). alpha is the record's `extra` (f32 bits).
//
// At load (products and quotients in float, as TFLM, then widened):
//   (M_a, s_a) = QuantizeMultiplier(double(s_in * alpha / s_out)),
//   (M_1, s_1) = QuantizeMultiplier(double(s_in / s_out)).
// Per input byte, d = x - zp_in:
//   d >= 0: out = zp_out + MultiplyByQuantizedMultiplier(d, M_1, s_1)
//   d <  0: out = zp_out ± MultiplyByQuantizedMultiplier(d, |M_a|, s_a)
//           (the sign of alpha applied after, as TFLM does for negative alpha),
// clamped to [-128, 127].

enum LeakyReluOp: RuntimeOp {
  static let name: StaticString = "LeakyReLU"
  static let arity = OpArity(inputs: 1...1)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int { byteTableBytes }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ByteTableData {
    let input = try ctx.elementwiseInput()
    let output = ctx.output
    let alpha = Float(bitPattern: ctx.rec.extra)
    if !alpha.isFinite { throw ctx.fail(.badOp, "leaky relu: alpha must be finite") }
    let (mAlpha, sAlpha) = quantizeMultiplier(Double(input.scale * alpha / output.scale))
    let (mIdentity, sIdentity) = quantizeMultiplier(Double(input.scale / output.scale))
    try ctx.checkRequantShift(sAlpha)
    try ctx.checkRequantShift(sIdentity)
    let negative = mAlpha < 0
    let mAlphaAbs = negative ? 0 &- mAlpha : mAlpha
    let zpIn = input.zeroPoint, zpOut = output.zeroPoint
    return try ctx.byteTable { x in
      let d = x &- zpIn
      if d >= 0 { return saturatingInt8(zpOut &+ multiplyByQuantizedMultiplier(d, mIdentity, sIdentity)) }
      let scaled = multiplyByQuantizedMultiplier(d, mAlphaAbs, sAlpha)
      return saturatingInt8(zpOut &+ (negative ? 0 &- scaled : scaled))
    }
  }

  static func eval(_ data: UnsafePointer<ByteTableData>, _ ctx: OpEvalContext) { evalByteTable(data, ctx) }
}
