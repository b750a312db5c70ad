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
    let a1 = (Int32(input1[i]) &+ params.input1Offset) &<< params.leftShift
    let a2 = (Int32(input2[i]) &+ params.input2Offset) &<< params.leftShift
    let s1 = multiplyByQuantizedMultiplier(a1, params.input1Multiplier, params.input1Shift)
    let s2 = multiplyByQuantizedMultiplier(a2, params.input2Multiplier, params.input2Shift)
    output[i] = requantizeToInt8(
      s1 &+ s2, multiplier: params.outputMultiplier, shift: params.outputShift,
      outputOffset: params.outputOffset,
      activationMin: params.activationMin, activationMax: params.activationMax)
  }
}
