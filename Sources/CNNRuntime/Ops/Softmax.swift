// Softmax int8 -> int8 reference kernel: bit-exact with TFLM
// reference_ops::Softmax<int8_t, int8_t> (tensorflow/lite/kernels/internal/reference/softmax.h).

/// Int8 softmax over the last dimension. Output quantization is fixed:
/// scale 1/256, zero point -128. params from `prepareSoftmax`.
///
/// Per row (`depth` values):
/// 1. max = row maximum; diff = x - max (<= 0).
/// 2. Taps with diff < diffMin contribute nothing and output -128.
/// 3. Others: scaled = MultiplyByQuantizedMultiplierGreaterThanOne(diff,
///    inputMultiplier, inputLeftShift) as a Q5.26 value;
///    e = exp_on_negative_values(scaled) in Q0; sum += e rescaled to Q12
///    (rounding right shift by 12).
/// 4. (recip, bitsOverUnit) = GetReciprocal(sum, 12);
///    out = RoundingDivideByPOT(SRDHM(recip, e), bitsOverUnit + 31 - 8) - 128,
///    clamped to [-128, 127].
///
/// Bounds: |diff| * 2^inputLeftShift <= 31 * 2^26 < 2^31 for every
/// diff >= diffMin (that is what diffMin guarantees), so the rescale never
/// wraps. Each e in Q12 is <= 2^19, so the Q12 sum is exact for depth < 4096;
/// TFLM rejects rows whose exponent leaves 0...31 (a sum >= 2^28, i.e.
/// hundreds of near-maximal logits): here the exponent is clamped to 31 and
/// the sum wraps like TFLM's int32 instead of trapping.
/// The kernel applies `multiplyByQuantizedMultiplier`, identical to the
/// GreaterThanOne form for every shift >= 0 (all valid parameters).
public func softmaxReference(
  params: SoftmaxParams, rows: Int, depth: Int,
  input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>
) {
  softmaxRows(rows: rows, depth: depth, input: input, output: output) { softmaxExp(-Int32($0), params) }
}

/// Integer bits of the sum of exponentials (Q12), as in TFLM.
let softmaxAccumulationBits: Int32 = 12

/// Step 3's e for one tap, diff = x − max (≤ 0): 0 below diffMin, which adds
/// nothing to the sum and outputs −128 (a product with 0 rounds to 0), as
/// TFLM's skipped tap does.
@inline(__always)
func softmaxExp(_ diff: Int32, _ params: SoftmaxParams) -> Int32 {
  guard diff >= params.diffMin else { return 0 }
  let scaled = multiplyByQuantizedMultiplier(diff, params.inputMultiplier, params.inputLeftShift)
  return expOnNegativeValues(scaled, integerBits: softmaxDiffIntegerBits)
}

/// The row loop both kernels share (steps 1, 3 and 4); `exp(k)` gives e for
/// the tap k = max − x below the row maximum (0...255).
@inline(__always)
func softmaxRows(
  rows: Int, depth: Int, input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>, _ exp: (Int) -> Int32
) {
  guard rows > 0, depth > 0 else { return }
  for r in 0..<rows {
    let row = input + r &* depth
    let out = output + r &* depth
    var maxInRow: Int32 = -128
    for c in 0..<depth where Int32(row[c]) > maxInRow { maxInRow = Int32(row[c]) }
    var sumOfExps: Int32 = 0
    for c in 0..<depth {
      sumOfExps = sumOfExps &+ roundingDivideByPOT(exp(Int(maxInRow &- Int32(row[c]))), softmaxAccumulationBits)
    }
    // GetReciprocal's reciprocal and the output's rounding shift (bits over
    // unit + 31 − 8, clamped to 0...31).
    let (reciprocal, numBitsOverUnit) = getReciprocal(sumOfExps, integerDigits: softmaxAccumulationBits)
    let e0 = numBitsOverUnit &+ 31 &- 8
    let exponent = e0 < 0 ? 0 : (e0 > 31 ? 31 : e0)
    for c in 0..<depth {
      let e = exp(Int(maxInRow &- Int32(row[c])))
      out[c] = saturatingInt8(roundingDivideByPOT(saturatingRoundingDoublingHighMul(reciprocal, e), exponent) &- 128)
    }
  }
}

/// The exponentials `softmaxReference` computes depend only on
/// k = max − x (0...255): entry k of this table is `softmaxExp(−k)`, so
/// `softmaxTable` gives the reference's bytes.
public let softmaxExpTableCount = 256

public func fillSoftmaxExpTable(params: SoftmaxParams, table: UnsafeMutablePointer<Int32>) {
  for k in 0..<softmaxExpTableCount { table[k] = softmaxExp(-Int32(k), params) }
}

/// `softmaxReference` with the exponentials read from `fillSoftmaxExpTable`'s
/// table: two table lookups per value instead of two fixed-point exps.
public func softmaxTable(
  table: UnsafePointer<Int32>, rows: Int, depth: Int,
  input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>
) {
  softmaxRows(rows: rows, depth: depth, input: input, output: output) { table[$0] }
}

// MARK: - Op unit

struct SoftmaxData {
  var params: SoftmaxParams
  /// The exponential table; nil on bare metal, where the model block is RAM
  /// and the 1 KiB table would cost more than the per-value exp.
  var table: UnsafePointer<Int32>?
  var rows: Int
  var depth: Int
}

#if CNNRT_BARE_METAL
let softmaxTableBytes = 0
#else
let softmaxTableBytes = softmaxExpTableCount * 4
#endif

/// SOFTMAX over the last dimension; output scale 1/256, zero point -128;
/// beta in the record's `extra` (f32 bits, 0 = 1).
enum SoftmaxOp: RuntimeOp {
  static let name: StaticString = "Softmax"
  static let arity = OpArity(inputs: 1...1)
  /// The exponential table (fillSoftmaxExpTable), except on bare metal.
  static func extraBytes(_ plan: inout OpPlanContext) -> Int { softmaxTableBytes }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> SoftmaxData {
    let input = try prepareFixedOutputActivation(&ctx)
    let beta: Float = ctx.rec.extra == 0 ? 1 : Float(bitPattern: ctx.rec.extra)
    if !(beta.isFinite && beta > 0) { throw ctx.fail(.badOp, "softmax beta must be finite and positive") }
    let params = prepareSoftmax(inputScale: input.scale, beta: beta)
    var table: UnsafePointer<Int32>? = nil
    if softmaxTableBytes > 0 {
      let t = try ctx.allocate(bytes: softmaxTableBytes).bindMemory(to: Int32.self, capacity: softmaxExpTableCount)
      fillSoftmaxExpTable(params: params, table: t)
      table = UnsafePointer(t)
    }
    return SoftmaxData(params: params, table: table, rows: input.count / input.dims.c, depth: input.dims.c)
  }

  static func eval(_ data: UnsafePointer<SoftmaxData>, _ ctx: OpEvalContext) {
    let d = data.pointee
    if let table = d.table {
      softmaxTable(table: table, rows: d.rows, depth: d.depth, input: ctx.input(0), output: ctx.output)
    } else {
      softmaxReference(params: d.params, rows: d.rows, depth: d.depth, input: ctx.input(0), output: ctx.output)
    }
  }
}

/// The checks of an activation whose int8 output quantization is fixed
/// (softmax, logistic): same shape, scale 1/256, zero point -128, no fused
/// activation. Returns the input.
func prepareFixedOutputActivation(_ ctx: inout OpPrepareContext) throws(LoadError) -> TensorInfo {
  let input = try ctx.activationInput(0)
  let output = ctx.output
  if input.dims != output.dims { throw ctx.fail(.shapeMismatch, "input and output shapes differ") }
  if output.scale != 1.0 / 256.0 || output.zeroPoint != -128 {
    throw ctx.fail(.badOp, "output quantization must be scale 1/256, zero point -128")
  }
  try ctx.requireNoActivation()
  return input
}
