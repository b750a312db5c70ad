// Sum (TFLite SUM, ONNX ReduceSum) reference kernel: bit-exact with TFLM's
// int8 SUM (reduce_common.cc EvalSumHelper -> reference_ops::
// QuantizedMeanOrSum with compute_sum = true): the int32 sum of the reduced
// elements, less input_zero_point × n, requantized by input_scale /
// output_scale, which TFLM applies for equal and different quantizations
// alike. The axes and the output shape are MEAN's (`ReduceView`), any set of
// axes of a rank 1–5 input.

/// TFLM int8 SUM Prepare: (M, s) = QuantizeMultiplier(double(inputScale) /
/// double(outputScale)) used as is (no 1/n folded in, unlike `prepareMean`);
/// zero point × count wrapped to 32 bits as TFLM's cast of the int64 product.
public func prepareSum(inputScale: Float, inputZeroPoint: Int32, outputScale: Float, outputZeroPoint: Int32,
                       count: Int) -> MeanParams {
  let (m, s) = quantizeMultiplier(Double(inputScale) / Double(outputScale))
  return MeanParams(inputZeroPointTimesCount: inputZeroPoint &* Int32(truncatingIfNeeded: count),
                    outputZeroPoint: outputZeroPoint, multiplier: m, shift: s)
}

/// Int8 sum over the reduced axes of `view`; params from `prepareSum`.
/// Per output (row-major over the kept axes): acc = Σ x (wrapping Int32, as
/// TFLM's int32 temp sum), out = clamp(MultiplyByQuantizedMultiplier(acc −
/// zp_in × n, M, s) + zp_out, −128, 127).
public func sumReference(params: MeanParams, view: ReduceView, input: UnsafePointer<Int8>,
                         output: UnsafeMutablePointer<Int8>) {
  var o = 0
  view.forEachOffset(view.kept) { base in
    var acc: Int32 = 0
    view.forEachOffset(view.reduced) { acc = acc &+ Int32(input[base &+ $0]) }
    var v = multiplyByQuantizedMultiplier(acc &- params.inputZeroPointTimesCount, params.multiplier, params.shift)
      &+ params.outputZeroPoint
    v = v < -128 ? -128 : (v > 127 ? 127 : v)
    output[o] = Int8(truncatingIfNeeded: v)
    o &+= 1
  }
}

// MARK: - Op unit

struct SumData {
  var params: MeanParams
  var view: ReduceView
}

/// SUM over any axes of a rank 1–5 tensor: `extra` and the output shape as
/// MEAN's (keep_dims or not); any per-tensor quantization; no fused activation.
enum SumOp: RuntimeOp {
  static let name: StaticString = "Sum"
  static let arity = OpArity(inputs: 1...1)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> SumData {
    let input = try ctx.activationInput(0)
    let output = ctx.output
    try ctx.requireNoActivation()
    let view = try ctx.reduceView(input, output, mask: try ctx.reducedAxes(input))
    let p = prepareSum(inputScale: input.scale, inputZeroPoint: input.zeroPoint,
                       outputScale: output.scale, outputZeroPoint: output.zeroPoint, count: view.count)
    if p.shift > maxRequantLeftShift {
      throw ctx.fail(.badOp, tensor: ctx.outputIndex(0), "sum: input scale / output scale too large (rescale shift above 31)")
    }
    return SumData(params: p, view: view)
  }

  static func eval(_ data: UnsafePointer<SumData>, _ ctx: OpEvalContext) {
    sumReference(params: data.pointee.params, view: data.pointee.view, input: ctx.input(0), output: ctx.output)
  }
}
