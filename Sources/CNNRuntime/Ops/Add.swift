// Add int8 reference kernel: bit-exact with TFLM
// reference_integer_ops::AddElementwise / AddFunc.

/// Int8 elementwise addition of two same-shape tensors with different
/// quantizations (params from `prepareAdd`).
///
/// For each element:
///   a_i = (x_i + inputOffset_i) * 2^leftShift            (leftShift = 20)
///   s_i = MultiplyByQuantizedMultiplierSmallerThanOneExp(a_i, M_i, shift_i)
///   out = MultiplyByQuantizedMultiplierSmallerThanOneExp(s_1 + s_2, M_out, shift_out)
///         + outputOffset, clamped to [activationMin, activationMax].
/// The kernel uses `multiplyByQuantizedMultiplier`, identical to the
/// SmallerThanOneExp form for every shift <= 0 (the only shifts `prepareAdd`
/// produces for valid scales) and still well defined for positive shifts.
///
/// Int32 bounds: |x + offset| <= 255, so |a_i| <= 255 * 2^20 < 2^28; the
/// input multipliers are <= 1/2, so |s_1 + s_2| <= 2^28: nothing overflows.
public func addReference(
  params: AddParams, count: Int,
  input1: UnsafePointer<Int8>, input2: UnsafePointer<Int8>,
  output: UnsafeMutablePointer<Int8>
) {
  guard count > 0 else { return }
  for i in 0..<count {
    output[i] = addElement(params, input1[i], input2[i])
  }
}

/// One output element of Add: both inputs rescaled to the common scale, summed, requantized.
@inline(__always)
func addElement(_ params: AddParams, _ x1: Int8, _ x2: Int8) -> Int8 {
  let a1 = (Int32(x1) &+ params.input1Offset) &<< params.leftShift
  let a2 = (Int32(x2) &+ params.input2Offset) &<< params.leftShift
  let s1 = multiplyByQuantizedMultiplier(a1, params.input1Multiplier, params.input1Shift)
  let s2 = multiplyByQuantizedMultiplier(a2, params.input2Multiplier, params.input2Shift)
  return requantizeToInt8(
    s1 &+ s2, multiplier: params.outputMultiplier, shift: params.outputShift,
    outputOffset: params.outputOffset,
    activationMin: params.activationMin, activationMax: params.activationMax)
}

/// Strides (n, h, w, c) of an NHWC input in output coordinates: 0 along the
/// dimensions it broadcasts (extent 1).
@inline(__always)
func broadcastStrides(_ d: Dims4) -> (Int, Int, Int, Int) {
  let c = d.c == 1 ? 0 : 1
  let w = d.w == 1 ? 0 : d.c
  let h = d.h == 1 ? 0 : d.w &* d.c
  let n = d.n == 1 ? 0 : d.h &* d.w &* d.c
  return (n, h, w, c)
}

/// Add with NumPy/TFLite broadcasting over NHWC shapes: every input dimension
/// equals the output's or is 1 (checked at load; shapes of lower rank are
/// padded with 1s on the left). Same per-element arithmetic as addReference
/// (TFLM BroadcastAdd for int8).
public func addBroadcastReference(
  params: AddParams, outputShape: Dims4,
  input1Shape: Dims4, input1: UnsafePointer<Int8>,
  input2Shape: Dims4, input2: UnsafePointer<Int8>,
  output: UnsafeMutablePointer<Int8>
) {
  let s1 = broadcastStrides(input1Shape), s2 = broadcastStrides(input2Shape)
  var o = 0
  var b = 0
  while b < outputShape.n {
    var y = 0
    while y < outputShape.h {
      var x = 0
      while x < outputShape.w {
        let base1 = b &* s1.0 &+ y &* s1.1 &+ x &* s1.2
        let base2 = b &* s2.0 &+ y &* s2.1 &+ x &* s2.2
        var c = 0
        while c < outputShape.c {
          output[o] = addElement(params, input1[base1 &+ c &* s1.3], input2[base2 &+ c &* s2.3])
          o &+= 1
          c &+= 1
        }
        x &+= 1
      }
      y &+= 1
    }
    b &+= 1
  }
}

// MARK: - Op unit

struct AddData {
  var params: AddParams
  /// Both inputs have the output's shape (else broadcast).
  var sameShape: Bool
  /// Argument block of the optimised kernel for `isa`, or nil: same-shape
  /// inputs on every path, broadcast too on the Arm paths and (with `plan`)
  /// the x86 ones.
  var optimized: cnnrt_add_args?
  var isa: Int32
  /// How an x86 path walks a broadcast (nil: same shape, or another path).
  var plan: BroadcastPlan?
}

/// ADD: a + b, each with its own scale and zero point (an activation or an
/// int8 constant), every dimension equal to the output's or 1 (broadcast);
/// fused activation.
enum AddOp: RuntimeOp {
  static let name: StaticString = "Add"
  static let arity = OpArity(inputs: 2...2)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> AddData {
    // Either input may be an int8 constant (TFLite's ADD of a folded
    // BatchNorm shift, as in pre-activation DenseNet blocks).
    let (a, _) = try ctx.int8Operand(0)
    let (b, _) = try ctx.int8Operand(1)
    let output = ctx.output
    if a.rank > 4 || b.rank > 4 || output.rank > 4 { throw ctx.fail(.shapeMismatch, "add: tensors of rank 5 are not supported") }
    if !broadcasts(a.dims, to: output.dims) || !broadcasts(b.dims, to: output.dims) {
      throw ctx.fail(.shapeMismatch, "add inputs must have the output's shape or broadcast to it (dimensions equal or 1)")
    }
    let (actMin, actMax) = ctx.activationRange
    let p = prepareAdd(input1Scale: a.scale, input1ZeroPoint: a.zeroPoint,
                       input2Scale: b.scale, input2ZeroPoint: b.zeroPoint,
                       outputScale: output.scale, outputZeroPoint: output.zeroPoint,
                       activationMin: actMin, activationMax: actMax)
    try ctx.checkRequantShift(p.input1Shift)
    try ctx.checkRequantShift(p.input2Shift)
    try ctx.checkRequantShift(p.outputShift)
    let sameShape = a.dims == output.dims && b.dims == output.dims
    var plan: BroadcastPlan? = nil
    if !sameShape && (ctx.isa == KernelISA.avx2 || ctx.isa == KernelISA.avx512) {
      plan = BroadcastPlan(a: ctx.paddedShape(Int(ctx.inputIndex(0))), b: ctx.paddedShape(Int(ctx.inputIndex(1))),
                           out: ctx.paddedShape(ctx.outputIndex(0)))
    }
    return AddData(params: p, sameShape: sameShape,
                   optimized: sameShape || isArmISA(ctx.isa) || plan != nil ? addKernelArgs(isa: ctx.isa, params: p) : nil,
                   isa: ctx.isa, plan: plan)
  }

  static func eval(_ data: UnsafePointer<AddData>, _ ctx: OpEvalContext) {
    let d = data.pointee
    if let args = d.optimized, let plan = d.plan {
      addBroadcastOptimized(isa: d.isa, args: args, plan: plan, input1: ctx.input(0), input2: ctx.input(1),
                            output: ctx.output)
    } else if let args = d.optimized, !d.sameShape {
      // Broadcast on an Arm path (see prepare).
      armAddBroadcast(isa: d.isa, args: args, outputShape: ctx.outputDims,
                      input1Shape: ctx.inputDims(0), input1: ctx.input(0),
                      input2Shape: ctx.inputDims(1), input2: ctx.input(1), output: ctx.output)
    } else if let args = d.optimized {
      addOptimized(isa: d.isa, args: args, count: ctx.outputCount, input1: ctx.input(0), input2: ctx.input(1),
                   output: ctx.output)
    } else if d.sameShape {
      addReference(params: d.params, count: ctx.outputCount, input1: ctx.input(0), input2: ctx.input(1),
                   output: ctx.output)
    } else {
      addBroadcastReference(params: d.params, outputShape: ctx.outputDims,
                            input1Shape: ctx.inputDims(0), input1: ctx.input(0),
                            input2Shape: ctx.inputDims(1), input2: ctx.input(1), output: ctx.output)
    }
  }
}
