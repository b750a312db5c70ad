// Maximum / Minimum int8 reference kernels: bit-exact with TFLM's MAXIMUM and
// MINIMUM (maximum_minimum.cc: reference_ops::MaximumMinimumBroadcastSlow on
// the raw int8 values, no requantization and no clamp).
//
// TFLM has no Prepare for these ops and compares the stored int8 values as
// they are, which means max/min of the real values only when both inputs and
// the output share one scale and zero point (what the TFLite converter
// produces: its quantizer ties the three together). cnnrt refuses any other
// model at load rather than compute a max of incomparable numbers.

/// Elementwise maximum of two same-shape int8 tensors.
public func maximumReference(count: Int, input1: UnsafePointer<Int8>, input2: UnsafePointer<Int8>,
                             output: UnsafeMutablePointer<Int8>) {
  var i = 0
  while i < count {
    let x = input1[i], y = input2[i]
    output[i] = x > y ? x : y
    i &+= 1
  }
}

/// Elementwise minimum of two same-shape int8 tensors.
public func minimumReference(count: Int, input1: UnsafePointer<Int8>, input2: UnsafePointer<Int8>,
                             output: UnsafeMutablePointer<Int8>) {
  var i = 0
  while i < count {
    let x = input1[i], y = input2[i]
    output[i] = x < y ? x : y
    i &+= 1
  }
}

// MARK: - Op units

/// Shared load-time checks: two int8 operands (activations or constants)
/// with the output's scale and zero point, no fused activation, broadcast.
func prepareMaximumMinimum(_ ctx: inout OpPrepareContext) throws(LoadError) -> BroadcastPlan {
  try ctx.requireNoActivation()
  let (a, ia) = try ctx.int8Operand(0)
  let (b, ib) = try ctx.int8Operand(1)
  let output = ctx.output
  if !sameQuantization(a, output) {
    throw ctx.fail(.badOp, tensor: ia, "inputs and output must share one scale and zero point")
  }
  if !sameQuantization(b, output) {
    throw ctx.fail(.badOp, tensor: ib, "inputs and output must share one scale and zero point")
  }
  return try ctx.binaryBroadcastPlan()
}

/// MAXIMUM: max(a, b) elementwise, broadcast up to rank 5.
enum MaximumOp: RuntimeOp {
  static let name: StaticString = "Maximum"
  static let arity = OpArity(inputs: 2...2)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> BroadcastPlan {
    try prepareMaximumMinimum(&ctx)
  }

  static func eval(_ data: UnsafePointer<BroadcastPlan>, _ ctx: OpEvalContext) {
    let plan = data.pointee
    if plan.isElementwise {
      maximumReference(count: plan.rowLength, input1: ctx.input(0), input2: ctx.input(1), output: ctx.output)
    } else {
      broadcastBinary(plan, ctx.input(0), ctx.input(1), ctx.output) { $0 > $1 ? $0 : $1 }
    }
  }
}

/// MINIMUM: min(a, b) elementwise, broadcast up to rank 5.
enum MinimumOp: RuntimeOp {
  static let name: StaticString = "Minimum"
  static let arity = OpArity(inputs: 2...2)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> BroadcastPlan {
    try prepareMaximumMinimum(&ctx)
  }

  static func eval(_ data: UnsafePointer<BroadcastPlan>, _ ctx: OpEvalContext) {
    let plan = data.pointee
    if plan.isElementwise {
      minimumReference(count: plan.rowLength, input1: ctx.input(0), input2: ctx.input(1), output: ctx.output)
    } else {
      broadcastBinary(plan, ctx.input(0), ctx.input(1), ctx.output) { $0 < $1 ? $0 : $1 }
    }
  }
}
