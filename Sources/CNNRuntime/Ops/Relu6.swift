// ReLU6 (TFLite RELU6, int8): TFLM Relu6Quantized, as a byte table
// (ByteTable.swift). TFLM clamps the input bytes to the quantized 0 and 6 of
// the *input's* quantization and ignores the output's, and so does cnnrt (the
// oracle is TFLM). The TFLite converter may give a standalone RELU6 an output
// quantization of its own (its calibrated [0, 6] range), which full TFLite
// honours by requantizing and TFLM does not: such a model's outputs then
// differ from TFLite's, in TFLM and cnnrt alike. cnnrt's own quantizer gives
// RELU6 its input's quantization, where both agree.
//
// At load: zero = zp_in, six = clamp(zp_in + roundf(6 / s_in), -128, 127)
// (TFLM FloatToQuantizedType). Per input byte x: out = min(max(x, zero), six).

enum Relu6Op: RuntimeOp {
  static let name: StaticString = "ReLU6"
  static let arity = OpArity(inputs: 1...1)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int { byteTableBytes }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ByteTableData {
    let input = try ctx.elementwiseInput()
    let zero = input.zeroPoint
    guard let q = quantizeForActivation(6, scale: input.scale, zeroPoint: input.zeroPoint) else {
      throw ctx.fail(.badOp, "relu6: input scale cannot represent 6")
    }
    let six: Int32 = q < -128 ? -128 : (q > 127 ? 127 : q)
    return try ctx.byteTable { x in
      Int8(truncatingIfNeeded: x > six ? six : (x < zero ? zero : x))
    }
  }

  static func eval(_ data: UnsafePointer<ByteTableData>, _ ctx: OpEvalContext) { evalByteTable(data, ctx) }
}
