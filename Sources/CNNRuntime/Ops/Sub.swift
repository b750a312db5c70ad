// Sub int8 reference kernel: bit-exact with TFLM's int8 SUB (sub_common.cc
// CalculateOpDataSub + reference_ops::SubElementwise / BroadcastQuantSubSlow):
// ADD's arithmetic (AddParams, each input rescaled to a common scale with a
// left shift of 20) with the rescaled second input subtracted. Note that
// this is not Add of the negated input: MultiplyByQuantizedMultiplier rounds
// ties upward, so MBQM(−x) and −MBQM(x) differ at ties; TFLM subtracts the
// rescaled values, and so does this kernel.

/// TFLM int8 SUB Prepare (`CalculateOpDataSub`): the same parameters as
/// ADD's (`prepareAdd`: left_shift 20, multipliers s_i / (2·max(s1, s2)) and
/// 2·max(s1, s2) / (2^20·s_out) quantized from double quotients).
///
/// TFLM's sub_common.cc (as published) forms these quotients in float and
/// converts them to double afterwards, which changes the last bits of the
/// 31-bit multipliers; the TFLM build that serves as the oracle
/// (tflite-micro 0.dev20261023, x86-64) gives the double-quotient results.
/// The goldens sub_const_all_levels_float_multipliers(_b) separate the two
/// (scales chosen so that 35 / 32 of the 65536 input pairs differ; the float
/// quotients miss TFLM on 40 / 36 output bytes, the double ones on none).
public func prepareSub(input1Scale: Float, input1ZeroPoint: Int32,
                       input2Scale: Float, input2ZeroPoint: Int32,
                       outputScale: Float, outputZeroPoint: Int32,
                       activationMin: Int32, activationMax: Int32) -> AddParams {
  prepareAdd(input1Scale: input1Scale, input1ZeroPoint: input1ZeroPoint,
             input2Scale: input2Scale, input2ZeroPoint: input2ZeroPoint,
             outputScale: outputScale, outputZeroPoint: outputZeroPoint,
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
