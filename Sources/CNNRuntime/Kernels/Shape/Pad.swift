// Pad (TFLite PAD / PADV2, int8, H, W and C of an NHWC tensor) reference kernel:
// bit-exact with TFLM reference_ops::Pad / PadImageStyle for int8, which copy
// the input bytes and fill the border with one int8 value.

/// Int8 spatial padding parameters (checked at load).
public struct PadParams {
  /// Rows added above / below and columns added left / right; each >= 0.
  public var padTop: Int
  public var padLeft: Int
  public var padBottom: Int
  public var padRight: Int
  /// Channels added before / after each pixel's channels; each >= 0.
  public var padChannelsBefore: Int
  public var padChannelsAfter: Int
  /// The fill byte: the output zero point (PAD, i.e. real 0) or PADV2's
  /// constant value, already in the output's quantization.
  public var value: Int8

  public init(padTop: Int, padLeft: Int, padBottom: Int, padRight: Int,
              padChannelsBefore: Int = 0, padChannelsAfter: Int = 0, value: Int8) {
    self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
    self.padChannelsBefore = padChannelsBefore; self.padChannelsAfter = padChannelsAfter
    self.value = value
  }
}

/// Int8 NHWC padding of H, W and C. Input and output share quantization, so
/// the input bytes are copied unchanged.
///
/// - inputShape: [N, H, W, C]; outputShape: [N, H + top + bottom,
///   W + left + right, C + channelsBefore + channelsAfter].
/// - output[b, y, x, c] = input[b, y − top, x − left, c − channelsBefore]
///   inside the input, `value` elsewhere.
///
/// Inconsistent shapes (non-positive dims, batch mismatch, output not the
/// padded input size, negative pads) write nothing.
public func padReference(
  params: PadParams,
  inputShape: Dims4, input: UnsafePointer<Int8>,
  outputShape: Dims4, output: UnsafeMutablePointer<Int8>
) {
  let batches = inputShape.n, inH = inputShape.h, inW = inputShape.w, channels = inputShape.c
  let outH = outputShape.h, outW = outputShape.w, outC = outputShape.c
  let cBefore = params.padChannelsBefore, cAfter = params.padChannelsAfter
  guard batches > 0, inH > 0, inW > 0, channels > 0,
        params.padTop >= 0, params.padLeft >= 0, params.padBottom >= 0, params.padRight >= 0,
        cBefore >= 0, cAfter >= 0,
        outputShape.n == batches, outC == channels &+ cBefore &+ cAfter,
        outH == inH &+ params.padTop &+ params.padBottom,
        outW == inW &+ params.padLeft &+ params.padRight else { return }
  let outRow = outW &* outC
  let leftBytes = params.padLeft &* outC
  let rightBytes = params.padRight &* outC
  var dst = output
  var src = input
  for _ in 0..<batches {
    for y in 0..<outH {
      if y < params.padTop || y >= params.padTop &+ inH {
        dst.update(repeating: params.value, count: outRow)
      } else {
        dst.update(repeating: params.value, count: leftBytes)
        var px = dst + leftBytes
        if cBefore == 0 && cAfter == 0 {
          px.update(from: src, count: inW &* channels)
          src += inW &* channels
        } else {
          for _ in 0..<inW {
            px.update(repeating: params.value, count: cBefore)
            (px + cBefore).update(from: src, count: channels)
            (px + (cBefore &+ channels)).update(repeating: params.value, count: cAfter)
            px += outC
            src += channels
          }
        }
        (dst + (leftBytes &+ inW &* outC)).update(repeating: params.value, count: rightBytes)
      }
      dst += outRow
    }
  }
}
