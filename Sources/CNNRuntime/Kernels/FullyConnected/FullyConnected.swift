// FullyConnected int8 reference kernel: bit-exact with TFLM
// reference_integer_ops::FullyConnected (per-tensor, with weights offset) and
// FullyConnectedPerChannel (filterOffset 0).

/// Int8 fully connected layer.
///
/// - input: [batches, depth] (any tensor flattened, row-major).
/// - filter: [units, depth], row-major.
/// - bias: `units` Int32 values or nil.
/// - requant: `units` multipliers and shifts (per-tensor = all equal).
/// - output: [batches, units].
///
/// acc = sum((filter + filterOffset) * (input + inputOffset)) + bias, then
/// `requantizeToInt8`. filterOffset is -filter_zero_point (0 for symmetric
/// weights, which makes this FullyConnectedPerChannel).
///
/// Int32 accumulation bound: |filter + filterOffset| <= 255 and
/// |input + inputOffset| <= 255, so each product is at most 65,025 and the
/// sum over `depth` terms plus a bias with |bias| <= 2^30 is exact for
/// depth <= 16,512 (for symmetric weights, |product| <= 32,640 and
/// depth <= 32,896). Beyond that it wraps like TFLM's int32 accumulator.
///
/// Non-positive sizes write nothing.
public func fullyConnectedReference(
  params: FullyConnectedParams, requant: ChannelRequant,
  batches: Int, depth: Int, units: Int,
  input: UnsafePointer<Int8>, filter: UnsafePointer<Int8>,
  bias: UnsafePointer<Int32>?,
  output: UnsafeMutablePointer<Int8>
) {
  guard batches > 0, depth > 0, units > 0 else { return }
  let inputOffset = params.inputOffset
  let filterOffset = params.filterOffset
  for b in 0..<batches {
    let row = input + b &* depth
    for u in 0..<units {
      let weights = filter + u &* depth
      var acc: Int32 = 0
      for d in 0..<depth {
        let x = Int32(row[d]) &+ inputOffset
        let w = Int32(weights[d]) &+ filterOffset
        acc = acc &+ w &* x
      }
      if let bias { acc = acc &+ bias[u] }
      output[b &* units &+ u] = requantizeToInt8(
        acc, multiplier: requant.multiplier[u], shift: requant.shift[u],
        outputOffset: params.outputOffset,
        activationMin: params.activationMin, activationMax: params.activationMax)
    }
  }
}
