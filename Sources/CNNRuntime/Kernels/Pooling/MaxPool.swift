// MaxPool2D int8 reference kernel: bit-exact with TFLM
// reference_integer_ops::MaxPool.

/// Int8 2-D max pooling, NHWC; input and output share quantization.
///
/// - inputShape: [N, H, W, C]; outputShape: [N, OH, OW, C].
/// - Window of output (oy, ox): input rows oy * strideH - padTop + [0, filterH),
///   columns likewise, clipped to the input (padding taps are ignored, never
///   read as a value).
/// - out = min(max(max over the window, activationMin), activationMax). An
///   empty window (impossible with valid padding) yields -128 before the
///   clamp, as in TFLM.
///
/// Invalid shapes (non-positive dims, channel or batch mismatch) write nothing.
public func maxPool2DReference(
  params: PoolParams,
  inputShape: Dims4, input: UnsafePointer<Int8>,
  outputShape: Dims4, output: UnsafeMutablePointer<Int8>
) {
  let batches = inputShape.n
  let inH = inputShape.h, inW = inputShape.w, channels = inputShape.c
  let outH = outputShape.h, outW = outputShape.w
  guard batches > 0, inH > 0, inW > 0, channels > 0, outH > 0, outW > 0,
        outputShape.n == batches, outputShape.c == channels,
        params.filterH > 0, params.filterW > 0 else { return }

  for b in 0..<batches {
    for oy in 0..<outH {
      let inYOrigin = oy &* params.strideH &- params.padTop
      let fyStart = max(0, 0 &- inYOrigin)
      let fyEnd = max(fyStart, min(params.filterH, inH &- inYOrigin))
      for ox in 0..<outW {
        let inXOrigin = ox &* params.strideW &- params.padLeft
        let fxStart = max(0, 0 &- inXOrigin)
        let fxEnd = max(fxStart, min(params.filterW, inW &- inXOrigin))
        let outBase = ((b &* outH &+ oy) &* outW &+ ox) &* channels
        for c in 0..<channels {
          var maxValue: Int32 = -128
          for fy in fyStart..<fyEnd {
            let rowBase = (b &* inH &+ inYOrigin &+ fy) &* inW
            for fx in fxStart..<fxEnd {
              let v = Int32(input[(rowBase &+ inXOrigin &+ fx) &* channels &+ c])
              if v > maxValue { maxValue = v }
            }
          }
          maxValue = maxValue < params.activationMin ? params.activationMin : maxValue
          maxValue = maxValue > params.activationMax ? params.activationMax : maxValue
          output[outBase &+ c] = Int8(truncatingIfNeeded: maxValue)
        }
      }
    }
  }
}
