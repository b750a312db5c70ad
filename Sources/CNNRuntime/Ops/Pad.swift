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
          copyBytes(px, src, inW &* channels)
          src += inW &* channels
        } else {
          for _ in 0..<inW {
            px.update(repeating: params.value, count: cBefore)
            copyBytes(px + cBefore, src, channels)
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

// MARK: - Op unit

/// PAD / PADV2 of H, W and C: pads in the record's padTop/padLeft/
/// padBottom/padRight (padding kind explicit), channel pads in filterH
/// (before) and filterW (after); fill value in `extra` (0 = the zero point,
/// `OpRecord.padConstantFlag | UInt8(v)` = the int8 v).
enum PadOp: RuntimeOp {
  static let name: StaticString = "Pad"
  static let arity = OpArity(inputs: 1...1)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> PadParams {
    let rec = ctx.rec
    let input = try ctx.activationInput(0, rank4: true)
    let output = ctx.output
    try ctx.requireRank4Output()
    try ctx.requireNoActivation()
    if ctx.padding != .explicit { throw ctx.fail(.badOp, "pad: padding kind must be explicit (2)") }
    let limit = Int32(truncatingIfNeeded: ModelFormat.maxDimension)
    if rec.padTop < 0 || rec.padLeft < 0 || rec.padBottom < 0 || rec.padRight < 0
      || rec.padTop > limit || rec.padLeft > limit || rec.padBottom > limit || rec.padRight > limit {
      throw ctx.fail(.badOp, "pad: pads must be 0 to 65536")
    }
    if rec.filterH < 0 || rec.filterW < 0 || rec.filterH > limit || rec.filterW > limit {
      throw ctx.fail(.badOp, "pad: channel pads must be 0 to 65536")
    }
    if output.dims.n != input.dims.n { throw ctx.fail(.shapeMismatch, "pad keeps the batch (only H, W and C can be padded)") }
    let top = Int(rec.padTop), left = Int(rec.padLeft), bottom = Int(rec.padBottom), right = Int(rec.padRight)
    let cBefore = Int(rec.filterH), cAfter = Int(rec.filterW)
    if output.dims.h != input.dims.h + top + bottom || output.dims.w != input.dims.w + left + right
      || output.dims.c != input.dims.c + cBefore + cAfter {
      throw ctx.fail(.shapeMismatch, "pad: output height/width/channels differ from input + pads")
    }
    if !sameQuantization(input, output) { throw ctx.fail(.badOp, "pad input and output quantization must be equal") }
    var value = Int8(truncatingIfNeeded: output.zeroPoint)
    if rec.extra != 0 {
      if rec.extra & ~UInt32(0x1FF) != 0 || rec.extra & OpRecord.padConstantFlag == 0 {
        throw ctx.fail(.badOp, "pad: extra must be 0 or 0x100 | an int8 fill value")
      }
      value = Int8(truncatingIfNeeded: rec.extra & 0xFF)
    }
    return PadParams(padTop: top, padLeft: left, padBottom: bottom, padRight: right,
                     padChannelsBefore: cBefore, padChannelsAfter: cAfter, value: value)
  }

  static func eval(_ data: UnsafePointer<PadParams>, _ ctx: OpEvalContext) {
    padReference(params: data.pointee, inputShape: ctx.inputDims(0), input: ctx.input(0),
                 outputShape: ctx.outputDims, output: ctx.output)
  }
}
