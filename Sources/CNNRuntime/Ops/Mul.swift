// Mul int8 reference kernel: bit-exact with TFLM's int8 MUL
// (mul_common.cc CalculateOpDataMul + reference_integer_ops::MulElementwise /
// BroadcastMul6DSlow).

/// Int8 MUL parameters, prepared at load by `prepareMul`.
public struct MulParams: Equatable, Sendable {
  /// −zero point of each input.
  public var input1Offset: Int32
  public var input2Offset: Int32
  public var outputOffset: Int32
  /// QuantizeMultiplier(s1·s2/s_out); TFLite convention: positive shift = left.
  public var outputMultiplier: Int32
  public var outputShift: Int32
  public var activationMin: Int32
  public var activationMax: Int32

  public init(input1Offset: Int32, input2Offset: Int32, outputOffset: Int32, outputMultiplier: Int32,
              outputShift: Int32, activationMin: Int32, activationMax: Int32) {
    self.input1Offset = input1Offset; self.input2Offset = input2Offset; self.outputOffset = outputOffset
    self.outputMultiplier = outputMultiplier; self.outputShift = outputShift
    self.activationMin = activationMin; self.activationMax = activationMax
  }
}

/// TFLM int8 MUL Prepare: real = double(s1) × double(s2) / double(s_out)
/// (left to right, in double), (M, shift) = QuantizeMultiplier(real);
/// offsets −zp1, −zp2, +zp_out. activationMin/Max come from
/// `quantizedActivationRange`. A real multiplier >= 2^31 gives a shift > 31
/// (refused at load, `checkRequantShift`).
public func prepareMul(input1Scale: Float, input1ZeroPoint: Int32,
                       input2Scale: Float, input2ZeroPoint: Int32,
                       outputScale: Float, outputZeroPoint: Int32,
                       activationMin: Int32, activationMax: Int32) -> MulParams {
  let real = Double(input1Scale) * Double(input2Scale) / Double(outputScale)
  let q = quantizeMultiplier(real)
  return MulParams(input1Offset: 0 &- input1ZeroPoint, input2Offset: 0 &- input2ZeroPoint,
                   outputOffset: outputZeroPoint, outputMultiplier: q.multiplier, outputShift: q.shift,
                   activationMin: activationMin, activationMax: activationMax)
}

/// One output element of MUL:
///   out = clamp(MultiplyByQuantizedMultiplier((x1 − zp1)(x2 − zp2), M, shift) + zp_out).
///
/// Int32 bounds: |x + offset| <= 255 (int8 minus an int8 zero point), so the
/// product is at most 65025 in magnitude (< 2^16); with a left shift above 15
/// the C expression `x * (1 << shift)` could overflow, which MBQM wraps
/// exactly as TFLM's two's-complement arithmetic (such multipliers, >= 2^15,
/// do not occur for real quantizations).
@inline(__always)
func mulElement(_ p: MulParams, _ x1: Int8, _ x2: Int8) -> Int8 {
  let a = Int32(x1) &+ p.input1Offset
  let b = Int32(x2) &+ p.input2Offset
  return requantizeToInt8(a &* b, multiplier: p.outputMultiplier, shift: p.outputShift,
                          outputOffset: p.outputOffset,
                          activationMin: p.activationMin, activationMax: p.activationMax)
}

/// Int8 MUL of two same-shape tensors of `count` elements (TFLM MulElementwise).
public func mulReference(params: MulParams, count: Int, input1: UnsafePointer<Int8>, input2: UnsafePointer<Int8>,
                         output: UnsafeMutablePointer<Int8>) {
  var i = 0
  while i < count {
    output[i] = mulElement(params, input1[i], input2[i])
    i &+= 1
  }
}

/// Int8 MUL with broadcasting (TFLM BroadcastMul6DSlow): the same element
/// arithmetic, inputs walked by `plan` (see BroadcastPlan).
public func mulBroadcastReference(params: MulParams, plan: BroadcastPlan, input1: UnsafePointer<Int8>,
                                  input2: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) {
  broadcastBinary(plan, input1, input2, output) { mulElement(params, $0, $1) }
}

// MARK: - Op unit

struct MulData {
  var params: MulParams
  var plan: BroadcastPlan
  /// Argument block of the optimised kernel for `isa`, or nil (reference).
  var optimized: cnnrt_mul_args?
  var isa: Int32
}

/// MUL: a × b, each with its own scale and zero point (an input may be an
/// int8 constant), broadcast up to rank 5, fused activation.
enum MulOp: RuntimeOp {
  static let name: StaticString = "Mul"
  static let arity = OpArity(inputs: 2...2)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> MulData {
    let (a, _) = try ctx.int8Operand(0)
    let (b, _) = try ctx.int8Operand(1)
    let output = ctx.output
    let plan = try ctx.binaryBroadcastPlan()
    let (actMin, actMax) = ctx.activationRange
    let p = prepareMul(input1Scale: a.scale, input1ZeroPoint: a.zeroPoint,
                       input2Scale: b.scale, input2ZeroPoint: b.zeroPoint,
                       outputScale: output.scale, outputZeroPoint: output.zeroPoint,
                       activationMin: actMin, activationMax: actMax)
    try ctx.checkRequantShift(p.outputShift)
    let optimized = mulPlanHasKernel(isa: ctx.isa, plan: plan) ? mulKernelArgs(isa: ctx.isa, params: p) : nil
    return MulData(params: p, plan: plan, optimized: optimized, isa: ctx.isa)
  }

  static func eval(_ data: UnsafePointer<MulData>, _ ctx: OpEvalContext) {
    let d = data.pointee
    let in1 = ctx.input(0), in2 = ctx.input(1), out = ctx.output
    if let args = d.optimized {
      mulOptimized(isa: d.isa, args: args, plan: d.plan, input1: in1, input2: in2, output: out)
    } else if d.plan.isElementwise {
      mulReference(params: d.params, count: d.plan.rowLength, input1: in1, input2: in2, output: out)
    } else {
      mulBroadcastReference(params: d.params, plan: d.plan, input1: in1, input2: in2, output: out)
    }
  }
}
