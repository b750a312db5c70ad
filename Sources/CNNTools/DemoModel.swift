// A hand-designed (untrained) int8 CNN that tells four drawn shapes apart:
// "x" (two diagonals), "ring" (a circle), "plus" (+) and "minus" (−), white
// strokes on a black 28×28 grayscale image.
//
// It follows the feature-detector idea of the lecture notes (the 9×9 "X" and
// its diagonal filter): a filter's weighted sum is large where the window
// looks like the filter.
//
//   conv1   3×3, dilation 2 (5×5 reach), SAME, ReLU: four oriented line
//           detectors — horizontal, vertical, "\" and "/". Each is +2 on its
//           line and −1 elsewhere (zero sum, so flat areas give 0), with bias
//           −2: a perfect line through the window gives 6 − 2 = 4, a line at
//           45° to the filter ≤ 1, so after ReLU only well-aligned strokes
//           survive. Dilation 2 makes the off-line taps fall outside strokes
//           2–3 px thick, which a plain 3×3 detector cannot do.
//   pool1   max 2×2 / 2            → 14×14×4
//   pool2   max 14×14 (global max) → 1×1×4: "is there a stroke of this
//           orientation anywhere?" — independent of position and size.
//   flatten → [1, 4]
//   logits  fully connected, weights set by hand from the shapes' make-up:
//             x     = diagonals, no horizontal/vertical
//             ring  = all four orientations (a circle has every tangent)
//             plus  = horizontal + vertical, no diagonals
//             minus = horizontal only
//   softmax
//
// The float weights below are the single source: `build()` quantizes them.
// Quantization: input scale 1/255, zero point −128 (q = pixel − 128);
// conv weights scale 1/63 (2 → 126, −1 → −63: exact, still zero-sum);
// conv output range [0, 4] → scale 4/255, zero point −128; FC weights scale
// 1/31 (exact); logits range [−48, 47.6] → scale 0.375, zero point 0.

import CNNRuntime
import Foundation

public enum DemoModel {
  /// The classes, in output order.
  public enum Shape: Int, CaseIterable, Sendable {
    case x = 0, ring, plus, minus

    public var label: String { DemoModel.labels[rawValue] }
  }

  public static let labels = ["x", "ring", "plus", "minus"]
  public static let modelName = "cnnrt-demo-shapes"
  public static let imageSize = 28
  /// Input quantization: real x = pixel / 255 ∈ [0, 1] → q = pixel − 128.
  public static let inputScale: Float = 1.0 / 255
  public static let inputZeroPoint: Int32 = -128

  /// One layer of the float description the int8 model is built from.
  public struct Layer: Sendable {
    public enum Kind: Sendable {
      /// weights OHWI [Cout, KH, KW, Cin]; stride 1.
      case conv2D(weights: [Float], shape: [Int], bias: [Float], weightScale: Float, dilation: Int,
                  padding: Padding, relu: Bool)
      /// VALID, square window.
      case maxPool2D(size: Int, stride: Int)
      case reshape([Int])
      /// weights [units, depth].
      case fullyConnected(weights: [Float], shape: [Int], bias: [Float], weightScale: Float)
      case softmax(beta: Float)
    }

    public let name: String
    public let kind: Kind
    /// Quantization of this layer's output (pooling/reshape: same as input).
    public let outputScale: Float
    public let outputZeroPoint: Int32
  }

  // Line detectors, 3×3 (row-major), applied with dilation 2.
  static let horizontal: [Float] = [-1, -1, -1, 2, 2, 2, -1, -1, -1]
  static let vertical: [Float] = [-1, 2, -1, -1, 2, -1, -1, 2, -1]
  static let diagonalDown: [Float] = [2, -1, -1, -1, 2, -1, -1, -1, 2]  // "\" (the notes' X filter)
  static let diagonalUp: [Float] = [-1, -1, 2, -1, 2, -1, 2, -1, -1]    // "/"

  /// Features after pool2, in order: horizontal, vertical, "\", "/" (each 0…4).
  /// Rows: x, ring, plus, minus. Derivation (h, v, d = "\" + "/"): x has d ≥ 4
  /// and h, v ≤ 0.9; ring h, v ≥ 2.4 and d ≥ 2.8; plus h, v ≥ 2.4, d = 0;
  /// minus h ≥ 2.5, v = d = 0. Scores (×2 for a confident softmax):
  ///   x     = 2d − 2(h + v)        (only diagonals)
  ///   ring  = h + v + d − 4        (everything present; −4 keeps plus/x below)
  ///   plus  = h + v − 2d − 1.5     (−1.5 keeps a lone horizontal below minus)
  ///   minus = h − 2v − 2d
  static let fcWeights: [Float] = [
    -4, -4, 4, 4,
    2, 2, 2, 2,
    2, 2, -4, -4,
    2, -4, -4, -4,
  ]
  static let fcBias: [Float] = [0, -8, -3, 0]

  /// The network in float, from input to probabilities.
  public static let floatLayers: [Layer] = [
    Layer(name: "conv1",
          kind: .conv2D(weights: horizontal + vertical + diagonalDown + diagonalUp, shape: [4, 3, 3, 1],
                        bias: [-2, -2, -2, -2], weightScale: 1.0 / 63, dilation: 2, padding: .same, relu: true),
          outputScale: 4.0 / 255, outputZeroPoint: -128),
    Layer(name: "pool1", kind: .maxPool2D(size: 2, stride: 2), outputScale: 4.0 / 255, outputZeroPoint: -128),
    Layer(name: "pool2", kind: .maxPool2D(size: 14, stride: 14), outputScale: 4.0 / 255, outputZeroPoint: -128),
    Layer(name: "flatten", kind: .reshape([1, 4]), outputScale: 4.0 / 255, outputZeroPoint: -128),
    Layer(name: "logits", kind: .fullyConnected(weights: fcWeights, shape: [4, 4], bias: fcBias, weightScale: 1.0 / 31),
          outputScale: 0.375, outputZeroPoint: 0),
    Layer(name: "probabilities", kind: .softmax(beta: 1), outputScale: 1.0 / 256, outputZeroPoint: -128),
  ]

  /// Builds the int8 model from `floatLayers` and serializes it (format v2).
  public static func build() throws -> [UInt8] {
    var b = ModelBuilder()
    let input = try b.addActivation(shape: [1, imageSize, imageSize, 1], scale: inputScale,
                                    zeroPoint: inputZeroPoint, name: "image")
    var x = input
    var scale = inputScale
    for layer in floatLayers {
      switch layer.kind {
      case .conv2D(let w, let shape, let bias, let ws, let dilation, let padding, let relu):
        let wq = w.map { ModelBuilder.quantizeSymmetric($0, scale: ws) }
        let f = try b.addConstant(wq, shape: shape, scales: [Float](repeating: ws, count: shape[0]), axis: 0,
                                  name: "\(layer.name)/weights")
        let bq = try ModelBuilder.quantizeBias(bias, inputScale: scale, weightScales: [ws])
        let bt = try b.addConstant(bq, name: "\(layer.name)/bias")
        x = try b.conv2D(x, filter: f, bias: bt, dilation: (dilation, dilation), padding: padding,
                         activation: relu ? .relu : .none, outputScale: layer.outputScale,
                         outputZeroPoint: layer.outputZeroPoint, name: layer.name)
      case .maxPool2D(let size, let stride):
        x = try b.maxPool2D(x, filter: (size, size), stride: (stride, stride), name: layer.name)
      case .reshape(let shape):
        x = try b.reshape(x, to: shape, name: layer.name)
      case .fullyConnected(let w, let shape, let bias, let ws):
        let wq = w.map { ModelBuilder.quantizeSymmetric($0, scale: ws) }
        let f = try b.addConstant(wq, shape: shape, scale: ws, name: "\(layer.name)/weights")
        let bq = try ModelBuilder.quantizeBias(bias, inputScale: scale, weightScales: [ws])
        let bt = try b.addConstant(bq, name: "\(layer.name)/bias")
        x = try b.fullyConnected(x, weights: f, bias: bt, outputScale: layer.outputScale,
                                 outputZeroPoint: layer.outputZeroPoint, name: layer.name)
      case .softmax(let beta):
        x = try b.softmax(x, beta: beta, name: layer.name)
      }
      scale = layer.outputScale
    }
    try b.markInput(input)
    try b.markOutput(x)
    b.metadata = ModelMetadata(name: modelName, labels: labels, imageWidth: imageSize, imageHeight: imageSize,
                               imageChannels: 1, channelOrder: .gray, pixelScale: 1.0 / 255, mean: [0], std: [1])
    return try b.serialize()
  }

  // MARK: Samples

  /// Draws `shape` as white anti-aliased strokes on black, row-major, one byte
  /// per pixel. The shape spans 2·(9/28)·size·scale pixels, centred at
  /// (size/2 + offsetX, size/2 + offsetY); `thickness` is the stroke width in pixels.
  public static func drawSample(label shape: Shape, size: Int = 28, offsetX: Int = 0, offsetY: Int = 0,
                                thickness: Double = 2, scale: Double = 1) -> [UInt8] {
    let r = 9.0 / 28.0 * Double(size) * scale
    let cx = Double(size) / 2 + Double(offsetX), cy = Double(size) / 2 + Double(offsetY)
    var pixels = [UInt8](repeating: 0, count: size * size)
    for y in 0..<size {
      for x in 0..<size {
        let px = Double(x) + 0.5, py = Double(y) + 0.5
        let d: Double
        switch shape {
        case .x:
          d = min(segmentDistance(px, py, cx - r, cy - r, cx + r, cy + r),
                  segmentDistance(px, py, cx - r, cy + r, cx + r, cy - r))
        case .ring:
          d = abs(((px - cx) * (px - cx) + (py - cy) * (py - cy)).squareRoot() - r)
        case .plus:
          d = min(segmentDistance(px, py, cx - r, cy, cx + r, cy), segmentDistance(px, py, cx, cy - r, cx, cy + r))
        case .minus:
          d = segmentDistance(px, py, cx - r, cy, cx + r, cy)
        }
        // Coverage ramps over one pixel around the stroke edge.
        let v = max(0, min(1, thickness / 2 + 0.5 - d))
        pixels[y * size + x] = UInt8((v * 255).rounded())
      }
    }
    return pixels
  }

  /// The demo images: each shape at the default placement, then shifted,
  /// thicker and smaller. Names are "<label>_<n>".
  public static func sampleSet() -> [(name: String, shape: Shape, pixels: [UInt8])] {
    let variants: [(dx: Int, dy: Int, thickness: Double, scale: Double)] = [
      (0, 0, 2, 1), (2, -2, 3, 0.8), (-3, 1, 2, 0.6),
    ]
    var out: [(name: String, shape: Shape, pixels: [UInt8])] = []
    for s in Shape.allCases {
      for (i, v) in variants.enumerated() {
        out.append(("\(s.label)_\(i)", s,
                    drawSample(label: s, offsetX: v.dx, offsetY: v.dy, thickness: v.thickness, scale: v.scale)))
      }
    }
    return out
  }

  /// Writes `sampleSet()` as PGM files into `directory` (created if needed);
  /// returns the paths written.
  @discardableResult
  public static func writeSamples(to directory: String) throws -> [String] {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    var paths: [String] = []
    for s in sampleSet() {
      let path = (directory as NSString).appendingPathComponent("\(s.name).pgm")
      try PNM.write(PNMImage(width: imageSize, height: imageSize, channels: 1, pixels: s.pixels), to: path)
      paths.append(path)
    }
    return paths
  }

  static func segmentDistance(_ px: Double, _ py: Double, _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double) -> Double {
    let dx = bx - ax, dy = by - ay
    let len2 = dx * dx + dy * dy
    let t = len2 == 0 ? 0 : max(0, min(1, ((px - ax) * dx + (py - ay) * dy) / len2))
    let ex = px - (ax + t * dx), ey = py - (ay + t * dy)
    return (ex * ex + ey * ey).squareRoot()
  }
}
