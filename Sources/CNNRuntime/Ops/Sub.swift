// Sub int8 reference kernel: bit-exact with TFLM's int8 SUB (sub_common.cc
// CalculateOpDataSub + reference_ops::SubElementwise / BroadcastQuantSubSlow):
// ADD's arithmetic (AddParams, each input rescaled to a common scale with a
// left shift of 20) with the rescaled second input subtracted. Note that
// this is not Add of the negated input: MultiplyByQuantizedMultiplier rounds
// ties upward, so MBQM(−x) and −MBQM(x) differ at ties; TFLM subtracts the
// rescaled values, and so does this kernel.

/// TFLM int8 SUB Prepare. Unlike ADD's, TFLM computes the real multipliers
/// in float and converts each to double only at the end:
///   twice_max = 2 · max(s1, s2)                       (float)
///   real_i    = double(s_i / twice_max)               (float division)
///   real_out  = double(twice_max / (2^20 · s_out))    (float)
/// each through QuantizeMultiplierSmallerThanOneExp; left_shift = 20; offsets
/// −zp1, −zp2, +zp_out. The float quotients can differ from ADD's double ones
/// in the last bits of the 31-bit multipliers, so the two are kept apart.
public func prepareSub(input1Scale: Float, input1ZeroPoint: Int32,
                       input2Scale: Float, input2ZeroPoint: Int32,
                       outputScale: Float, outputZeroPoint: Int32,
                       activationMin: Int32, activationMax: Int32) -> AddParams {
  let leftShift: Int32 = 20
  // std::max(a, b) returns (a < b) ? b : a.
  let maxScale = input1Scale < input2Scale ? input2Scale : input1Scale
  let twiceMaxInputScale: Float = 2 * maxScale
  let realInput1Multiplier = Double(input1Scale / twiceMaxInputScale)
  let realInput2Multiplier = Double(input2Scale / twiceMaxInputScale)
  let realOutputMultiplier = Double(twiceMaxInputScale / (Float(1_048_576) * outputScale))  // (1 << 20) * s_out
  let q1 = quantizeMultiplierSmallerThanOneExp(realInput1Multiplier)
  let q2 = quantizeMultiplierSmallerThanOneExp(realInput2Multiplier)
  let qOut = quantizeMultiplierSmallerThanOneExp(realOutputMultiplier)
  return AddParams(
    input1Offset: 0 &- input1ZeroPoint, input2Offset: 0 &- input2ZeroPoint,
    outputOffset: outputZeroPoint, leftShift: leftShift,
    input1Multiplier: q1.multiplier, input1Shift: q1.shift,
    input2Multiplier: q2.multiplier, input2Shift: q2.shift,
    outputMultiplier: qOut.multiplier, outputShift: qOut.shift,
    activationMin: activationMin, activationMax: activationMax)
}

/// One output element of SUB:
///   a_i = (x_i + offset_i) · 2^20,  s_i = MBQM(a_i, M_i, shift_i)
///   out = clamp(MBQM(s_1 − s_2, M_out, shift_out) + zp_out)
/// The kernel uses `multiplyByQuantizedMultiplier`, identical to TFLM's
/// SmallerThanOneExp form for every shift <= 0 (see addElement).
/// Int32 bounds: |a_i| <= 255 · 2^20 < 2^28, input multipliers <= 1/2, so
/// |s_1 − s_2| <= 2^28.
@inline(__always)
func subElement(_ params: AddParams, _ x1: Int8, _ x2: Int8) -> Int8 {
  let a1 = (Int32(x1) &+ params.input1Offset) &<< params.leftShift
  let a2 = (Int32(x2) &+ params.input2Offset) &<< params.leftShift
  let s1 = multiplyByQuantizedMultiplier(a1, params.input1Multiplier, params.input1Shift)
  let s2 = multiplyByQuantizedMultiplier(a2, params.input2Multiplier, params.input2Shift)
  return requantizeToInt8(
    s1 &- s2, multiplier: params.outputMultiplier, shift: params.outputShift,
    outputOffset: params.outputOffset,
    activationMin: params.activationMin, activationMax: params.activationMax)
}

/// Int8 SUB of two same-shape tensors of `count` elements (TFLM SubElementwise).
public func subReference(params: AddParams, count: Int, input1: UnsafePointer<Int8>, input2: UnsafePointer<Int8>,
                         output: UnsafeMutablePointer<Int8>) {
  var i = 0
  while i < count {
    output[i] = subElement(params, input1[i], input2[i])
    i &+= 1
  }
}

/// Int8 SUB with broadcasting (TFLM BroadcastQuantSubSlow), inputs walked by `plan`.
public func subBroadcastReference(params: AddParams, plan: BroadcastPlan, input1: UnsafePointer<Int8>,
                                  input2: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) {
  broadcastBinary(plan, input1, input2, output) { subElement(params, $0, $1) }
}

// MARK: - Op unit

struct SubData {
  var params: AddParams
  var plan: BroadcastPlan
}

/// SUB: a − b, each with its own scale and zero point (an input may be an
/// int8 constant), broadcast up to rank 5, fused activation.
enum SubOp: RuntimeOp {
  static let name: StaticString = "Sub"
  static let arity = OpArity(inputs: 2...2)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> SubData {
    let (a, _) = try ctx.int8Operand(0)
    let (b, _) = try ctx.int8Operand(1)
    let output = ctx.output
    let plan = try ctx.binaryBroadcastPlan()
    let (actMin, actMax) = ctx.activationRange
    let p = prepareSub(input1Scale: a.scale, input1ZeroPoint: a.zeroPoint,
                       input2Scale: b.scale, input2ZeroPoint: b.zeroPoint,
                       outputScale: output.scale, outputZeroPoint: output.zeroPoint,
                       activationMin: actMin, activationMax: actMax)
    try ctx.checkRequantShift(p.input1Shift)
    try ctx.checkRequantShift(p.input2Shift)
    try ctx.checkRequantShift(p.outputShift)
    return SubData(params: p, plan: plan)
  }

  static func eval(_ data: UnsafePointer<SubData>, _ ctx: OpEvalContext) {
    let d = data.pointee
    if d.plan.isElementwise {
      subReference(params: d.params, count: d.plan.rowLength, input1: ctx.input(0), input2: ctx.input(1),
                   output: ctx.output)
    } else {
      subBroadcastReference(params: d.params, plan: d.plan, input1: ctx.input(0), input2: ctx.input(1),
                            output: ctx.output)
    }
  }
}
