// uint8 image → int8 model input, integer-only, written straight into the
// input tensor (no scratch).
//
// 1. Geometry: when the image size differs from the model input, each
//    output pixel is computed from the source — a box average over the
//    covered source rectangle when shrinking, bilinear interpolation with
//    8-bit fractional weights when enlarging (per axis).
// 2. Channels: image channels 1 (gray), 3 (RGB) or 4 (RGBA, alpha ignored)
//    feed model inputs with 1 channel (gray; RGB → luma with weights
//    77/150/29 per 256) or 3 channels (gray is replicated; BGR models get
//    their channels swapped).
// 3. Values: each uint8 goes through the per-channel table built at context
//    creation from the model's preprocessing metadata.

/// Image as the caller gives it.
struct ImageView {
  var pixels: UnsafePointer<UInt8>
  var width: Int
  var height: Int
  var channels: Int
  var rowStride: Int
}

/// Largest number of bytes an image given to cnn_classify() may span, from
/// its first pixel to the end of its last row (2^48 = 256 TiB: more than any
/// 64-bit CPU's user address space today). With every byte offset below this
/// bound, the resampling arithmetic (offsets, box sums of at most
/// 2^48 × 255 < 2^56) cannot overflow `Int`. On 32-bit targets (Cortex-M)
/// the bound is 2^23 = 8 MiB, for the same reason (2^23 × 255 < 2^31); there
/// `1 << 48` would be 0 and refuse every image.
#if _pointerBitWidth(_32)
let maxImageSpan = 1 << 23
#else
let maxImageSpan = 1 << 48
#endif

/// Bytes an image occupies from its first pixel to the end of its last row,
/// (height − 1) × rowStride + width × channels, computed without overflow:
/// nil when a dimension is not positive, the stride is shorter than a row,
/// the span exceeds `maxImageSpan`, or `base` + span would pass the end of
/// the address space. `rowStride` 0 means rows are packed.
func imageSpan(base: UInt, width: Int, height: Int, channels: Int, rowStride: UInt) -> (span: Int, stride: Int)? {
  if width <= 0 || height <= 0 || channels <= 0 { return nil }
  let (row, o1) = width.multipliedReportingOverflow(by: channels)
  if o1 || row > maxImageSpan { return nil }
  if rowStride > UInt(maxImageSpan) { return nil }
  let stride = rowStride == 0 ? row : Int(rowStride)
  if stride < row { return nil }
  let (rows, o2) = (height - 1).multipliedReportingOverflow(by: stride)
  if o2 { return nil }
  let (span, o3) = rows.addingReportingOverflow(row)
  if o3 || span > maxImageSpan { return nil }
  let (_, o4) = base.addingReportingOverflow(UInt(span))
  if o4 { return nil }
  return (span, stride)
}

/// Checks that `image` can feed a model input with `modelChannels` channels.
func imageCompatible(channels: Int, modelChannels: Int) -> Bool {
  (channels == 1 || channels == 3 || channels == 4) && (modelChannels == 1 || modelChannels == 3)
}

/// Calls `body(pixelIndex, rgb)` for every output pixel of `image` resampled
/// to outW × outH, rows top to bottom (gray images give three equal values).
@inline(__always)
func forEachResampledPixel(_ image: ImageView, outW: Int, outH: Int, _ body: (Int, (Int, Int, Int)) -> Void) {
  var y = 0
  while y < outH {
    var x = 0
    while x < outW {
      var rgb: (Int, Int, Int) = (0, 0, 0)
      samplePixel(image, x: x, y: y, outW: outW, outH: outH, into: &rgb)
      body(y * outW + x, rgb)
      x += 1
    }
    y += 1
  }
}

/// Gray value of an RGB pixel (ITU-R BT.601 weights, 8-bit fixed point);
/// gray images pass their single channel through.
@inline(__always)
func grayValue(_ rgb: (Int, Int, Int), sourceChannels: Int) -> Int {
  sourceChannels == 1 ? rgb.0 : (77 * rgb.0 + 150 * rgb.1 + 29 * rgb.2 + 128) >> 8
}

/// Fills the int8 input tensor (dims h×w×c, batch 1) from `image`.
func fillInput(from image: ImageView, into dst: UnsafeMutablePointer<Int8>, dims: Dims4,
               lut: UnsafePointer<Int8>, swapRB: Bool) {
  let oc = dims.c
  forEachResampledPixel(image, outW: dims.w, outH: dims.h) { p, rgb in
    let base = p * oc
    if oc == 1 {
      dst[base] = lut[grayValue(rgb, sourceChannels: image.channels)]
    } else {
      let r = swapRB ? rgb.2 : rgb.0, b = swapRB ? rgb.0 : rgb.2
      dst[base] = lut[r]
      dst[base + 1] = lut[256 + rgb.1]
      dst[base + 2] = lut[512 + b]
    }
  }
}

/// Source value of channel `ch` at (sx, sy), gray images replicated.
@inline(__always)
func sourceValue(_ img: ImageView, _ sx: Int, _ sy: Int, _ ch: Int) -> Int {
  let c = img.channels == 1 ? 0 : ch
  return Int(img.pixels[sy * img.rowStride + sx * img.channels + c])
}

/// Resampled RGB value for output pixel (x, y); gray images give three equal values.
@inline(__always)
func samplePixel(_ img: ImageView, x: Int, y: Int, outW: Int, outH: Int, into rgb: inout (Int, Int, Int)) {
  let nch = img.channels == 1 ? 1 : 3
  if img.width == outW && img.height == outH {
    rgb.0 = sourceValue(img, x, y, 0)
    if nch == 3 { rgb.1 = sourceValue(img, x, y, 1); rgb.2 = sourceValue(img, x, y, 2) } else { rgb.1 = rgb.0; rgb.2 = rgb.0 }
    return
  }
  let (x0, x1, wx0, wx1) = axisTaps(x, out: outW, src: img.width)
  let (y0, y1, wy0, wy1) = axisTaps(y, out: outH, src: img.height)
  // Box filter when shrinking (weights 1 over [x0, x1]), bilinear when enlarging.
  let shrinkX = img.width > outW, shrinkY = img.height > outH
  var ch = 0
  while ch < nch {
    var acc = 0, weight = 0
    var sy = y0
    while sy <= y1 {
      let wy = shrinkY ? 1 : (sy == y0 ? wy0 : wy1)
      var sx = x0
      while sx <= x1 {
        let wx = shrinkX ? 1 : (sx == x0 ? wx0 : wx1)
        acc += sourceValue(img, sx, sy, ch) * wx * wy
        weight += wx * wy
        sx += 1
      }
      sy += 1
    }
    let v = weight > 0 ? (acc + weight / 2) / weight : 0
    switch ch {
    case 0: rgb.0 = v
    case 1: rgb.1 = v
    default: rgb.2 = v
    }
    ch += 1
  }
  if nch == 1 { rgb.1 = rgb.0; rgb.2 = rgb.0 }
}

/// Source taps along one axis for output index `o`: shrinking gives the
/// covered range [first, last] (weights unused); enlarging gives the two
/// neighbours and their weights out of 256 (they sum to 256).
@inline(__always)
func axisTaps(_ o: Int, out: Int, src: Int) -> (Int, Int, Int, Int) {
  if src == out { return (o, o, 256, 0) }
  if src > out {
    let first = o * src / out
    let last = max(first, ((o + 1) * src + out - 1) / out - 1)
    return (first, min(last, src - 1), 1, 1)
  }
  // Centre-aligned position in 1/256 source pixels.
  var pos = ((2 * o + 1) * src * 256) / (2 * out) - 128
  if pos < 0 { pos = 0 }
  if pos > (src - 1) * 256 { pos = (src - 1) * 256 }
  let i0 = pos >> 8, f = pos & 255
  let i1 = min(i0 + 1, src - 1)
  if i1 == i0 { return (i0, i0, 256, 0) }
  return (i0, i1, 256 - f, f)
}

/// Resamples an 8-bit image (1, 3 or 4 channels, rows packed) to
/// `outWidth` × `outHeight` with `outChannels` (1 or 3) channels, exactly as
/// cnn_classify() does before its pixel table lookup (same taps, same gray
/// conversion; no channel swap). For Swift tools that feed the same pixels
/// to a float reference model.
public func resampleImageForModel(pixels: UnsafePointer<UInt8>, width: Int, height: Int, channels: Int,
                                  into out: UnsafeMutablePointer<UInt8>, outWidth: Int, outHeight: Int,
                                  outChannels: Int) {
  let image = ImageView(pixels: pixels, width: width, height: height, channels: channels, rowStride: width * channels)
  forEachResampledPixel(image, outW: outWidth, outH: outHeight) { p, rgb in
    let base = p * outChannels
    if outChannels == 1 {
      out[base] = UInt8(truncatingIfNeeded: grayValue(rgb, sourceChannels: channels))
    } else {
      out[base] = UInt8(truncatingIfNeeded: rgb.0)
      out[base + 1] = UInt8(truncatingIfNeeded: rgb.1)
      out[base + 2] = UInt8(truncatingIfNeeded: rgb.2)
    }
  }
}
