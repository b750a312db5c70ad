// Resize of H and W (TFLite RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR,
// int8 NHWC): bit-exact with TFLM's reference kernels
// (reference_ops::ResizeNearestNeighbor, reference_ops::ResizeBilinearInteger).
//
// Both map each output row y and column x to input coordinates that depend
// only on the sizes and the two options, so the maps are computed at load
// (one table entry per output row and per output column) and `eval` only
// gathers bytes (nearest) or blends four pixels with integer weights
// (bilinear).
//
// The output size comes from the constant int32 [2] size tensor (input 1),
// which must equal the output's H and W. Input and output share one
// quantization (TFLite's kernels copy or blend the int8 values as they are).
// On the AVX2 and AVX-512 paths the bilinear blend is the AVX2 kernel
// (_CNNKernelsAVX2/ResizeAVX2.swift), on both Arm paths the NEON one
// (_CNNKernelsNEON/ChannelOpsNEON.swift), the same bytes.

#if canImport(_CNNKernelsAVX2)
import _CNNKernelsAVX2
#endif
#if canImport(_CNNKernelsNEON)
import _CNNKernelsNEON
#endif

// MARK: - Nearest neighbor

/// TFLM `GetNearestNeighbor` for every output index along one axis:
/// scale = in / out (align_corners and out > 1: (in − 1) / (out − 1)), in
/// float; v = (index + offset) × scale with offset 0.5 when half_pixel_centers;
/// source = round-half-away(v) (align_corners) or floor(v), at most in − 1
/// (and at least 0 with half_pixel_centers).
///
/// Float arithmetic at load only (IEEE single, as TFLM's float expressions;
/// no libm, integers turned into floats by `exactFloat`). v is >= 0 and
/// below in + 1 <= 65537, so the conversions back to Int32 are exact.
/// - Requires 1 <= inSize, outSize <= 65536.
func prepareNearestNeighborIndices(inSize: Int, outSize: Int, alignCorners: Bool, halfPixelCenters: Bool,
                                   into table: UnsafeMutablePointer<Int32>) {
  let scale: Float = alignCorners && outSize > 1
    ? exactFloat(inSize - 1) / exactFloat(outSize - 1)
    : exactFloat(inSize) / exactFloat(outSize)
  let offset: Float = halfPixelCenters ? 0.5 : 0
  let last = Int32(truncatingIfNeeded: inSize - 1)
  var i = 0
  while i < outSize {
    let v = (exactFloat(i) + offset) * scale
    var source = alignCorners ? Int32(roundHalfAwayFromZero(v)) : Int32(v)   // v >= 0: truncation is floor
    if source > last { source = last }
    if halfPixelCenters && source < 0 { source = 0 }
    table[i] = source
    i += 1
  }
}

/// Float value of 0 <= n < 2^24, built from its bit pattern (exact). The
/// runtime avoids integer -> float conversions (Embedded Swift on 32-bit
/// targets cannot specialise them under -no-allocations).
@inline(__always)
func exactFloat(_ n: Int) -> Float {
  if n <= 0 { return 0 }
  let u = UInt32(truncatingIfNeeded: n) & 0xFF_FFFF
  let top = 31 &- countLeadingZeros(u)                       // 0 ... 23
  let mantissa = (u &<< UInt32(truncatingIfNeeded: 23 &- top)) & 0x7F_FFFF
  return Float(bitPattern: (UInt32(truncatingIfNeeded: 127 &+ top) &<< 23) | mantissa)
}

/// Int8 nearest-neighbor resize of an NHWC tensor: output pixel (b, y, x) is
/// input pixel (b, rows[y], cols[x]) (all C channels copied).
///
/// - rows: outputShape.h entries in 0 ..< inputShape.h; cols: outputShape.w
///   entries in 0 ..< inputShape.w (from `prepareNearestNeighborIndices`).
/// - Batch and channel counts must match; otherwise nothing is written.
public func resizeNearestNeighborReference(
  inputShape: Dims4, input: UnsafePointer<Int8>,
  rows: UnsafePointer<Int32>, cols: UnsafePointer<Int32>,
  outputShape: Dims4, output: UnsafeMutablePointer<Int8>
) {
  let channels = inputShape.c
  guard inputShape.n == outputShape.n, channels == outputShape.c, channels > 0 else { return }
  let inRow = inputShape.w &* channels
  let inBatch = inputShape.h &* inRow
  var dst = output
  for b in 0..<inputShape.n {
    let batch = input + b &* inBatch
    for y in 0..<outputShape.h {
      let row = batch + Int(rows[y]) &* inRow
      if channels == 1 {
        for x in 0..<outputShape.w { dst[x] = row[Int(cols[x])] }
        dst += outputShape.w
      } else {
        for x in 0..<outputShape.w {
          cnnrt_shim_memcpy(dst, row + Int(cols[x]) &* channels, channels)
          dst += channels
        }
      }
    }
  }
}

// MARK: - Bilinear

/// One output row or column of a bilinear resize: the two input indices it
/// blends and the weight of the second, in 1/1024 units.
public struct BilinearTap {
  /// Lower input index (TFLM y0 / x0), 0 ... in − 1.
  public var lower: Int32
  /// Upper input index (y1 / x1), lower ... in − 1.
  public var upper: Int32
  /// input coordinate × 1024 − 1024 × lower: the upper index's weight
  /// (the lower's is 1024 − fraction); −512 ... 1023.
  public var fraction: Int32
}

/// TFLM `ResizeBilinearInteger` coordinates along one axis, for every output
/// index i:
///   scale = (1024 × in + out / 2) / out  (align_corners and out > 1:
///           (1024 × (in − 1) + (out − 1) / 2) / (out − 1)), C integer division;
///   v = i × scale + scale / 2 − 512 (half_pixel_centers) or i × scale;
///   lower = max(v / 1024, 0) (C division, toward zero), upper =
///   min((v + 1023) / 1024, in − 1), fraction = v − 1024 × lower.
///
/// Returns false when some lower index exceeds in − 1: TFLM then reads past
/// the input (the 10-bit scale rounds up for upscales above ~2^5 × in), a
/// model the loader refuses. Int32 is enough: in, out <= 65536 give
/// scale <= 2^26 and i × scale <= 1024 × in + out / 2.
func prepareBilinearTaps(inSize: Int, outSize: Int, alignCorners: Bool, halfPixelCenters: Bool,
                         into table: UnsafeMutablePointer<BilinearTap>) -> Bool {
  let input = Int32(truncatingIfNeeded: inSize), output = Int32(truncatingIfNeeded: outSize)
  var scale = ((1 << 10) &* input &+ output / 2) / output
  if alignCorners && output > 1 {
    scale = ((1 << 10) &* (input &- 1) &+ (output &- 1) / 2) / (output &- 1)
  }
  var i: Int32 = 0
  while i < output {
    let v = halfPixelCenters ? i &* scale &+ scale / 2 &- (1 << 9) : i &* scale
    var lower = v / (1 << 10)
    if lower < 0 { lower = 0 }
    var upper = (v &+ (1 << 10) &- 1) / (1 << 10)
    if upper > input &- 1 { upper = input &- 1 }
    if lower > input &- 1 { return false }
    table[Int(i)] = BilinearTap(lower: lower, upper: upper, fraction: v &- (1 << 10) &* lower)
    i &+= 1
  }
  return true
}

/// Whether TFLM's integer bilinear coordinates stay inside the input for a
/// resize of `inSize` to `outSize` (the check `prepareBilinearTaps` makes,
/// for writers): the lower index grows with the output index, so the last
/// one decides. Sizes outside 1 ... 65536 give false.
public func resizeBilinearFits(inSize: Int, outSize: Int, alignCorners: Bool, halfPixelCenters: Bool) -> Bool {
  guard inSize >= 1, outSize >= 1, inSize <= ModelFormat.maxDimension, outSize <= ModelFormat.maxDimension else { return false }
  let input = Int32(truncatingIfNeeded: inSize), output = Int32(truncatingIfNeeded: outSize)
  var scale = ((1 << 10) &* input &+ output / 2) / output
  if alignCorners && output > 1 {
    scale = ((1 << 10) &* (input &- 1) &+ (output &- 1) / 2) / (output &- 1)
  }
  let i = output &- 1
  let v = halfPixelCenters ? i &* scale &+ scale / 2 &- (1 << 9) : i &* scale
  return v / (1 << 10) <= input &- 1
}

/// Int8 bilinear resize of an NHWC tensor, TFLM's integer path (built with
/// its default double rounding): for output (b, y, x, c) with row tap
/// (y0, y1, fy) and column tap (x0, x1, fx),
///   s = p(y0,x0)·(1024 − fy)·(1024 − fx) + p(y1,x0)·fy·(1024 − fx)
///     + p(y0,x1)·(1024 − fy)·fx + p(y1,x1)·fy·fx
///   out = (s + (s > 0 ? 2^19 : −2^19)) / 2^20   (C division: ties away from zero)
/// cast to int8 (wrapping, as TFLM's static_cast; the blend stays in range).
///
/// Int32 bounds (TFLM uses int64): each weight is in −512 ... 1536 (a
/// negative fraction only when lower = upper), so each product is at most
/// 128 × 1536² < 3.1 × 10^8 and the sum of four below 1.3 × 10^9 < 2^31.
///
/// - rows: outputShape.h taps, cols: outputShape.w taps (`prepareBilinearTaps`).
/// - Batch and channel counts must match; otherwise nothing is written.
public func resizeBilinearReference(
  inputShape: Dims4, input: UnsafePointer<Int8>,
  rows: UnsafePointer<BilinearTap>, cols: UnsafePointer<BilinearTap>,
  outputShape: Dims4, output: UnsafeMutablePointer<Int8>
) {
  let channels = inputShape.c
  guard inputShape.n == outputShape.n, channels == outputShape.c, channels > 0 else { return }
  let inRow = inputShape.w &* channels
  let inBatch = inputShape.h &* inRow
  var dst = output
  for b in 0..<inputShape.n {
    let batch = input + b &* inBatch
    for y in 0..<outputShape.h {
      let ry = rows[y]
      let row0 = batch + Int(ry.lower) &* inRow
      let row1 = batch + Int(ry.upper) &* inRow
      let wy1 = ry.fraction, wy0 = (1 << 10) &- ry.fraction
      for x in 0..<outputShape.w {
        let cx = cols[x]
        let wx1 = cx.fraction, wx0 = (1 << 10) &- cx.fraction
        let w00 = wy0 &* wx0, w10 = wy1 &* wx0, w01 = wy0 &* wx1, w11 = wy1 &* wx1
        let p00 = row0 + Int(cx.lower) &* channels, p01 = row0 + Int(cx.upper) &* channels
        let p10 = row1 + Int(cx.lower) &* channels, p11 = row1 + Int(cx.upper) &* channels
        for c in 0..<channels {
          let s = Int32(p00[c]) &* w00 &+ Int32(p10[c]) &* w10 &+ Int32(p01[c]) &* w01 &+ Int32(p11[c]) &* w11
          let rounded = (s &+ (s > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20)
          dst[c] = Int8(truncatingIfNeeded: rounded)
        }
        dst += channels
      }
    }
  }
}

// MARK: - Op units

/// The checks both resize ops share: input [N,H,W,C], constant int32 [2]
/// size equal to the output's H and W, output [N, size, C] with the input's
/// quantization, no fused activation, `extra` only the two option bits.
/// Returns (input, output, alignCorners, halfPixelCenters).
private func prepareResize(_ ctx: inout OpPrepareContext) throws(LoadError)
  -> (input: TensorInfo, output: TensorInfo, alignCorners: Bool, halfPixelCenters: Bool) {
  let input = try ctx.activationInput(0, rank4: true)
  let output = ctx.output
  try ctx.requireRank4Output()
  try ctx.requireNoActivation()
  let sizeIndex = ctx.inputIndex(1)
  if sizeIndex == ModelFormat.noTensor { throw ctx.fail(.badOp, "resize: missing size tensor (input 1)") }
  let size = ctx.tensor(Int(sizeIndex))
  guard let sizeData = size.constData, size.type == .int32, size.rank == 1, size.count == 2 else {
    throw ctx.fail(.badOp, tensor: Int(sizeIndex), "resize: size (input 1) must be a constant int32 [2] tensor")
  }
  let h = readLE(sizeData, 0, as: Int32.self), w = readLE(sizeData, 4, as: Int32.self)
  if h < 1 || w < 1 { throw ctx.fail(.badOp, tensor: Int(sizeIndex), "resize: size values must be positive") }
  let o = output.dims
  if Int(h) != o.h || Int(w) != o.w {
    throw ctx.fail(.shapeMismatch, tensor: Int(sizeIndex), "resize: size values must equal the output height and width")
  }
  if o.n != input.dims.n || o.c != input.dims.c {
    throw ctx.fail(.shapeMismatch, "resize: output batch and channels must equal the input's")
  }
  if !sameQuantization(input, output) { throw ctx.fail(.badOp, "resize input and output quantization must be equal") }
  let extra = ctx.rec.extra
  if extra & ~(OpRecord.resizeAlignCorners | OpRecord.resizeHalfPixelCenters) != 0 {
    throw ctx.fail(.badOp, "resize: extra must hold only align_corners (bit 0) and half_pixel_centers (bit 1)")
  }
  return (input, output, extra & OpRecord.resizeAlignCorners != 0, extra & OpRecord.resizeHalfPixelCenters != 0)
}

/// Output H and W of a resize from its output record (pass 1; records only).
private func resizeOutputSize(_ plan: OpPlanContext) -> (h: Int, w: Int) {
  let r = plan.outputRecord
  return r.rank == 4 ? (Int(r.dim(1)), Int(r.dim(2))) : (0, 0)
}

/// Prepared nearest-neighbor resize: the source row of each output row and
/// the source column of each output column.
struct ResizeNearestNeighborData {
  var rows: UnsafePointer<Int32>
  var cols: UnsafePointer<Int32>
}

/// RESIZE_NEAREST_NEIGHBOR of H and W; align_corners and half_pixel_centers
/// in `extra` (both may be set, as TFLM allows).
enum ResizeNearestNeighborOp: RuntimeOp {
  static let name: StaticString = "ResizeNearestNeighbor"
  static let arity = OpArity(inputs: 2...2)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int {
    let (h, w) = resizeOutputSize(plan)
    return alignUp(4 * h, 16) + alignUp(4 * w, 16)
  }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ResizeNearestNeighborData {
    let (input, output, align, half) = try prepareResize(&ctx)
    let rows = try ctx.allocate(bytes: 4 * output.dims.h).bindMemory(to: Int32.self, capacity: output.dims.h)
    let cols = try ctx.allocate(bytes: 4 * output.dims.w).bindMemory(to: Int32.self, capacity: output.dims.w)
    prepareNearestNeighborIndices(inSize: input.dims.h, outSize: output.dims.h, alignCorners: align,
                                  halfPixelCenters: half, into: rows)
    prepareNearestNeighborIndices(inSize: input.dims.w, outSize: output.dims.w, alignCorners: align,
                                  halfPixelCenters: half, into: cols)
    return ResizeNearestNeighborData(rows: UnsafePointer(rows), cols: UnsafePointer(cols))
  }

  static func eval(_ data: UnsafePointer<ResizeNearestNeighborData>, _ ctx: OpEvalContext) {
    resizeNearestNeighborReference(inputShape: ctx.inputDims(0), input: ctx.input(0),
                                   rows: data.pointee.rows, cols: data.pointee.cols,
                                   outputShape: ctx.outputDims, output: ctx.output)
  }
}

/// Prepared bilinear resize: one tap per output row and per output column.
struct ResizeBilinearData {
  var rows: UnsafePointer<BilinearTap>
  var cols: UnsafePointer<BilinearTap>
  var isa: Int32
}

/// Bilinear resize on kernel path `isa`: the AVX2 kernel (ResizeAVX2.swift,
/// also on the AVX-512 path), the NEON one (both Arm paths) or the
/// reference. The caller guarantees the CPU supports `isa`.
public func resizeBilinear(isa: Int32, inputShape: Dims4, input: UnsafePointer<Int8>,
                           rows: UnsafePointer<BilinearTap>, cols: UnsafePointer<BilinearTap>,
                           outputShape: Dims4, output: UnsafeMutablePointer<Int8>) {
  // The kernels read each tap table as three Int32 per entry.
  @inline(__always) func asInt32(_ body: (UnsafePointer<Int32>, UnsafePointer<Int32>) -> Void) {
    UnsafeRawPointer(rows).withMemoryRebound(to: Int32.self, capacity: 3 * outputShape.h) { r in
      UnsafeRawPointer(cols).withMemoryRebound(to: Int32.self, capacity: 3 * outputShape.w) { c in body(r, c) }
    }
  }
  let fits = MemoryLayout<BilinearTap>.stride == 12 && inputShape.n == outputShape.n && inputShape.c == outputShape.c
  #if canImport(_CNNKernelsNEON) && arch(arm64)
  if isArmISA(isa) && fits {
    asInt32 { r, c in
      cnnrtResizeBilinearArm(input, inputShape.n, inputShape.h, inputShape.w, inputShape.c, r, c,
                             outputShape.h, outputShape.w, output)
    }
    return
  }
  #endif
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if (isa == KernelISA.avx2 || isa == KernelISA.avx512) && fits {
    asInt32 { r, c in
      cnnrtResizeBilinearAVX2(input, inputShape.n, inputShape.h, inputShape.w, inputShape.c, r, c,
                              outputShape.h, outputShape.w, output)
    }
    return
  }
  #endif
  resizeBilinearReference(inputShape: inputShape, input: input, rows: rows, cols: cols,
                          outputShape: outputShape, output: output)
}

/// RESIZE_BILINEAR of H and W; align_corners and half_pixel_centers in
/// `extra`, not both (TFLM refuses that combination).
enum ResizeBilinearOp: RuntimeOp {
  static let name: StaticString = "ResizeBilinear"
  static let arity = OpArity(inputs: 2...2)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int {
    let (h, w) = resizeOutputSize(plan)
    let tap = MemoryLayout<BilinearTap>.stride
    return alignUp(tap * h, 16) + alignUp(tap * w, 16)
  }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ResizeBilinearData {
    let (input, output, align, half) = try prepareResize(&ctx)
    if align && half { throw ctx.fail(.badOp, "resize bilinear: align_corners and half_pixel_centers cannot both be set") }
    let tap = MemoryLayout<BilinearTap>.stride
    let rows = try ctx.allocate(bytes: tap * output.dims.h).bindMemory(to: BilinearTap.self, capacity: output.dims.h)
    let cols = try ctx.allocate(bytes: tap * output.dims.w).bindMemory(to: BilinearTap.self, capacity: output.dims.w)
    if !prepareBilinearTaps(inSize: input.dims.h, outSize: output.dims.h, alignCorners: align,
                            halfPixelCenters: half, into: rows)
      || !prepareBilinearTaps(inSize: input.dims.w, outSize: output.dims.w, alignCorners: align,
                              halfPixelCenters: half, into: cols) {
      throw ctx.fail(.badOp, "resize bilinear: upscale too large for TFLM's 10-bit coordinate scale (it would read past the input)")
    }
    return ResizeBilinearData(rows: UnsafePointer(rows), cols: UnsafePointer(cols), isa: ctx.isa)
  }

  static func eval(_ data: UnsafePointer<ResizeBilinearData>, _ ctx: OpEvalContext) {
    resizeBilinear(isa: data.pointee.isa, inputShape: ctx.inputDims(0), input: ctx.input(0),
                   rows: data.pointee.rows, cols: data.pointee.cols, outputShape: ctx.outputDims, output: ctx.output)
  }
}
