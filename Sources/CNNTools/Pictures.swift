// Pictures of a model for `cnnrt visualize`: the first convolution's filters
// and the feature maps of a layer, as tile grids (RGB rasters), plus PNG
// writing (libpng, _CNNImageCodecs).
//
// Layout: n tiles of w × h values in a grid of ceil(sqrt(n)) columns; each
// value is a zoom × zoom block with zoom = max(1, 48 / max(w, h)) (so a 3 × 3
// filter becomes 48 × 48 pixels and a 28 × 28 map stays 28 × 28); tiles are
// separated and framed by `gap` pixels of `gapColour`. A grid of n tiles is
// cols × (w·zoom) + (cols + 1) × gap pixels wide, likewise in height.
//
// Colour scales:
// - filters: dequantized weights (q × the filter's scale), scaled per
//   filter by m = its largest |weight|: 128 + 127 × w / m in each channel, so
//   0 is mid-gray, +m white (or full colour), −m black. Filters with three
//   input channels are one colour tile (RGB, in the model's channel order
//   turned to RGB); otherwise each input channel is a gray tile (one row of
//   tiles per filter when there are several input channels).
// - feature maps: dequantized values ((q − zero point) × scale), one scale
//   for all maps of a layer, M = the layer's largest |value| for this image:
//   v ≥ 0 is gray 255 × v / M (0 black, M white), v < 0 is blue
//   (0, 0, 255 × |v| / M). An all-zero layer is black.
import _CNNImageCodecs
import Foundation

public enum Pictures {
  public static let gap = 2
  public static let gapColour: (UInt8, UInt8, UInt8) = (0, 64, 96)
  /// Target tile size in pixels for small tiles.
  public static let tileTarget = 48

  public static func zoom(width: Int, height: Int) -> Int { max(1, tileTarget / max(width, height)) }

  /// Pixel size of a grid of `count` tiles of `width` × `height` values in `columns` columns.
  public static func gridSize(count: Int, columns: Int, width: Int, height: Int) -> (width: Int, height: Int) {
    let z = zoom(width: width, height: height)
    let rows = (count + columns - 1) / columns
    return (columns * width * z + (columns + 1) * gap, rows * height * z + (rows + 1) * gap)
  }

  public static func defaultColumns(_ count: Int) -> Int { max(1, Int(Double(count).squareRoot().rounded(.up))) }

  /// Lays out `count` tiles; `colour(tile, y, x)` gives each value's RGB.
  static func grid(count: Int, columns: Int, width: Int, height: Int,
                   colour: (Int, Int, Int) -> (UInt8, UInt8, UInt8)) -> PNMImage {
    let z = zoom(width: width, height: height)
    let size = gridSize(count: count, columns: columns, width: width, height: height)
    var px = [UInt8](repeating: 0, count: size.width * size.height * 3)
    for i in stride(from: 0, to: px.count, by: 3) { (px[i], px[i + 1], px[i + 2]) = gapColour }
    for t in 0..<count {
      let x0 = gap + (t % columns) * (width * z + gap), y0 = gap + (t / columns) * (height * z + gap)
      for y in 0..<height { for x in 0..<width {
        let c = colour(t, y, x)
        for dy in 0..<z { for dx in 0..<z {
          let o = ((y0 + y * z + dy) * size.width + x0 + x * z + dx) * 3
          (px[o], px[o + 1], px[o + 2]) = c
        } }
      } }
    }
    return try! PNMImage(width: size.width, height: size.height, channels: 3, pixels: px)
  }

  /// Filters in OHWI layout ([O, KH, KW, I]), dequantized values; see the
  /// colour scale above. `bgr`: the three input channels are B, G, R.
  public static func filters(_ w: [Float], shape: [Int], bgr: Bool = false) -> PNMImage {
    let (o, kh, kw, ci) = (shape[0], shape[1], shape[2], shape[3])
    let per = kh * kw * ci
    let m = (0..<o).map { f in w[f * per..<(f + 1) * per].reduce(Float(0)) { max($0, abs($1)) } }
    func level(_ f: Int, _ v: Float) -> UInt8 { m[f] > 0 ? UInt8((128 + 127 * v / m[f]).rounded()) : 128 }
    if ci == 3 {
      return grid(count: o, columns: defaultColumns(o), width: kw, height: kh) { f, y, x in
        let b = f * per + (y * kw + x) * 3
        let c = (level(f, w[b]), level(f, w[b + 1]), level(f, w[b + 2]))
        return bgr ? (c.2, c.1, c.0) : c
      }
    }
    return grid(count: o * ci, columns: ci == 1 ? defaultColumns(o) : ci, width: kw, height: kh) { t, y, x in
      let f = t / ci
      let g = level(f, w[f * per + (y * kw + x) * ci + t % ci])
      return (g, g, g)
    }
  }

  /// Feature maps of one layer, NHWC values of an [1, H, W, C] tensor,
  /// dequantized; one tile per channel; see the colour scale above.
  public static func featureMaps(_ v: [Float], height: Int, width: Int, channels: Int) -> PNMImage {
    let m = v.reduce(Float(0)) { max($0, abs($1)) }
    return grid(count: channels, columns: defaultColumns(channels), width: width, height: height) { c, y, x in
      let value = v[(y * width + x) * channels + c]
      guard m > 0 else { return (0, 0, 0) }
      let l = UInt8(min(255, (255 * abs(value) / m).rounded()))
      return value >= 0 ? (l, l, l) : (0, 0, l)
    }
  }

  /// Writes `image` as a PNG file.
  public static func writePNG(_ image: PNMImage, to path: String) throws {
    var message = [CChar](repeating: 0, count: 256)
    let rc = image.pixels.withUnsafeBufferPointer { px in
      cnnrt_write_png(path, px.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels),
                      &message, message.count)
    }
    guard rc == 0 else {
      throw DataError("\(path): " + String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
  }
}
