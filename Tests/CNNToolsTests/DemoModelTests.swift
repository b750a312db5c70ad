import CNNRuntime
import Foundation
import Testing

@testable import CNNTools

// MARK: - Float reference forward pass over DemoModel.floatLayers

/// NHWC float tensor.
struct FloatTensor {
  var shape: [Int]
  var data: [Float]
}

/// Real-value range representable by an int8 tensor with this scale and zero point.
func int8Range(scale: Float, zeroPoint: Int32) -> ClosedRange<Float> {
  Float(-128 - zeroPoint) * scale...Float(127 - zeroPoint) * scale
}

/// Quantize-dequantize as the runtime stores activations: round half away, clamp to [lo, 127].
func fakeQuant(_ v: Float, scale: Float, zeroPoint: Int32, lowest: Int32 = -128) -> Float {
  let q = max(Float(lowest), min(127, (v / scale).rounded(.toNearestOrAwayFromZero) + Float(zeroPoint)))
  return (q - Float(zeroPoint)) * scale
}

struct ForwardResult {
  /// Softmax output.
  var probabilities: [Float]
  /// Pre-softmax values.
  var logits: [Float]
  /// Per layer name: smallest and largest value before any clamping.
  var extremes: [String: (min: Float, max: Float)]
  var argmax: Int { probabilities.indices.max { probabilities[$0] < probabilities[$1] }! }
}

/// Runs `DemoModel.floatLayers` on a grayscale image. `quantized` simulates the
/// int8 model: weights and biases as stored (dequantized), every layer output
/// rounded and clamped to its int8 grid; otherwise pure float.
func forward(_ pixels: [UInt8], quantized: Bool) -> ForwardResult {
  let n = DemoModel.imageSize
  var x = FloatTensor(shape: [1, n, n, 1], data: pixels.map { Float($0) / 255 })
  var inScale = DemoModel.inputScale
  var extremes: [String: (min: Float, max: Float)] = [:]
  var logits: [Float] = []
  for layer in DemoModel.floatLayers {
    var y: FloatTensor
    switch layer.kind {
    case .conv2D(let w0, let shape, let b0, let ws, let dilation, let padding, let relu):
      let w = quantized ? w0.map { Float(ModelBuilder.quantizeSymmetric($0, scale: ws)) * ws } : w0
      let b = quantized
        ? (try! ModelBuilder.quantizeBias(b0, inputScale: inScale, weightScales: [ws])).map { Float($0) * inScale * ws } : b0
      let (cout, kh, kw, cin) = (shape[0], shape[1], shape[2], shape[3])
      let (h, wd) = (x.shape[1], x.shape[2])
      let eh = (kh - 1) * dilation + 1, ew = (kw - 1) * dilation + 1
      let oh: Int, ow: Int, pt: Int, pl: Int
      switch padding {
      case .same:
        oh = h; ow = wd
        pt = max(0, oh - 1 + eh - h) / 2; pl = max(0, ow - 1 + ew - wd) / 2
      default:
        oh = h - eh + 1; ow = wd - ew + 1; pt = 0; pl = 0
      }
      y = FloatTensor(shape: [1, oh, ow, cout], data: [Float](repeating: 0, count: oh * ow * cout))
      for oy in 0..<oh {
        for ox in 0..<ow {
          for o in 0..<cout {
            var acc = b[o]
            for ky in 0..<kh {
              let iy = oy - pt + ky * dilation
              if iy < 0 || iy >= h { continue }  // zero padding = real 0
              for kx in 0..<kw {
                let ix = ox - pl + kx * dilation
                if ix < 0 || ix >= wd { continue }
                for c in 0..<cin {
                  acc += w[((o * kh + ky) * kw + kx) * cin + c] * x.data[(iy * wd + ix) * cin + c]
                }
              }
            }
            y.data[(oy * ow + ox) * cout + o] = relu ? max(0, acc) : acc
          }
        }
      }
    case .maxPool2D(let size, let stride):
      let (h, wd, c) = (x.shape[1], x.shape[2], x.shape[3])
      let oh = (h - size) / stride + 1, ow = (wd - size) / stride + 1
      y = FloatTensor(shape: [1, oh, ow, c], data: [Float](repeating: -.infinity, count: oh * ow * c))
      for oy in 0..<oh {
        for ox in 0..<ow {
          for ch in 0..<c {
            for ky in 0..<size {
              for kx in 0..<size {
                let v = x.data[((oy * stride + ky) * wd + ox * stride + kx) * c + ch]
                y.data[(oy * ow + ox) * c + ch] = max(y.data[(oy * ow + ox) * c + ch], v)
              }
            }
          }
        }
      }
    case .reshape(let shape):
      y = FloatTensor(shape: shape, data: x.data)
    case .fullyConnected(let w0, let shape, let b0, let ws):
      let w = quantized ? w0.map { Float(ModelBuilder.quantizeSymmetric($0, scale: ws)) * ws } : w0
      let b = quantized
        ? (try! ModelBuilder.quantizeBias(b0, inputScale: inScale, weightScales: [ws])).map { Float($0) * inScale * ws } : b0
      let (units, depth) = (shape[0], shape[1])
      y = FloatTensor(shape: [x.data.count / depth, units], data: [])
      for u in 0..<units {
        var acc = b[u]
        for d in 0..<depth { acc += w[u * depth + d] * x.data[d] }
        y.data.append(acc)
      }
      logits = y.data
    case .softmax(let beta):
      let m = x.data.max()!
      let e = x.data.map { exp(beta * ($0 - m)) }
      let s = e.reduce(0, +)
      y = FloatTensor(shape: x.shape, data: e.map { $0 / s })
    }
    let lo = y.data.min()!, hi = y.data.max()!
    extremes[layer.name] = (min(lo, extremes[layer.name]?.min ?? lo), max(hi, extremes[layer.name]?.max ?? hi))
    if quantized {
      y.data = y.data.map { fakeQuant($0, scale: layer.outputScale, zeroPoint: layer.outputZeroPoint) }
      if case .fullyConnected = layer.kind { logits = y.data }
    }
    x = y
    inScale = layer.outputScale
  }
  return ForwardResult(probabilities: x.data, logits: logits, extremes: extremes)
}

/// Shifts (both parities, up to 3 px each way), stroke widths and sizes the model must cope with.
let perturbations: [(dx: Int, dy: Int, thickness: Double, scale: Double)] = {
  var out: [(dx: Int, dy: Int, thickness: Double, scale: Double)] = []
  for dx in [-3, -2, 0, 1, 3] {
    for dy in [-3, -2, 0, 1, 3] {
      for t in [2.0, 2.5, 3.0] {
        for s in [0.6, 0.7, 0.8, 0.9, 1.0] { out.append((dx, dy, t, s)) }
      }
    }
  }
  return out
}()

// MARK: - Demo model

@Suite struct DemoModelTests {
  @Test func demo_samples_look_like_their_shapes() {
    let n = DemoModel.imageSize
    func px(_ img: [UInt8], _ x: Int, _ y: Int) -> UInt8 { img[y * n + x] }
    let x = DemoModel.drawSample(label: .x)
    #expect(x.count == n * n)
    #expect(px(x, 14, 14) == 255 && px(x, 7, 7) == 255 && px(x, 20, 7) == 255 && px(x, 14, 7) == 0)
    let ring = DemoModel.drawSample(label: .ring)
    #expect(px(ring, 14, 14) == 0 && px(ring, 14, 5) > 200 && px(ring, 5, 14) > 200 && px(ring, 23, 14) > 200)
    let plus = DemoModel.drawSample(label: .plus)
    #expect(px(plus, 14, 14) == 255 && px(plus, 6, 14) == 255 && px(plus, 14, 6) == 255 && px(plus, 7, 7) == 0)
    let minus = DemoModel.drawSample(label: .minus)
    #expect(px(minus, 6, 13) == 255 && px(minus, 22, 14) == 255 && px(minus, 14, 8) == 0 && px(minus, 14, 20) == 0)
    // Offsets move the shape; thickness adds pixels; scale shrinks it.
    let moved = DemoModel.drawSample(label: .minus, offsetX: 0, offsetY: 3)
    #expect(px(moved, 14, 17) == 255 && px(moved, 14, 13) == 0)
    let lit = { (img: [UInt8]) in img.filter { $0 > 127 }.count }
    #expect(lit(DemoModel.drawSample(label: .plus, thickness: 3)) > lit(plus))
    #expect(lit(DemoModel.drawSample(label: .plus, scale: 0.6)) < lit(plus))
    #expect(DemoModel.labels == ["x", "ring", "plus", "minus"])
    #expect(DemoModel.Shape.allCases.map(\.label) == DemoModel.labels)
  }

  @Test func float_forward_pass_classifies_demo_samples() {
    for s in DemoModel.sampleSet() {
      let r = forward(s.pixels, quantized: false)
      #expect(r.argmax == s.shape.rawValue, "\(s.name): \(r.probabilities)")
      #expect(r.probabilities[s.shape.rawValue] > 0.8, "\(s.name): \(r.probabilities)")
    }
  }

  @Test(arguments: DemoModel.Shape.allCases)
  func float_and_int8_simulation_classify_perturbed_samples(shape: DemoModel.Shape) {
    var worstFloatMargin = Float.infinity, worstQuantMargin = Float.infinity
    var ranges: [String: (min: Float, max: Float)] = [:]
    for p in perturbations {
      let img = DemoModel.drawSample(label: shape, offsetX: p.dx, offsetY: p.dy, thickness: p.thickness, scale: p.scale)
      for quantized in [false, true] {
        let r = forward(img, quantized: quantized)
        let c = shape.rawValue
        let margin = r.logits[c] - r.logits.indices.filter { $0 != c }.map { r.logits[$0] }.max()!
        #expect(r.argmax == c, "\(shape) \(p) quantized=\(quantized): logits \(r.logits)")
        if quantized {
          worstQuantMargin = min(worstQuantMargin, margin)
        } else {
          worstFloatMargin = min(worstFloatMargin, margin)
          for (k, v) in r.extremes { ranges[k] = (min(v.min, ranges[k]?.min ?? v.min), max(v.max, ranges[k]?.max ?? v.max)) }
        }
      }
    }
    // The hand-set scores leave at least 3 logit units (8 LSB at scale 0.375) between classes.
    #expect(worstFloatMargin >= 2.9, "float margin \(worstFloatMargin)")
    #expect(worstQuantMargin >= 2.5, "int8 margin \(worstQuantMargin)")
    // Every float value fits its layer's int8 range (no clipping in the quantized model);
    // softmax output quantization is fixed by the format (1.0 saturates to 255/256).
    for layer in DemoModel.floatLayers {
      if case .softmax = layer.kind { continue }
      guard let r = ranges[layer.name] else { continue }
      let q = int8Range(scale: layer.outputScale, zeroPoint: layer.outputZeroPoint)
      #expect(q.contains(r.min) && q.contains(r.max), "\(layer.name): \(r) outside \(q)")
    }
  }

  @Test func chosen_weight_scales_represent_the_float_weights_exactly() {
    for layer in DemoModel.floatLayers {
      switch layer.kind {
      case .conv2D(let w, _, _, let s, _, _, _), .fullyConnected(let w, _, _, let s):
        for v in w {
          let q = ModelBuilder.quantizeSymmetric(v, scale: s)
          #expect(abs(Float(q) * s - v) < 1e-6, "\(layer.name): \(v) → \(q)")
          #expect(q != -128 && q != 127 || abs(v / s) <= 127)
        }
      default: break
      }
    }
    // Worst-case ranges derived from the weights: conv output ≤ 6 − 2 = 4 = 127 LSB at 4/255.
    #expect(int8Range(scale: 4.0 / 255, zeroPoint: -128).upperBound == 4)
    // Logits: |w|·4·4 + |b| ≤ 48 for every row.
    #expect(int8Range(scale: 0.375, zeroPoint: 0).lowerBound == -48)
  }

  @Test func built_model_is_valid_format_v1_with_metadata() throws {
    let bytes = try DemoModel.build()
    let m = ParsedModel(bytes)
    #expect(m.header.magic == ModelFormat.magic && Int(m.header.fileSize) == bytes.count)
    #expect(m.header.checksum == crcOfBody(bytes))
    #expect(m.ops.map(\.opCode) == [OpCode.conv2D, .maxPool2D, .maxPool2D, .reshape, .fullyConnected, .softmax].map(\.rawValue))
    let md = try #require(m.metadata)
    #expect(m.labels == DemoModel.labels)
    #expect(m.string(md.nameOffset) == DemoModel.modelName)
    #expect(md.imageWidth == 28 && md.imageHeight == 28 && md.imageChannels == 1)
    #expect(md.channelOrder == ChannelOrder.gray.rawValue && md.pixelScale == Float(1) / 255)
    #expect(md.mean.0 == 0 && md.std.0 == 1)
    let input = m.tensors[Int(m.inputs[0])]
    #expect(m.shape(input) == [1, 28, 28, 1] && input.zeroPoint == -128 && m.scales(input) == [Float(1) / 255])
    let output = m.tensors[Int(m.outputs[0])]
    #expect(m.shape(output) == [1, 4] && output.zeroPoint == -128 && m.scales(output) == [Float(1) / 256])
    // conv1 weights as stored: 2 → 126, −1 → −63 (horizontal detector first).
    let conv = m.ops[0]
    #expect(conv.dilationH == 2 && conv.padding == PaddingKind.same.rawValue && conv.activation == FusedActivation.relu.rawValue)
    let w = m.data(m.tensors[Int(m.opInputs(0)[1])]).map { Int8(bitPattern: $0) }
    #expect(Array(w.prefix(9)) == [-63, -63, -63, 126, 126, 126, -63, -63, -63])
    let bias = m.data(m.tensors[Int(m.opInputs(0)[2])])
    let b0 = Int32(bitPattern: UInt32(bias[0]) | UInt32(bias[1]) << 8 | UInt32(bias[2]) << 16 | UInt32(bias[3]) << 24)
    #expect(b0 == -32130)  // −2 / (1/255 · 1/63)
    #expect(m.tensors.filter(\.isConstant).allSatisfy { $0.dataOffset % 64 == 0 })
  }

  @Test func write_samples_as_pgm() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cnnrt-demo-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let paths = try DemoModel.writeSamples(to: dir)
    let set = DemoModel.sampleSet()
    #expect(paths.count == set.count)
    for (path, s) in zip(paths, set) {
      let img = try PNM.read(path: path)
      #expect(img.width == 28 && img.height == 28 && img.channels == 1 && img.pixels == s.pixels)
      #expect(path.hasSuffix("\(s.name).pgm"))
    }
  }
}

// MARK: - PNM

@Suite struct PNMTests {
  @Test func pgm_and_ppm_round_trip() throws {
    let gray = try PNMImage(width: 3, height: 2, channels: 1, pixels: [0, 1, 2, 253, 254, 255])
    let enc = PNM.encode(gray)
    #expect(Array(enc.prefix(11)) == Array("P5\n3 2\n255\n".utf8))
    #expect(try PNM.decode(enc) == gray)
    let rgb = try PNMImage(width: 2, height: 2, channels: 3, pixels: Array(0..<12))
    let enc2 = PNM.encode(rgb)
    #expect(enc2.starts(with: Array("P6\n".utf8)))
    #expect(try PNM.decode(enc2) == rgb)
    // Files.
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("cnnrt-pnm-\(UUID().uuidString).ppm").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try PNM.write(rgb, to: path)
    #expect(try PNM.read(path: path) == rgb)
  }

  @Test func header_comments_and_whitespace_are_accepted() throws {
    let bytes = Array("P5 # comment\n# another\r\n 2\t1 # w h\n255\n".utf8) + [7, 9] + [42]  // trailing byte ignored
    let img = try PNM.decode(bytes)
    #expect(img.width == 2 && img.height == 1 && img.pixels == [7, 9])
    // Raster may start with a byte that looks like whitespace or '#'.
    let img2 = try PNM.decode(Array("P5\n2 1\n255 ".utf8) + [0x0A, 0x23])
    #expect(img2.pixels == [0x0A, 0x23])
  }

  @Test func bad_inputs_give_specific_errors() {
    func err(_ s: String, _ tail: [UInt8] = []) -> PNMError? {
      do { _ = try PNM.decode(Array(s.utf8) + tail); return nil } catch let e as PNMError { return e } catch { return nil }
    }
    #expect(err("") == .notPNM)
    #expect(err("GIF89a") == .notPNM)
    #expect(err("P9\n1 1\n255\n") == .notPNM)
    #expect(err("P2\n1 1\n255\n0\n") == .unsupportedFormat("P2"))
    #expect(err("P3\n1 1\n255\n0 0 0\n") == .unsupportedFormat("P3"))
    #expect(err("P5\n1 1\n65535\n", [0, 0]) == .unsupportedMaxval(65535))
    #expect(err("P5\n1 1\n15\n", [0]) == .unsupportedMaxval(15))
    #expect(err("P5\n0 1\n255\n") == .invalidDimensions(width: 0, height: 1))
    #expect(err("P5\n100000 1\n255\n") == .invalidDimensions(width: 100_000, height: 1))
    #expect(err("P5\n3 2\n255\n", [1, 2, 3]) == .truncated(expected: 6, got: 3))
    #expect(err("P6\n1 1\n255\n", [1, 2]) == .truncated(expected: 3, got: 2))
    if case .badHeader = err("P5\n3 x\n255\n") {} else { Issue.record("non-numeric height") }
    if case .badHeader = err("P5\n3 2\n255") {} else { Issue.record("no whitespace after maxval") }
    if case .badHeader = err("P5\n3") {} else { Issue.record("header ends early") }
    if case .badHeader = err("P53 2 255\n") {} else { Issue.record("no whitespace after magic") }
    if case .badHeader = err("P5\n99999999999999999999 2\n255\n") {} else { Issue.record("huge number") }
    #expect(throws: PNMError.unsupportedChannels(2)) { try PNMImage(width: 1, height: 1, channels: 2, pixels: [0, 0]) }
    #expect(throws: PNMError.pixelCountMismatch(expected: 4, got: 3)) { try PNMImage(width: 2, height: 2, channels: 1, pixels: [0, 0, 0]) }
    #expect(throws: PNMError.self) { try PNM.read(path: "/nonexistent/cnnrt/image.pgm") }
    // Messages say what is supported.
    #expect(PNMError.unsupportedFormat("P2").description.contains("P5"))
    #expect(PNMError.unsupportedMaxval(65535).description.contains("255"))
  }
}
