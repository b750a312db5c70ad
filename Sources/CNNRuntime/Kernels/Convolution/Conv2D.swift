// Conv2D int8 reference kernel: the oracle every optimised convolution is
// tested against. Arithmetic is that of TFLM
// reference_integer_ops::ConvPerChannel (bit-exact), including grouped
// convolution.

/// Int8 2-D convolution, NHWC input and output, OHWI filter, per-channel
/// requantization.
///
/// - inputShape: [N, H, W, Cin].
/// - filterShape: [Cout, KH, KW, Cin / groups] (n = output channels,
///   c = input channels per group).
/// - outputShape: [N, OH, OW, Cout]; OH/OW are taken as given (the loader
///   derives them from padding and strides).
/// - Groups: groups = Cin / filterShape.c; output channel oc belongs to group
///   oc / (Cout / groups) and reads input channels
///   [group * filterShape.c, (group + 1) * filterShape.c).
/// - Taps: input row oy * strideH - padTop + ky * dilationH (same for
///   columns); taps outside the input are skipped, i.e. they contribute the
///   zero point (0 after the offset), as TFLM's SAME/explicit padding.
/// - bias: Cout Int32 values (scale input_scale * filter_scale[oc]) or nil.
/// - requant: Cout multipliers and shifts.
///
/// acc = sum(filter * (input + inputOffset)) + bias, then
/// `requantizeToInt8` (MultiplyByQuantizedMultiplier, + outputOffset, clamp).
///
/// Int32 accumulation bound: with int8 filters and |input + inputOffset| <=
/// 255 (zero point in -128...127), each product is at most 128 * 255 = 32,640
/// in magnitude, so the sum of K = KH * KW * Cin/groups products plus a bias
/// with |bias| <= 2^30 is exact for K <= 32,896. Beyond that the int32 sum
/// wraps modulo 2^32 exactly as TFLM's int32 accumulator does on every
/// two's-complement target (wrapping addition is associative, so the order of
/// the terms does not change the result).
///
/// Invalid shapes (non-positive dims, Cin not a multiple of filterShape.c,
/// Cout not a multiple of the group count, batch mismatch) write nothing:
/// the loader rejects them first; the kernel only refuses to trap.
public func conv2DReference(
  params: ConvParams, requant: ChannelRequant,
  inputShape: Dims4, input: UnsafePointer<Int8>,
  filterShape: Dims4, filter: UnsafePointer<Int8>,
  bias: UnsafePointer<Int32>?,
  outputShape: Dims4, output: UnsafeMutablePointer<Int8>
) {
  let batches = inputShape.n
  let inH = inputShape.h, inW = inputShape.w, inC = inputShape.c
  let outH = outputShape.h, outW = outputShape.w, outC = outputShape.c
  let kH = filterShape.h, kW = filterShape.w, groupInC = filterShape.c
  guard batches > 0, inH > 0, inW > 0, inC > 0, outH > 0, outW > 0, outC > 0,
        kH > 0, kW > 0, groupInC > 0, outputShape.n == batches, filterShape.n == outC,
        inC % groupInC == 0 else { return }
  let groups = inC / groupInC
  guard outC % groups == 0 else { return }
  let filtersPerGroup = outC / groups

  let inputOffset = params.inputOffset
  let strideH = params.strideH, strideW = params.strideW
  let dilationH = params.dilationH, dilationW = params.dilationW

  var outIndex = 0
  for b in 0..<batches {
    for oy in 0..<outH {
      let inYOrigin = oy &* strideH &- params.padTop
      for ox in 0..<outW {
        let inXOrigin = ox &* strideW &- params.padLeft
        for oc in 0..<outC {
          let group = oc / filtersPerGroup
          let inChannelBase = group &* groupInC
          var acc: Int32 = 0
          for ky in 0..<kH {
            let iy = inYOrigin &+ ky &* dilationH
            if iy < 0 || iy >= inH { continue }
            for kx in 0..<kW {
              let ix = inXOrigin &+ kx &* dilationW
              if ix < 0 || ix >= inW { continue }
              let inBase = ((b &* inH &+ iy) &* inW &+ ix) &* inC &+ inChannelBase
              let filterBase = ((oc &* kH &+ ky) &* kW &+ kx) &* groupInC
              for ic in 0..<groupInC {
                let x = Int32(input[inBase &+ ic]) &+ inputOffset
                let w = Int32(filter[filterBase &+ ic])
                acc = acc &+ w &* x
              }
            }
          }
          if let bias { acc = acc &+ bias[oc] }
          output[outIndex] = requantizeToInt8(
            acc, multiplier: requant.multiplier[oc], shift: requant.shift[oc],
            outputOffset: params.outputOffset,
            activationMin: params.activationMin, activationMax: params.activationMax)
          outIndex &+= 1
        }
      }
    }
  }
}
