// ReduceMax (TFLite REDUCE_MAX, ONNX ReduceMax) reference kernel: TFLM's
// int8 REDUCE_MAX (reduce_common.cc EvalMaxHelper -> reference_ops::
// ReduceGeneric from −128 with max): the largest int8 value of the reduced
// elements, copied. TFLM requires the input's scale and zero point on the
// output (TF_LITE_ENSURE_EQ); so does the loader. Axes and output shape as
// MEAN's (`ReduceView`), any set of axes of a rank 1–5 input.

/// Int8 max over the reduced axes of `view`, row-major over the kept axes.
public func reduceMaxReference(view: ReduceView, input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) {
  var o = 0
  view.forEachOffset(view.kept) { base in
    var m = Int8.min
    view.forEachOffset(view.reduced) { let x = input[base &+ $0]; if x > m { m = x } }
    output[o] = m
    o &+= 1
  }
}

// MARK: - Op unit

/// REDUCE_MAX over any axes of a rank 1–5 tensor: `extra` and the output
/// shape as MEAN's (keep_dims or not); the input's quantization on the
/// output; no fused activation.
enum ReduceMaxOp: RuntimeOp {
  static let name: StaticString = "ReduceMax"
  static let arity = OpArity(inputs: 1...1)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ReduceView {
    let input = try ctx.activationInput(0)
    let output = ctx.output
    try ctx.requireNoActivation()
    try ctx.requireSameQuantization(input, output)
    return try ctx.reduceView(input, output, mask: try ctx.reducedAxes(input))
  }

  static func eval(_ data: UnsafePointer<ReduceView>, _ ctx: OpEvalContext) {
    reduceMaxReference(view: data.pointee, input: ctx.input(0), output: ctx.output)
  }
}
