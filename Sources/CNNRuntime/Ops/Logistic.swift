// Logistic (sigmoid) int8 reference kernel: bit-exact with TFLM
// reference_integer_ops::Logistic (int8 in, int8 out).

/// Int8 logistic. Output quantization is fixed: scale 1/256, zero point -128.
/// params from `prepareLogistic`.
///
/// For each element, x = input - inputZeroPoint:
/// - x <= -inputRangeRadius -> -128; x >= inputRangeRadius -> 127;
/// - otherwise q = MultiplyByQuantizedMultiplier(x, inputMultiplier,
///   inputLeftShift) is a Q4.27 value, y = gemmlowp logistic(q) in Q0, and
///   out = RoundingDivideByPOT(y, 23) - 128 clamped to [-128, 127].
///
/// Bounds: |x| < radius = floor(15 * 2^27 / 2^inputLeftShift), so
/// |x| * 2^inputLeftShift < 15 * 2^27 < 2^31 and the rescale never wraps.
public func logisticReference(
  params: LogisticParams, count: Int,
  input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>
) {
  guard count > 0 else { return }
  let inputIntegerBits: Int32 = 4
  let outputIntegerBits: Int32 = 8
  for i in 0..<count {
    let x = Int32(input[i]) &- params.inputZeroPoint
    if x <= 0 &- params.inputRangeRadius {
      output[i] = -128
    } else if x >= params.inputRangeRadius {
      output[i] = 127
    } else {
      let q4 = multiplyByQuantizedMultiplier(x, params.inputMultiplier, params.inputLeftShift)
      let y = logisticFixedPoint(q4, integerBits: inputIntegerBits)
      var v = roundingDivideByPOT(y, 31 &- outputIntegerBits) &- 128
      v = v > 127 ? 127 : (v < -128 ? -128 : v)
      output[i] = Int8(truncatingIfNeeded: v)
    }
  }
}

// MARK: - Op unit

/// LOGISTIC (sigmoid), elementwise; output scale 1/256, zero point -128.
/// A byte table (ByteTable.swift): at load, `logisticReference` gives the
/// output of each of the 256 input bytes; `eval` looks them up (the fixed-
/// point exp per element cost about 46 ns, a lookup about 1).
enum LogisticOp: RuntimeOp {
  static let name: StaticString = "Logistic"
  static let arity = OpArity(inputs: 1...1)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int { byteTableBytes }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ByteTableData {
    let input = try prepareFixedOutputActivation(&ctx)
    let p = prepareLogistic(inputScale: input.scale, inputZeroPoint: input.zeroPoint)
    return try ctx.byteTable { x in
      var i = Int8(truncatingIfNeeded: x), o: Int8 = 0
      logisticReference(params: p, count: 1, input: &i, output: &o)
      return o
    }
  }

  static func eval(_ data: UnsafePointer<ByteTableData>, _ ctx: OpEvalContext) { evalByteTable(data, ctx) }
}
