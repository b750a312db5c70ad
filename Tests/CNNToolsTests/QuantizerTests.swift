// Quantizer: the float executor on hand-computed graphs, the activation
// quantization rules, fixed (ONNX QDQ) quantization, the .npy reader, and the MLPerf Tiny ResNet-8 float
// model quantized with 50 CIFAR-10 images and measured on 50 others (top-1
// agreement of the int8 model with the float executor, ours vs the official
// int8 model's).
//
// Data comes from ../shared/data (or $CNNRT_SHARED_DATA); a missing file
// fails the test with its path.
import CNNRuntime
import Foundation
import Testing

@testable import CNNTools

private struct QuantTestError: Error, CustomStringConvertible {
  let description: String
}

private enum QData {
  static var root: URL {
    if let env = ProcessInfo.processInfo.environment["CNNRT_SHARED_DATA"], !env.isEmpty {
      return URL(fileURLWithPath: env)
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")
  }

  static func path(_ relative: String) throws -> String {
    let u = root.appendingPathComponent(relative)
    guard FileManager.default.fileExists(atPath: u.path) else {
      throw QuantTestError(description: "missing shared test data \(u.path) (set CNNRT_SHARED_DATA or provide ../shared/data)")
    }
    return u.path
  }

  static func bytes(_ relative: String) throws -> [UInt8] {
    let p = try path(relative)
    guard let d = FileManager.default.contents(atPath: p) else { throw QuantTestError(description: "cannot read \(p)") }
    return [UInt8](d)
  }
}

private typealias G = FloatGraph

private func argmax(_ v: [Float]) -> Int { v.indices.max { v[$0] < v[$1] || (v[$0] == v[$1] && $0 > $1) }! }

@Suite struct QuantizerTests {
  // MARK: Float executor on hand-computed graphs

  /// The notes' example: 5×5 binary image ⊛ [1 0 1; 0 1 0; 1 0 1] = [4 3 4; 2 4 3; 2 3 4].
  @Test func executorNotesConvolution() throws {
    let image: [Float] = [1, 1, 1, 0, 0,
                          0, 1, 1, 1, 0,
                          0, 0, 1, 1, 1,
                          0, 0, 1, 1, 0,
                          0, 1, 1, 0, 0]
    let filter: [Float] = [1, 0, 1, 0, 1, 0, 1, 0, 1]
    var conv = G.Node(kind: .conv2D, inputs: [0, 1], output: 2, origin: "conv")
    conv.activation = .relu
    let g = try G(tensors: [G.Tensor(name: "x", shape: [1, 5, 5, 1]),
                            G.Tensor(name: "f", shape: [1, 3, 3, 1], data: filter),
                            G.Tensor(name: "y", shape: [1, 3, 3, 1])],
                  nodes: [conv], inputs: [0], outputs: [2])
    let out = try FloatExecutor(graph: g).run([image])
    #expect(out[0] == [4, 3, 4, 2, 4, 3, 2, 3, 4])
  }

  /// SAME padding, stride 2, two groups, bias; max/avg pool; add; mean; FC; softmax — against plain formulas.
  @Test func executorSmallGraph() throws {
    // x: [1,4,4,2], values k.
    let x: [Float] = (0..<32).map { (k: Int) -> Float in Float(k % 7) - 3 }
    // Grouped conv: 2 groups of 1 input channel → 2 output channels, 3×3, SAME, stride 2.
    let f: [Float] = (0..<18).map { (k: Int) -> Float in Float(k % 5) - 2 }
    let bias: [Float] = [0.5, -1]
    var conv = G.Node(kind: .conv2D, inputs: [0, 1, 2], output: 3, origin: "conv")
    conv.strideH = 2; conv.strideW = 2; conv.padding = .same
    var pool = G.Node(kind: .maxPool2D, inputs: [0], output: 4, origin: "maxpool")
    pool.filterH = 2; pool.filterW = 2; pool.strideH = 2; pool.strideW = 2
    var avg = G.Node(kind: .averagePool2D, inputs: [0], output: 5, origin: "avgpool")
    avg.filterH = 3; avg.filterW = 3; avg.strideH = 2; avg.strideW = 2; avg.padding = .same
    let add = G.Node(kind: .add, inputs: [3, 4], output: 6, origin: "add")
    var relu = G.Node(kind: .activation, inputs: [6], output: 7, origin: "relu6")
    relu.activation = .relu6
    let mean = G.Node(kind: .meanHW, inputs: [7], output: 8, origin: "mean")
    let fc = G.Node(kind: .fullyConnected, inputs: [8, 9], output: 10, origin: "fc")
    let sm = G.Node(kind: .softmax, inputs: [10], output: 11, origin: "softmax")
    let w: [Float] = [1, 2, -1, 0.5, 0, 1]
    let g = try G(tensors: [G.Tensor(name: "x", shape: [1, 4, 4, 2]), G.Tensor(name: "f", shape: [2, 3, 3, 1], data: f),
                            G.Tensor(name: "b", shape: [2], data: bias), G.Tensor(name: "c", shape: [1, 2, 2, 2]),
                            G.Tensor(name: "m", shape: [1, 2, 2, 2]), G.Tensor(name: "a", shape: [1, 2, 2, 2]),
                            G.Tensor(name: "s", shape: [1, 2, 2, 2]), G.Tensor(name: "r", shape: [1, 2, 2, 2]),
                            G.Tensor(name: "g", shape: [1, 2]), G.Tensor(name: "w", shape: [3, 2], data: w),
                            G.Tensor(name: "l", shape: [1, 3]), G.Tensor(name: "p", shape: [1, 3])],
                  nodes: [conv, pool, avg, add, relu, mean, fc, sm], inputs: [0], outputs: [11, 5])
    let all = try FloatExecutor(graph: g).runAll([x])
    func xv(_ y: Int, _ xx: Int, _ c: Int) -> Float { (0..<4).contains(y) && (0..<4).contains(xx) ? x[(y * 4 + xx) * 2 + c] : 0 }
    // SAME, in 4, stride 2, filter 3: out 2, pad total 1 → top/left pad 0.
    var conv0: [Float] = []
    for oy in 0..<2 { for ox in 0..<2 { for o in 0..<2 {
      var s = bias[o]
      for ky in 0..<3 { for kx in 0..<3 { s += xv(oy * 2 + ky, ox * 2 + kx, o) * f[(o * 3 + ky) * 3 + kx] } }
      conv0.append(s)
    } } }
    #expect(all[3] == conv0)
    var mp: [Float] = [], ap: [Float] = []
    for oy in 0..<2 { for ox in 0..<2 { for c in 0..<2 {
      mp.append([xv(2 * oy, 2 * ox, c), xv(2 * oy + 1, 2 * ox, c), xv(2 * oy, 2 * ox + 1, c), xv(2 * oy + 1, 2 * ox + 1, c)].max()!)
      var s: Float = 0, n: Float = 0
      for y in (2 * oy)..<min(2 * oy + 3, 4) { for xx in (2 * ox)..<min(2 * ox + 3, 4) { s += xv(y, xx, c); n += 1 } }
      ap.append(s / n)
    } } }
    #expect(all[4] == mp)
    #expect(zip(all[5], ap).allSatisfy { abs($0 - $1) < 1e-6 })
    let r: [Float] = zip(conv0, mp).map { (a: Float, b: Float) -> Float in min(max(a + b, 0), 6) }
    #expect(all[7] == r)
    let gap0: Float = (r[0] + r[2] + r[4] + r[6]) / 4
    let gap1: Float = (r[1] + r[3] + r[5] + r[7]) / 4
    let gap: [Float] = [gap0, gap1]
    #expect(zip(all[8], gap).allSatisfy { abs($0 - $1) < 1e-6 })
    let logits: [Float] = (0..<3).map { (k: Int) -> Float in w[2 * k] * gap[0] + w[2 * k + 1] * gap[1] }
    #expect(zip(all[10], logits).allSatisfy { abs($0 - $1) < 1e-5 })
    let e = logits.map { expf($0 - logits.max()!) }
    #expect(zip(all[11], e.map { $0 / e.reduce(0, +) }).allSatisfy { abs($0 - $1) < 1e-6 })

    // The standalone ReLU6 fuses into the add; the fused graph computes the same.
    let fused = g.fusingActivations()
    #expect(fused.nodes.count == g.nodes.count - 1)
    #expect(fused.nodes.first { $0.kind == .add }?.activation == .relu6)
    #expect(try FloatExecutor(graph: fused).run([x]) == FloatExecutor(graph: g).run([x]))

    // Quantizes into a model the runtime loads; int8 output close to the float one.
    var samples: [[Float]] = []
    for s in 0..<8 {
      var v: [Float] = []
      for k in 0..<32 { v.append(Float((k * 7 + s * 3) % 11) / 2 - 2.5) }
      samples.append(v)
    }
    let q = try Quantizer.quantize(g, samples: samples, options: .init(imageInput: false))
    let rt = try RuntimeModel(bytes: q.bytes)
    #expect(rt.opCount == 7)
    let inQ = q.quantization[0]!
    let outs = try rt.run(inputs: [samples[3].map { inQ.quantize($0) }])
    let ref = try FloatExecutor(graph: g).run([samples[3]])[0]
    for k in 0..<3 {
      let prob = Float(Int(outs[0][k]) + 128) / 256
      #expect(abs(prob - ref[k]) < 0.03)
    }
  }

  // MARK: Quantization rules

  @Test func activationQuantizationRules() {
    // Raw pixels 0…255 → scale 1, zero point -128 (q = pixel − 128).
    #expect(ActivationQuant(min: 0, max: 255) == ActivationQuant(scale: 1, zeroPoint: -128))
    // The range is extended to include 0.
    let pos = ActivationQuant(min: 2, max: 10)
    #expect(pos.zeroPoint == -128 && abs(pos.scale - 10.0 / 255) < 1e-7)
    let neg = ActivationQuant(min: -4, max: -1)
    #expect(neg.zeroPoint == 127)
    // Symmetric range → zero point nudged to round(−0.5) = 0 ([-128,127] in real ±1).
    let sym = ActivationQuant(min: -1, max: 1)
    #expect(sym.zeroPoint == 0 || sym.zeroPoint == -1)
    #expect(sym.quantize(0) == Int8(sym.zeroPoint))  // 0 is exact
    // Weights per tensor are symmetric in [-127, 127].
    let (wq, s) = try! Quantizer.quantizeWeights([-2, 1, 0.5, 2], shape: [4], axis: 0, perChannel: false)
    #expect(s == [2 / 127] && wq == [-127, 64, 32, 127])
  }

  @Test func calibrationMethods() throws {
    // One outlier among many small values: percentile and MSE clip it, min-max keeps it.
    var st = TensorStats(min: -1, max: 100, histogram: [])
    let c = Calibrator(method: .minmax)
    #expect(c.range(st) == (min: -1, max: 100))
    st.histogram = [Double](repeating: 0, count: 2048)
    let w = Float(101) / 2048
    for k in 0..<2048 where Float(k) * w - 1 < 1 { st.histogram[k] = 100_000 }
    st.histogram[2047] = 1
    let p = Calibrator(method: .percentile, percentile: 99.99).range(st)
    #expect(p.max < 2 && p.min < -0.9)
    let m = Calibrator(method: .mse).range(st)
    // 4M values in [-1, 1) and one at 100: MSE clips far below the outlier.
    #expect(m.max < 20 && m.min < -0.5, "\(m)")
    // With few small values the outlier dominates the error and is kept.
    var few = st
    few.histogram = st.histogram.map { $0 > 1 ? 1 : $0 }
    #expect(Calibrator(method: .mse).range(few).max > 50)
  }

  @Test func npyReader() throws {
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var b: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
    for v in [Float(1), 2, 3, -4, 0.5, 6] { withUnsafeBytes(of: v.bitPattern.littleEndian) { b += $0 } }
    let a = try NPYArray(npy: b)
    #expect(a.shape == [2, 3] && a.descr == "<f4")
    #expect(try a.floats() == [1, 2, 3, -4, 0.5, 6])
    #expect(throws: NPYError.self) { try NPYArray(npy: Array(b.prefix(20))) }
  }

  // MARK: ResNet-8

  /// ResNet-8 float, calibrated on CIFAR-10 images 0-49, measured on 50-99:
  /// top-1 agreement of the int8 model with the float executor. Min-max (the
  /// default) and percentile must reach 98 % and at least the official int8
  /// model's agreement; MSE (reported) at least 90 %.
  @Test func resnet8QuantizedAgreesWithFloat() throws {
    let floatBytes = try QData.bytes("models/mlperf_tiny_ic_resnet8_float.tflite")
    let int8Bytes = try QData.bytes("models/mlperf_tiny_ic_resnet8_int8.tflite")
    let images = try NPYArray.load(path: try QData.path("cifar10/neuralnetvis_cifar10_train_preview100_x.npz"))
    let labelArray = try NPYArray.load(path: try QData.path("cifar10/neuralnetvis_cifar10_train_preview100_y.npz"))
    #expect(images.shape == [100, 32, 32, 3] && images.isUInt8)
    let labels = try labelArray.floats().map { Int($0) }
    let per = 32 * 32 * 3
    let pixels = (0..<100).map { Array(images.data[($0 * per)..<(($0 + 1) * per)]) }
    let classNames = (0..<10).map { "c\($0)" }

    let graph = try FloatGraph(tflite: floatBytes)
    let executor = try FloatExecutor(graph: graph)
    let base = Quantizer.Options(labels: classNames)
    let test = Array(50..<100)
    let floatTop1 = try test.map { argmax(try executor.run([base.preprocess(pixels: pixels[$0], channels: 3)])[0]) }
    let official = try RuntimeModel(bytes: try TFLiteImporter.importModel(
      bytes: int8Bytes, options: .init(labels: classNames)).bytes)
    func top1(_ m: RuntimeModel) throws -> [Int] {
      try test.map { try m.classify(pixels: pixels[$0], width: 32, height: 32, channels: 3)[0].index }
    }
    func agreement(_ p: [Int]) -> Int { zip(p, floatTop1).filter { $0 == $1 }.count }
    func correct(_ p: [Int]) -> Int { zip(p, test).filter { $0 == labels[$1] }.count }
    let officialTop1 = try top1(official)
    let agreeOfficial = agreement(officialTop1)
    #expect(correct(floatTop1) >= 35, "the float model classifies raw pixels: \(correct(floatTop1))/50 correct")
    print("ResNet-8 float: \(correct(floatTop1))/50 correct; official int8: agreement \(agreeOfficial)/50, "
          + "\(correct(officialTop1))/50 correct")

    let calib = pixels[0..<50].map { base.preprocess(pixels: $0, channels: 3) }
    for method in CalibrationMethod.allCases {
      var options = base
      options.method = method
      let t0 = Date()
      let result = try Quantizer.quantize(graph, samples: calib, options: options)
      let seconds = Date().timeIntervalSince(t0)
      #expect(result.builder.ops.count == graph.nodes.count)
      let ours = try top1(try RuntimeModel(bytes: result.bytes))
      let agree = agreement(ours)
      print("ResNet-8 \(method): calibrated in \(String(format: "%.2f", seconds)) s; agreement with float \(agree)/50 "
            + "(official int8 \(agreeOfficial)/50); \(correct(ours))/50 correct")
      if method != .mse {
        #expect(agree * 100 >= 98 * 50, "\(method): int8 top-1 agreement \(agree)/50 below 98%")
        #expect(agree >= agreeOfficial, "\(method): ours \(agree)/50 vs official int8 \(agreeOfficial)/50")
      } else {
        // MSE clipping of the residual branches costs a few flips here (46/50 when written).
        #expect(agree * 100 >= 90 * 50, "\(method): int8 top-1 agreement \(agree)/50 below 90%")
      }
    }
  }

  /// DS-CNN "float" (weight-only int8 constants, dequantized on import;
  /// depthwise convolutions): quantizes, and the int8 model follows the
  /// float executor on held-out inputs (smooth random "MFCC-like" fields).
  @Test func dscnnHybridQuantizes() throws {
    let graph = try FloatGraph(tflite: try QData.bytes("models/mlperf_tiny_kws_dscnn_float.tflite"))
    #expect(graph.nodes.filter { $0.kind == .depthwiseConv2D }.count == 4)
    var rng = SplitMix64(seed: 7)
    func sample() -> [Float] {
      let a = Float(rng.next() % 1000) / 1000 * 40 - 20
      let fy = Float(rng.next() % 100) / 100, fx = Float(rng.next() % 100) / 100
      var v = [Float](repeating: 0, count: 490)
      for y in 0..<49 {
        for x in 0..<10 {
          let noise = Float(rng.next() % 1000) / 1000 * 4 - 2
          v[y * 10 + x] = a * sinf(Float(y) * fy + Float(x) * fx) + noise
        }
      }
      return v
    }
    let calib = (0..<16).map { _ in sample() }
    let held = (0..<16).map { _ in sample() }
    let result = try Quantizer.quantize(graph, samples: calib, options: .init(imageInput: false))
    let rt = try RuntimeModel(bytes: result.bytes)
    #expect(rt.opCount == 13)
    let inQ = result.quantization[result.graph.inputs[0]]!
    let executor = try FloatExecutor(graph: graph)
    var agree = 0
    var maxDiff: Float = 0
    for x in held {
      let f = try executor.run([x])[0]
      let q = try rt.run(input: x.map { inQ.quantize($0) })
      let p = q.map { Float(Int($0) + 128) / 256 }
      agree += argmax(p) == argmax(f) ? 1 : 0
      for k in 0..<12 { maxDiff = max(maxDiff, abs(p[k] - f[k])) }
    }
    print("DS-CNN: int8 top-1 agreement with float \(agree)/16, max probability difference \(maxDiff)")
    #expect(agree >= 14)
    #expect(maxDiff < 0.25)  // peaky softmax on synthetic inputs: a few LSB of logit error moves probabilities
  }

  /// Fixed quantization (as ONNX QDQ models give it): activations keep the
  /// given scale / zero point, weights keep their per-channel scales with
  /// int8 values recovered exactly, biases are int32 at input × weight scale;
  /// no calibration samples are needed, and a tensor without fixed
  /// parameters is named when samples are missing.
  @Test func fixedQuantizationIsUsedWithoutCalibration() throws {
    let wq: [Int8] = [127, -3, 40, -128, 0, 5, 1, -1, 2, -100, 99, 7]  // [2, 1, 2, 3] (Cout 2)
    let ws: [Float] = [0.01, 0.002]
    let w = wq.enumerated().map { ws[$0.offset / 6] * Float($0.element) }
    let b: [Float] = [0.25, -0.5]
    let inQ = G.FixedQuantization(scales: [1.0 / 255], zeroPoints: [-128])
    let outQ = G.FixedQuantization(scales: [0.03], zeroPoints: [5])
    var conv = G.Node(kind: .conv2D, inputs: [0, 1, 2], output: 3, origin: "conv")
    conv.padding = .same
    func graph(fixedOutput: Bool) throws -> G {
      try G(tensors: [G.Tensor(name: "x", shape: [1, 3, 3, 3], fixedQuantization: inQ),
                      G.Tensor(name: "w", shape: [2, 1, 2, 3], data: w,
                               fixedQuantization: .init(scales: ws, zeroPoints: [0, 0], axis: 0)),
                      G.Tensor(name: "b", shape: [2], data: b),
                      G.Tensor(name: "y", shape: [1, 3, 3, 2], fixedQuantization: fixedOutput ? outQ : nil)],
            nodes: [conv], inputs: [0], outputs: [3])
    }
    let r = try Quantizer.quantize(try graph(fixedOutput: true), samples: [])
    #expect(r.quantization[0] == ActivationQuant(scale: 1.0 / 255, zeroPoint: -128))
    #expect(r.quantization[3] == ActivationQuant(scale: 0.03, zeroPoint: 5))
    let rm = try RuntimeModel(bytes: r.bytes)
    let wt = try #require((0..<16).map { rm.tensor($0) }.first { $0.name == "w" })  // out of range: empty names
    #expect(wt.perChannel && wt.isConstant && wt.shape == [2, 1, 2, 3])
    let fixed = try #require(try Quantizer.fixedWeights(r.graph.tensors[1], axis: 0, "conv"))
    #expect(fixed.data == wq && fixed.scales == ws && fixed.perChannel)
    // Bias: int32 at input scale × weight scale (as TFLite), independent of any bias scale given.
    #expect(try ModelBuilder.quantizeBias(b, inputScale: 1.0 / 255, weightScales: ws) == [Int32(6375), -63750])
    // Output of the int8 model vs the float executor, within one output quantum.
    var rng = SplitMix64(seed: 11)
    let pixels = (0..<27).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    let x = pixels.map { Float($0) / 255 }
    let yf = try FloatExecutor(graph: r.graph).run([x])[0]
    let yq = try rm.run(input: pixels.map { Int8(Int($0) - 128) }).map { 0.03 * Float(Int32($0) - 5) }
    #expect(zip(yf, yq).allSatisfy { abs($0 - $1) <= 0.03 * 1.01 || ($0 > 0.03 * 122 && $1 >= 0.03 * 121) })
    // Without fixed output parameters, calibration data is required and the tensor is named.
    #expect(throws: FloatGraphError.invalidInput("no calibration samples, and tensor y (1 in all) has no fixed quantization")) {
      try Quantizer.quantize(try graph(fixedOutput: false), samples: [])
    }
    // With samples, the fixed tensors still keep their parameters.
    let r2 = try Quantizer.quantize(try graph(fixedOutput: false), samples: [x])
    #expect(r2.quantization[0] == ActivationQuant(scale: 1.0 / 255, zeroPoint: -128))
    #expect(try Quantizer.fixedWeights(r2.graph.tensors[1], axis: 0, "conv")?.data == wq)
    // Weights with a non-zero zero point or another axis fall back to computed scales.
    var t = r.graph.tensors[1]
    t.fixedQuantization = .init(scales: ws, zeroPoints: [0, 1], axis: 0)
    #expect(try Quantizer.fixedWeights(t, axis: 0, "conv") == nil)
    t.fixedQuantization = .init(scales: [0.1, 0.1, 0.1], zeroPoints: [0, 0, 0], axis: 3)
    #expect(try Quantizer.fixedWeights(t, axis: 0, "conv") == nil)
  }

  @Test func unsupportedOpIsNamed() throws {
    // Patch the float ResNet-8's SOFTMAX operator code into LSTM (16).
    let bytes = try QData.bytes("models/mlperf_tiny_ic_resnet8_float.tflite")
    let model = try TFLiteModel(bytes: bytes)
    let codeIndex = try #require(model.operatorCodes.firstIndex { $0.builtinCode == TFLiteBuiltinOperator.softmax })
    let use = try #require(model.subgraphs[0].operators.firstIndex { $0.opcodeIndex == codeIndex })
    let fb = FlatBuffer(bytes)
    let root = try fb.table(at: Int(try fb.u32(0, "root")), "")
    let code = try #require(try root.vector(1, elementSize: 4)).table(codeIndex)
    var b = bytes
    if let p = try code.field(0, size: 1) { b[p] = 16 }
    if let p = try code.field(3, size: 4) { b[p] = 16; b[p + 1] = 0; b[p + 2] = 0; b[p + 3] = 0 }
    do {
      _ = try FloatGraph(tflite: b)
      Issue.record("an LSTM model was accepted")
    } catch let e as FloatGraphError {
      #expect(e == .unsupported("operator \(use) (LSTM): op LSTM is not supported"), "\(e)")
    }
    // An int8 model is refused, naming the tensor type.
    do {
      _ = try FloatGraph(tflite: try QData.bytes("models/mlperf_tiny_ic_resnet8_int8.tflite"))
      Issue.record("an int8 model built as a float graph")
    } catch let e as FloatGraphError {
      #expect("\(e)".contains("INT8"), "\(e)")
    }
  }
}
