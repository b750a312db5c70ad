// ONNX import: the bundled MNIST models (float and ORT QDQ int8) against ONNX
// Runtime goldens (Tests/Golden/onnx, made by tools/onnx/make_goldens.py),
// quantization of the float model, and bad input.
//
// MNIST images are read from ../shared/data/mnist (or $CNNRT_SHARED_DATA);
// a missing file fails the test with its path.
//
// The two 10,000-image int8 runs use build/lib/libcnnrt.so (the released,
// optimised library; `make test` builds it first) when it is newer than the
// runtime sources, and check it against the in-process runtime on 200
// images; otherwise they run in-process (debug build: about two minutes
// each). $CNNRT_TEST_LIBCNNRT names another libcnnrt.so to use as is.
import CNNRuntime
import Foundation
import Synchronization
import Testing

@testable import CNNTools

#if canImport(Glibc)
import Glibc
#endif

private struct ONNXTestError: Error, CustomStringConvertible {
  let description: String
}

private enum ONNXFiles {
  static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static var shared: URL {
    if let env = ProcessInfo.processInfo.environment["CNNRT_SHARED_DATA"], !env.isEmpty {
      return URL(fileURLWithPath: env)
    }
    return repo.deletingLastPathComponent().appendingPathComponent("shared/data")
  }

  static func read(_ url: URL) throws -> [UInt8] {
    guard let d = FileManager.default.contents(atPath: url.path) else {
      throw ONNXTestError(description: "cannot read \(url.path)")
    }
    return [UInt8](d)
  }

  static func repoFile(_ relative: String) throws -> [UInt8] { try read(repo.appendingPathComponent(relative)) }

  static func sharedPath(_ relative: String) throws -> String {
    let u = shared.appendingPathComponent(relative)
    guard FileManager.default.fileExists(atPath: u.path) else {
      throw ONNXTestError(description: "missing shared test data \(u.path) (set CNNRT_SHARED_DATA or provide ../shared/data)")
    }
    return u.path
  }

  /// The 10,000 MNIST test images (28×28 uint8 each) and labels, read once.
  static let mnistTest: Result<(images: [UInt8], labels: [UInt8]), Error> = Result {
    let x = try IDXArray.load(path: try sharedPath("mnist/t10k-images-idx3-ubyte.gz"))
    let y = try IDXArray.load(path: try sharedPath("mnist/t10k-labels-idx1-ubyte.gz"))
    guard x.shape == [10000, 28, 28], y.shape == [10000] else {
      throw ONNXTestError(description: "unexpected MNIST test shapes \(x.shape) / \(y.shape)")
    }
    return (x.values, y.values)
  }

  static func image(_ images: [UInt8], _ i: Int) -> ArraySlice<UInt8> { images[(i * 784)..<((i + 1) * 784)] }
}

private func argmax<C: Collection>(_ v: C) -> Int where C.Element: Comparable, C.Index == Int {
  var best = v.startIndex
  for i in v.indices where v[i] > v[best] { best = i }
  return best - v.startIndex
}

/// The released C library (build/lib/libcnnrt.so, Embedded Swift, -O), when
/// it exists and is newer than every runtime source (`make test` builds it
/// first): 10,000 MNIST inferences take seconds there instead of minutes in
/// a debug build. $CNNRT_TEST_LIBCNNRT names another build of it (used as is).
private final class ReleaseLibrary: @unchecked Sendable {
  typealias LoadFile = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<OpaquePointer?>, UnsafeMutablePointer<CChar>?, Int) -> Int32
  typealias ContextCreate = @convention(c) (OpaquePointer, UnsafeMutablePointer<OpaquePointer?>) -> Int32
  typealias SetInput = @convention(c) (OpaquePointer, Int32, UnsafePointer<Int8>, Int) -> Int32
  typealias Run = @convention(c) (OpaquePointer) -> Int32
  typealias OutputRaw = @convention(c) (OpaquePointer, Int32, UnsafeMutablePointer<UnsafePointer<Int8>?>, UnsafeMutablePointer<Int>) -> Int32
  typealias Free = @convention(c) (OpaquePointer?) -> Void

  let loadFile: LoadFile, contextCreate: ContextCreate, setInput: SetInput, run: Run, outputRaw: OutputRaw
  let contextFree: Free, modelFree: Free
  let path: String

  static let shared: ReleaseLibrary? = ReleaseLibrary()

  private init?() {
    let root = ONNXFiles.repo
    let forced = ProcessInfo.processInfo.environment["CNNRT_TEST_LIBCNNRT"].flatMap { $0.isEmpty ? nil : $0 }
    let lib = forced ?? root.appendingPathComponent("build/lib/libcnnrt.so").path
    let fm = FileManager.default
    guard let libDate = (try? fm.attributesOfItem(atPath: lib))?[.modificationDate] as? Date else { return nil }
    for dir in forced != nil ? [] : ["Sources/CNNRuntime", "Sources/_CNNKernelsAVX2", "Sources/_CNNKernelsAVX512", "Sources/_CNNRuntimeShims"] {
      let base = root.appendingPathComponent(dir)
      for case let f as String in fm.enumerator(atPath: base.path) ?? FileManager.DirectoryEnumerator() {
        if let d = (try? fm.attributesOfItem(atPath: base.appendingPathComponent(f).path))?[.modificationDate] as? Date,
           d > libDate { return nil }  // stale: sources changed since `make lib`
      }
    }
    guard let h = dlopen(lib, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND) else { return nil }
    func sym<T>(_ name: String, _: T.Type) -> T? { dlsym(h, name).map { unsafeBitCast($0, to: T.self) } }
    guard let a = sym("cnn_model_load_file", LoadFile.self), let b = sym("cnn_context_create", ContextCreate.self),
          let c = sym("cnn_set_input", SetInput.self), let d = sym("cnn_run", Run.self),
          let e = sym("cnn_output_raw", OutputRaw.self), let f = sym("cnn_context_free", Free.self),
          let g = sym("cnn_model_free", Free.self) else { return nil }
    (loadFile, contextCreate, setInput, run, outputRaw, contextFree, modelFree) = (a, b, c, d, e, f, g)
    path = lib
  }

  /// Top-1 (first maximum of int8 output 0) for each int8 input.
  func top1(model bytes: [UInt8], inputs: [[Int8]]) throws -> [Int] {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-test-\(getpid())-\(UUID().uuidString).cnnrt")
    try Data(bytes).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    var model: OpaquePointer? = nil
    var message = [CChar](repeating: 0, count: 256)
    guard loadFile(file.path, &model, &message, message.count) == 0, let model else {
      throw ONNXTestError(description: "libcnnrt.so refused the model: \(String(cString: message))")
    }
    defer { modelFree(model) }
    var ctx: OpaquePointer? = nil
    guard contextCreate(model, &ctx) == 0, let ctx else { throw ONNXTestError(description: "cnn_context_create failed") }
    defer { contextFree(ctx) }
    return try inputs.map { x in
      guard x.withUnsafeBufferPointer({ setInput(ctx, 0, $0.baseAddress!, $0.count) }) == 0, run(ctx) == 0 else {
        throw ONNXTestError(description: "cnn_set_input / cnn_run failed")
      }
      var p: UnsafePointer<Int8>? = nil
      var n = 0
      guard outputRaw(ctx, 0, &p, &n) == 0, let p else { throw ONNXTestError(description: "cnn_output_raw failed") }
      return argmax(UnsafeBufferPointer(start: p, count: n))
    }
  }
}

/// Top-1 class of the quantized model for each MNIST test image, by the int8
/// runtime. Images are quantized with the model's input scale / zero point
/// after the model's preprocessing (pixel × pixelScale). The released
/// library runs all of them when available (checked against the in-process
/// runtime's own image path, cnn_classify, on the first 200); otherwise the
/// in-process (debug) runtime runs all 10,000 on two threads.
private func int8Top1(_ bytes: [UInt8], pixelScale: Float, _ images: [UInt8]) throws -> [Int] {
  let m = try RuntimeModel(bytes: bytes)
  let input = m.inputs[0]
  let lut: [Int8] = (0..<256).map { p in
    let q = (Double(Float(p) * pixelScale) / Double(input.scale)).rounded(.toNearestOrAwayFromZero) + Double(input.zeroPoint)
    return Int8(max(-128, min(127, q)))
  }
  func classify(_ model: RuntimeModel, _ i: Int) throws -> Int {
    try model.classify(pixels: Array(ONNXFiles.image(images, i)), width: 28, height: 28, channels: 1)[0].index
  }
  if let lib = ReleaseLibrary.shared {
    let inputs = (0..<10000).map { i in ONNXFiles.image(images, i).map { lut[Int($0)] } }
    let top1 = try lib.top1(model: bytes, inputs: inputs)
    for i in 0..<200 { #expect(top1[i] == (try classify(m, i)), "image \(i): libcnnrt.so vs in-process runtime") }
    print("int8 MNIST run by \(lib.path)")
    return top1
  }
  print("int8 MNIST run by the in-process runtime (build/lib/libcnnrt.so missing or older than the sources: `make lib` makes this test fast)")
  let results = Mutex<[Int]>([Int](repeating: -1, count: 10000))
  let failure = Mutex<String?>(nil)
  DispatchQueue.concurrentPerform(iterations: 2) { part in
    do {
      let model = try RuntimeModel(bytes: bytes)
      var mine: [(Int, Int)] = []
      for i in stride(from: part, to: 10000, by: 2) {
        mine.append((i, try model.classify(pixels: Array(ONNXFiles.image(images, i)), width: 28, height: 28, channels: 1)[0].index))
      }
      results.withLock { r in for (i, c) in mine { r[i] = c } }
    } catch { failure.withLock { $0 = "\(error)" } }
  }
  if let e = failure.withLock({ $0 }) { throw ONNXTestError(description: e) }
  return results.withLock { $0 }
}

@Suite struct ONNXImportTests {
  // MARK: Float model

  /// The float MNIST model through the float executor matches ONNX Runtime's
  /// probabilities on 20 test images (NCHW → NHWC, BN folding, flatten
  /// permutation of the Gemm weights all have to be right for this).
  @Test func mnistFloatMatchesOnnxRuntime() throws {
    let g = try FloatGraph(onnx: try ONNXFiles.repoFile("models/mnist_float.onnx"))
    #expect(g.tensors[g.inputs[0]].shape == [1, 28, 28, 1])
    #expect(g.nodes.map(\.kind) == [.conv2D, .activation, .conv2D, .activation, .maxPool2D, .conv2D, .activation,
                                    .maxPool2D, .reshape, .fullyConnected, .softmax])
    #expect(g.nodes.filter { $0.kind == .conv2D }.allSatisfy { $0.padding == .same })
    let golden = try ONNXFiles.repoFile("Tests/Golden/onnx/mnist_float_probs_first20.f32")
    #expect(golden.count == 20 * 10 * 4)
    let (images, _) = try ONNXFiles.mnistTest.get()
    let ex = try FloatExecutor(graph: g)
    var maxDiff: Float = 0
    for i in 0..<20 {
      let x = ONNXFiles.image(images, i).map { Float($0) / 255 }
      let y = try ex.run([x])[0]
      for k in 0..<10 {
        let p = 4 * (i * 10 + k)
        let ref = Float(bitPattern: UInt32(golden[p]) | UInt32(golden[p + 1]) << 8 | UInt32(golden[p + 2]) << 16
                          | UInt32(golden[p + 3]) << 24)
        maxDiff = max(maxDiff, abs(y[k] - ref))
      }
    }
    print("ONNX float MNIST: max |p - p_ORT| over 20 images = \(maxDiff)")
    #expect(maxDiff < 2e-5)
  }

  // MARK: QDQ model

  /// models/mnist_qdq.onnx (ORT quantize_static, QDQ, per-channel) imported
  /// with its own scales, quantized without calibration data, and run by the
  /// int8 runtime: top-1 agrees with ORT's int8 run of the QDQ graph on
  /// ≥ 99.5 % of the 10k test images, and every scale in the cnnrt model is
  /// the ONNX one.
  @Test func mnistQDQAgreesWithOnnxRuntimeInt8() throws {
    let onnxBytes = try ONNXFiles.repoFile("models/mnist_qdq.onnx")
    let g = try FloatGraph(onnx: onnxBytes)
    let r = try Quantizer.quantize(g, samples: [], options: .init(pixelScale: 1 / 255))

    // Scales as written by ORT, read independently with the protobuf messages.
    let model = try ONNXModelProto(serializedBytes: onnxBytes)
    var onnxScales: [String: [Float]] = [:]
    var onnxZeroPoints: [String: [Int64]] = [:]
    for t in model.graph.initializer {
      let c = try ONNXConstant(t, what: t.name)
      if t.name.hasSuffix("_scale") { onnxScales[String(t.name.dropLast(6))] = c.floats }
      if t.name.hasSuffix("_zero_point") { onnxZeroPoints[String(t.name.dropLast(11))] = c.ints }
    }
    let rm = try RuntimeModel(bytes: r.bytes)
    // Activations: conv/Gemm outputs and the input.
    var checked = 0
    for name in ["input", "relu1_out", "relu2_out", "relu3_out", "logits"] {
      let t = try #require(r.graph.tensors.firstIndex { $0.name == name }, "tensor \(name)")
      let q = try #require(r.quantization[t])
      #expect(q.scale == onnxScales[name]?.first, "\(name) scale")
      #expect(Int64(q.zeroPoint) == onnxZeroPoints[name]?.first, "\(name) zero point")
      let id = try #require(r.tensorMap[t])
      let s = rm.tensor(id.index)
      #expect(s.scale == onnxScales[name]?.first && Int64(s.zeroPoint) == onnxZeroPoints[name]?.first)
      checked += 1
    }
    // Weights: per-channel scales kept, int8 values identical to ORT's.
    for (wname, gname) in [("ConvBnFusion_W_conv1.weight", "conv1"), ("ConvBnFusion_W_conv2.weight", "conv2"),
                           ("ConvBnFusion_W_conv3.weight", "conv3"), ("fc.weight", "fc")] {
      let t = try #require(g.tensors.firstIndex { $0.name.hasPrefix(wname) && $0.isConstant })
      let fq = try #require(g.tensors[t].fixedQuantization, "\(gname) weights")
      #expect(fq.scales == onnxScales[wname], "\(gname) weight scales")
      let qt = try #require(model.graph.initializer.first { $0.name == wname + "_quantized" })
      let ints = try #require(try ONNXConstant(qt, what: wname).ints)
      let (w, scales, perChannel) = try #require(try Quantizer.fixedWeights(g.tensors[t], axis: gname == "fc" ? 0 : 0, gname))
      #expect(perChannel && scales == fq.scales)
      // ONNX [O, I, KH, KW] vs ours [O, KH, KW, I]: compare as multisets per output channel.
      let O = qt.dims[0], per = ints.count / Int(O)
      for o in 0..<Int(O) {
        #expect(ints[(o * per)..<((o + 1) * per)].map { Int($0) }.sorted() == w[(o * per)..<((o + 1) * per)].map { Int($0) }.sorted())
      }
      checked += 1
    }
    #expect(checked == 9)

    // ORT's QDQ reference semantics (graph optimizations off: DequantizeLinear →
    // float op → QuantizeLinear) and ORT's default fused int8 kernels.
    let reference = try ONNXFiles.repoFile("Tests/Golden/onnx/mnist_qdq_ref_top1_10k.u8")
    let fused = try ONNXFiles.repoFile("Tests/Golden/onnx/mnist_qdq_top1_10k.u8")
    #expect(reference.count == 10000 && fused.count == 10000)
    let (images, labels) = try ONNXFiles.mnistTest.get()
    let top1 = try int8Top1(r.bytes, pixelScale: 1 / 255, images)
    let agreeRef = (0..<10000).filter { top1[$0] == Int(reference[$0]) }.count
    let agreeFused = (0..<10000).filter { top1[$0] == Int(fused[$0]) }.count
    let correct = (0..<10000).filter { top1[$0] == Int(labels[$0]) }.count
    print("ONNX QDQ MNIST: cnnrt int8 top-1 agrees with ORT int8 on \(agreeRef)/10000 (QDQ reference semantics) "
          + "and \(agreeFused)/10000 (ORT's fused int8 kernels); cnnrt int8 accuracy \(Double(correct) / 100) %")
    #expect(agreeRef >= 9950)
    // ORT's own two int8 paths agree on 99.49 % of the images (see
    // Tests/Golden/onnx/provenance.json); we must not be further from its fused path.
    #expect(agreeFused >= 9900)
  }

  // MARK: Float model quantized by cnnrt

  /// models/mnist_float.onnx quantized with 1000 training images (as
  /// tools/mnist/quantize.sh does): the result is the committed
  /// models/mnist.cnnrt byte for byte, and its int8 top-1 on the 10k test set
  /// is within 0.3 points of the float model's.
  @Test func mnistFloatQuantizedAccuracy() throws {
    let g = try FloatGraph(onnx: try ONNXFiles.repoFile("models/mnist_float.onnx"))
    let train = try NPYArray.load(path: try ONNXFiles.sharedPath("mnist/neuralnetvis_mnist_train_first20k_x.npz"))
    #expect(train.isUInt8 && train.shape == [20000, 28, 28])
    let pixelScale = Float("0.003921569")!
    let samples = (0..<1000).map { i in train.data[(i * 784)..<((i + 1) * 784)].map { Float($0) * pixelScale } }
    let labelText = String(decoding: try ONNXFiles.repoFile("models/labels/digits.txt"), as: UTF8.self)
    let r = try Quantizer.quantize(g, samples: samples, options: .init(
      name: "mnist", labels: labelText.split(separator: "\n").map(String.init), pixelScale: pixelScale))
    #expect(r.bytes == (try ONNXFiles.repoFile("models/mnist.cnnrt")),
            "models/mnist.cnnrt is not what the quantizer makes now: run tools/mnist/quantize.sh")
    let (images, labels) = try ONNXFiles.mnistTest.get()
    let floatTop1 = try ONNXFiles.repoFile("Tests/Golden/onnx/mnist_float_top1_10k.u8")
    let floatAcc = Double((0..<10000).filter { floatTop1[$0] == labels[$0] }.count) / 100
    let top1 = try int8Top1(r.bytes, pixelScale: pixelScale, images)
    let int8Acc = Double((0..<10000).filter { top1[$0] == Int(labels[$0]) }.count) / 100
    print("ONNX float MNIST: float top-1 \(floatAcc) % (ORT), cnnrt int8 top-1 \(int8Acc) %")
    #expect(abs(int8Acc - floatAcc) <= 0.3)
  }

  // MARK: Op coverage (tools/onnx/make_op_goldens.py)

  private static func floats(_ b: [UInt8]) -> [Float] {
    stride(from: 0, to: b.count, by: 4).map {
      Float(bitPattern: UInt32(b[$0]) | UInt32(b[$0 + 1]) << 8 | UInt32(b[$0 + 2]) << 16 | UInt32(b[$0 + 3]) << 24)
    }
  }

  /// NCHW [1, C, H, W] values in NHWC order (and back with `inverse`).
  private static func nhwc(_ v: [Float], c: Int, h: Int, w: Int, inverse: Bool = false) -> [Float] {
    var out = v
    for ch in 0..<c { for y in 0..<h { for x in 0..<w {
      let nchw = (ch * h + y) * w + x, nhwc = (y * w + x) * c + ch
      if inverse { out[nchw] = v[nhwc] } else { out[nhwc] = v[nchw] }
    } } }
    return out
  }

  /// Pad folding and pad nodes, depthwise / grouped conv, Clip → ReLU6, Add
  /// and BatchNormalization folded into conv biases, residual Add, SAME and
  /// count_include_pad average pooling, asymmetric max pooling, Flatten +
  /// MatMul + Add (permuted weights), Reshape + Gemm(transB = 0, alpha,
  /// beta), BN after Gemm, auto_pad SAME_UPPER, dilation, Identity, Dropout,
  /// GlobalAveragePool, Softmax, Sigmoid, an NHWC input with Transposes
  /// (tf2onnx style): float executor vs ONNX Runtime.
  @Test(arguments: ["convs", "gap_gemm", "pads", "nhwc_input"])
  func opCaseMatchesOnnxRuntime(_ name: String) throws {
    let dir = "Tests/Golden/onnx/ops/"
    let g = try FloatGraph(onnx: try ONNXFiles.repoFile(dir + name + ".onnx"))
    let x = Self.floats(try ONNXFiles.repoFile(dir + name + ".input.f32"))
    let ref = Self.floats(try ONNXFiles.repoFile(dir + name + ".output.f32"))
    let inShape = g.tensors[g.inputs[0]].shape  // NHWC
    let outShape = g.tensors[g.outputs[0]].shape
    // The ONNX tensors are NCHW except in the NHWC case (whose transposes make them NHWC).
    let nchw = name != "nhwc_input"
    let xIn = nchw ? Self.nhwc(x, c: inShape[3], h: inShape[1], w: inShape[2]) : x
    func toONNX(_ v: [Float]) -> [Float] {
      nchw && outShape.count == 4 ? Self.nhwc(v, c: outShape[3], h: outShape[1], w: outShape[2], inverse: true) : v
    }
    let y = toONNX(try FloatExecutor(graph: g).run([xIn])[0])
    #expect(y.count == ref.count)
    let err = zip(y, ref).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
    print("ONNX op case \(name): \(g.nodes.count) nodes (\(Set(g.nodes.map { "\($0.kind)" }).sorted().joined(separator: ", "))), max rel error \(err)")
    #expect(err < 1e-4)
    // The graph also quantizes (calibrated on 16 random inputs) and the int8
    // runtime stays close to the float result on the golden input.
    var rng = SplitMix64(seed: 7)
    let samples = (0..<16).map { _ in (0..<x.count).map { _ in Float(rng.next() % 1000) / 1000 } }
    let r = try Quantizer.quantize(g, samples: samples, options: .init(imageInput: false))
    let rm = try RuntimeModel(bytes: r.bytes)
    let inQ = ActivationQuant(scale: rm.inputs[0].scale, zeroPoint: rm.inputs[0].zeroPoint)
    let o = rm.outputs[0]
    let yq = toONNX(try rm.run(input: xIn.map { inQ.quantize($0) }).map { o.scale * Float(Int32($0) - o.zeroPoint) })
    let range = max(ref.map(abs).max() ?? 0, 1e-3)
    let qerr = zip(yq, ref).map { abs($0 - $1) }.max() ?? .infinity
    print("ONNX op case \(name) int8: max |int8 − ORT float| = \(qerr) (output range \(range))")
    #expect(qerr <= 0.1 * range)
    switch name {
    case "convs":
      // Pad folded into the first conv as SAME; depthwise pads 1/1 at stride 2 need a pad node;
      // Add and BN folded; residual Add kept.
      #expect(g.nodes.first?.kind == .conv2D && g.nodes.first?.padding == .same)
      #expect(g.nodes.contains { $0.kind == .depthwiseConv2D } && g.nodes.filter { $0.kind == .pad }.count == 2)
      #expect(g.nodes.filter { $0.kind == .add }.count == 1 && g.nodes.contains { $0.activation == .relu6 })
    case "gap_gemm":
      #expect(g.nodes.filter { $0.kind == .fullyConnected }.count == 2 && g.nodes.last?.kind == .softmax)
      #expect(g.nodes.contains { $0.kind == .conv2D && $0.padding == .same && $0.strideH == 2 })
    case "nhwc_input":
      #expect(inShape == [1, 6, 5, 3] && outShape == [1, 6, 5, 4])
      #expect(g.nodes.map(\.kind) == [.conv2D, .activation])
    default:
      #expect(g.nodes.contains { $0.kind == .pad && $0.padValue == 0.5 })
      #expect(g.nodes.contains { $0.kind == .pad && $0.padValue < -1e30 })
    }
  }

  /// An ORT QDQ model with uint8 activations: zero points become int8
  /// (− 128), weights keep their per-channel scales, and the int8 runtime's
  /// output is within two output quanta of ORT's run of the QDQ graph.
  @Test func qdqUInt8ActivationsMatchOnnxRuntime() throws {
    let dir = "Tests/Golden/onnx/ops/"
    let (bytes, model, consts) = try Self.opGolden(dir + "qdq_u8")
    let g = try FloatGraph(onnx: bytes)
    // Every QuantizeLinear's input carries that node's scale and (uint8) zero point − 128.
    var checked = 0
    for n in model.graph.node where n.opType == "QuantizeLinear" {
      let s = try #require(consts[n.input[1]]), z = try #require(consts[n.input[2]])
      #expect(z.dataType == 2, "\(n.input[2]) is uint8")
      let t = try #require(g.tensors.firstIndex { $0.name == n.input[0] }, "\(n.input[0])")
      let q = try #require(g.tensors[t].fixedQuantization?.activation, "\(n.input[0])")
      #expect(q.scale == s.floats[0] && Int64(q.zeroPoint) == z.ints![0] - 128, "\(n.input[0])")
      checked += 1
    }
    #expect(checked == 7)
    let r = try Quantizer.quantize(g, samples: [], options: .init(imageInput: false))
    let rm = try RuntimeModel(bytes: r.bytes)
    let (err, step) = try Self.maxErrorAgainstORT(rm, golden: dir + "qdq_u8")
    print("ONNX QDQ uint8: max |cnnrt − ORT| = \(err) (output scale \(step))")
    #expect(err <= 2 * step + 1e-6)
  }

  /// A golden ONNX file: its bytes, the parsed model and its initializers by name.
  static func opGolden(_ path: String) throws -> ([UInt8], ONNXModelProto, [String: ONNXConstant]) {
    let bytes = try ONNXFiles.repoFile(path + ".onnx")
    let model = try ONNXModelProto(serializedBytes: bytes)
    var consts: [String: ONNXConstant] = [:]
    for t in model.graph.initializer { consts[t.name] = try ONNXConstant(t, what: t.name) }
    return (bytes, model, consts)
  }

  /// Runs `rm` on the golden's [1, 3, 8, 8] input; the largest difference
  /// from ORT's output and the output scale.
  static func maxErrorAgainstORT(_ rm: RuntimeModel, golden: String) throws -> (Float, Float) {
    let x = floats(try ONNXFiles.repoFile(golden + ".input.f32"))
    let ref = floats(try ONNXFiles.repoFile(golden + ".output.f32"))
    let inQ = ActivationQuant(scale: rm.inputs[0].scale, zeroPoint: rm.inputs[0].zeroPoint)
    let out = try rm.run(input: nhwc(x, c: 3, h: 8, w: 8).map { inQ.quantize($0) })
    let o = rm.outputs[0]
    let y = out.map { o.scale * Float(Int32($0) - o.zeroPoint) }
    guard y.count == ref.count else { return (.infinity, o.scale) }
    return (zip(y, ref).map { abs($0 - $1) }.max() ?? .infinity, o.scale)
  }

  /// An ORT QDQ model (int8 activations) where a Concat joins two branches
  /// ORT quantized differently, and a channel shuffle whose rank-5 views
  /// each have a Q/DQ pair: the concatenation requantizes the input whose
  /// parameters differ from its output's (a Quantize op), the shuffle is
  /// still one channel Gather, and the output is within two output quanta
  /// of ORT's run of the QDQ graph.
  @Test func qdqConcatOfDifferentScalesAndShuffleMatchOnnxRuntime() throws {
    let dir = "Tests/Golden/onnx/ops/"
    let (bytes, model, consts) = try Self.opGolden(dir + "qdq_concat")
    // The Concat's two inputs are dequantized with different scales.
    let concat = try #require(model.graph.node.first { $0.opType == "Concat" })
    let dq = concat.input.map { i in model.graph.node.first { $0.opType == "DequantizeLinear" && $0.output[0] == i } }
    var scales: [Float] = []
    for d in dq {
      let node = try #require(d)
      scales.append(try #require(consts[node.input[1]]).floats[0])
    }
    #expect(scales.count == 2 && scales[0] != scales[1], "\(scales)")
    #expect(model.graph.node.filter { $0.opType == "QuantizeLinear" }.count >= 8)

    let g = try FloatGraph(onnx: bytes)
    let r = try Quantizer.quantize(g, samples: [], options: .init(imageInput: false))
    let rm = try RuntimeModel(bytes: r.bytes)
    let types = rm.ops.map(\.typeName)
    #expect(types.filter { $0 == "Quantize" }.count == 1, "\(types)")
    #expect(types.filter { $0 == "Gather" }.count == 1 && !types.contains("Transpose"), "\(types)")
    // The Quantize op writes the concatenation's input at the concatenation's output quantization.
    let cat = try #require(rm.ops.first { $0.typeName == "Concatenation" })
    let catOut = rm.tensor(rm.opOutputIndex(cat.index))
    for i in cat.inputs {
      let t = rm.tensor(i)
      #expect(t.scale == catOut.scale && t.zeroPoint == catOut.zeroPoint)
    }
    let (err, step) = try Self.maxErrorAgainstORT(rm, golden: dir + "qdq_concat")
    print("ONNX QDQ concat + shuffle: max |cnnrt − ORT| = \(err) (output scale \(step))")
    #expect(err <= 2 * step + 1e-6)
  }

  // MARK: Bad input

  private static func tinyModel(op: String, name: String) -> [UInt8] {
    var m = ONNXModelProto()
    m.irVersion = 7
    var opset = ONNXOperatorSetIdProto()
    opset.domain = ""; opset.version = 13
    m.opsetImport = [opset]
    var x = ONNXValueInfoProto()
    x.name = "x"
    var tt = ONNXTypeProto.Tensor()
    tt.elemType = 1
    for d in [1, 3, 4, 4] as [Int64] { var dim = ONNXTensorShapeProto.Dimension(); dim.dimValue = d; tt.shape.dim.append(dim) }
    x.type.tensorType = tt
    var relu = ONNXNodeProto()
    relu.opType = "Relu"; relu.name = "relu_0"; relu.input = ["x"]; relu.output = ["r"]
    var n = ONNXNodeProto()
    n.opType = op; n.name = name; n.input = ["r"]; n.output = ["y"]
    var y = ONNXValueInfoProto()
    y.name = "y"
    m.graph.input = [x]; m.graph.output = [y]; m.graph.node = [relu, n]
    return [UInt8](try! m.serializedBytes() as Data)
  }

  /// x [1,3,4,4] → Relu → ReduceMean(axes, keepdims): the mean over H and W
  /// becomes the H × W mean node (keepdims 1: [1,1,1,3] NHWC; 0: [1,3]).
  private static func reduceMeanModel(axes: [Int64], keepdims: Int64) -> [UInt8] {
    var m = ONNXModelProto()
    m.graph = (try? ONNXModelProto(serializedBytes: tinyModel(op: "ReduceMean", name: "rm")))!.graph
    m.irVersion = 7
    var opset = ONNXOperatorSetIdProto()
    opset.domain = ""; opset.version = 13
    m.opsetImport = [opset]
    var a = ONNXAttributeProto()
    a.name = "axes"; a.type = .ints; a.ints = axes
    var k = ONNXAttributeProto()
    k.name = "keepdims"; k.type = .int; k.i = keepdims
    m.graph.node[1].attribute = [a, k]
    return [UInt8](try! m.serializedBytes() as Data)
  }

  @Test(arguments: [([2, 3], 1), ([-1, -2], 0)] as [([Int64], Int64)])
  func reduceMeanOverHWIsTheGlobalMean(axes: [Int64], keepdims: Int64) throws {
    let g = try FloatGraph(onnx: Self.reduceMeanModel(axes: axes, keepdims: keepdims))
    #expect(g.nodes.map(\.kind) == [.activation, .meanHW])
    #expect(g.tensors[g.outputs[0]].shape == (keepdims == 1 ? [1, 1, 1, 3] : [1, 3]))
    // NHWC input [1,4,4,3]: channel c of pixel p is p − 7 + 5c (some negative, cut by the ReLU).
    func value(pixel: Int, channel: Int) -> Float { Float(pixel - 7 + 5 * channel) }
    var x: [Float] = []
    for k in 0..<48 { x.append(value(pixel: k / 3, channel: k % 3)) }
    let y = try FloatExecutor(graph: g).run([x])[0]
    var want: [Float] = []
    for c in 0..<3 {
      var sum: Float = 0
      for p in 0..<16 { sum += max(0, value(pixel: p, channel: c)) }
      want.append(sum / 16)
    }
    #expect(y == want)
  }

  /// x [1,3,4,4] → MaxPool(kernel k×k, stride s, ceil_mode 1).
  private static func ceilPoolModel(op: String = "MaxPool", k: Int64, s: Int64) -> [UInt8] {
    var m = (try? ONNXModelProto(serializedBytes: tinyModel(op: op, name: "pool")))!
    func ints(_ name: String, _ v: [Int64]) -> ONNXAttributeProto {
      var a = ONNXAttributeProto()
      a.name = name; a.type = .ints; a.ints = v
      return a
    }
    var c = ONNXAttributeProto()
    c.name = "ceil_mode"; c.type = .int; c.i = 1
    var pool = m.graph.node[1]
    pool.attribute = [ints("kernel_shape", [k, k]), ints("strides", [s, s]), c]
    pool.input = ["x"]
    m.graph.node = [pool]
    return [UInt8](try! m.serializedBytes() as Data)
  }

  /// ceil_mode = 1 where it changes the size: the last window hangs over the
  /// end and sees only the input rows/columns inside it (ONNX Runtime's and
  /// PyTorch's output), in float and after quantization.
  @Test(arguments: [(3, 2, [[0, 3], [2, 4]]), (2, 3, [[0, 2], [3, 4]])] as [(Int, Int, [[Int]])])
  func maxPoolCeilModeAddsTheHangingWindow(k: Int, s: Int, windows: [[Int]]) throws {
    let g = try FloatGraph(onnx: Self.ceilPoolModel(k: Int64(k), s: Int64(s)))
    let out = windows.count
    #expect(g.tensors[g.outputs[0]].shape == [1, out, out, 3])
    // NHWC [1,4,4,3]: value(y, x, c) = ((y·4 + x)·7 + 5c) mod 11 − 4.
    func value(_ y: Int, _ x: Int, _ c: Int) -> Float { Float(((y * 4 + x) * 7 + 5 * c) % 11 - 4) }
    var input: [Float] = []
    for y in 0..<4 { for x in 0..<4 { for c in 0..<3 { input.append(value(y, x, c)) } } }
    var want: [Float] = []
    for oy in 0..<out { for ox in 0..<out { for c in 0..<3 {
      var m = -Float.infinity
      for y in windows[oy][0]..<windows[oy][1] { for x in windows[ox][0]..<windows[ox][1] { m = max(m, value(y, x, c)) } }
      want.append(m)
    } } }
    #expect(try FloatExecutor(graph: g).run([input])[0] == want)
    // Quantized: max pooling is exact on the quantized input.
    let r = try Quantizer.quantize(g, samples: [input], options: .init(imageInput: false))
    let rm = try RuntimeModel(bytes: r.bytes)
    let inQ = ActivationQuant(scale: rm.inputs[0].scale, zeroPoint: rm.inputs[0].zeroPoint)
    let o = rm.outputs[0]
    let y = try rm.run(input: input.map { inQ.quantize($0) }).map { o.scale * Float(Int32($0) - o.zeroPoint) }
    let err = zip(y, want).map { abs($0 - $1) }.max() ?? .infinity
    #expect(err <= o.scale, "max |int8 − float| \(err), output scale \(o.scale)")
  }

  @Test func averagePoolCeilModeThatChangesTheSizeIsRefused() throws {
    #expect(throws: FloatGraphError.self) { try FloatGraph(onnx: Self.ceilPoolModel(op: "AveragePool", k: 3, s: 2)) }
    // Where the windows tile the input, ceil_mode changes nothing and imports.
    #expect(try FloatGraph(onnx: Self.ceilPoolModel(op: "AveragePool", k: 2, s: 2)).nodes.map(\.kind) == [.averagePool2D])
  }

  /// ReduceMean over axes other than H and W is the general mean over the
  /// NHWC-stored axes (C = stored axis 3); keepdims 0 that would reorder the
  /// kept NCHW axes is refused naming the node.
  @Test func reduceMeanOverOtherAxesIsTheGeneralMean() throws {
    let c = try FloatGraph(onnx: Self.reduceMeanModel(axes: [1], keepdims: 1))
    #expect(c.nodes.map(\.kind) == [.activation, .reduceMean])
    #expect(c.nodes[1].ints == [3])
    let ch = try FloatGraph(onnx: Self.reduceMeanModel(axes: [1, 2], keepdims: 1))
    #expect(ch.nodes[1].ints == [1, 3])
    do {
      _ = try FloatGraph(onnx: Self.reduceMeanModel(axes: [2], keepdims: 0))
      Issue.record("ReduceMean over H with keepdims 0 accepted")
    } catch {
      #expect("\(error)".contains("ReduceMean over axes [2]") && "\(error)".contains("'rm'"), "\(error)")
    }
  }

  @Test func unsupportedOpNamesOpAndNode() throws {
    do {
      _ = try FloatGraph(onnx: Self.tinyModel(op: "LSTM", name: "lstm_1"))
      Issue.record("LSTM accepted")
    } catch let e as FloatGraphError {
      #expect(e == .unsupported("unsupported ONNX op 'LSTM' (node 1, 'lstm_1')"))
      #expect("\(e)".contains("'LSTM' (node 1, 'lstm_1')"))
    }
    // ONNX Runtime's QOperator format: the message says what to give instead.
    do {
      _ = try FloatGraph(onnx: Self.tinyModel(op: "QLinearConv", name: "conv_quant"))
      Issue.record("QLinearConv accepted")
    } catch let e as FloatGraphError {
      #expect("\(e)".contains("'QLinearConv' (node 1, 'conv_quant'); this is ONNX Runtime's QOperator"))
      #expect("\(e)".contains("quant_format=QuantFormat.QDQ"))
    }
    // The same graph with a supported op imports.
    let g = try FloatGraph(onnx: Self.tinyModel(op: "Sigmoid", name: "sig"))
    #expect(g.nodes.map(\.kind) == [.activation, .logistic])
    #expect(g.tensors[g.outputs[0]].shape == [1, 4, 4, 3])
  }

  @Test func truncatedAndCorruptBytesThrow() throws {
    let bytes = try ONNXFiles.repoFile("models/mnist_float.onnx")
    for cut in [1, 2, 10, 100, bytes.count / 2, bytes.count - 1] {
      #expect(throws: FloatGraphError.self, "truncated to \(cut) bytes") { try FloatGraph(onnx: Array(bytes[0..<cut])) }
    }
    #expect(throws: FloatGraphError.self) { try FloatGraph(onnx: []) }
    #expect(throws: FloatGraphError.self) { try FloatGraph(onnx: [UInt8](repeating: 0xFF, count: 64)) }
    // A length prefix running past the end (graph = field 7, length 2^28).
    #expect(throws: FloatGraphError.self) { try FloatGraph(onnx: [0x08, 0x07, 0x3A, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00]) }
    // A TFLite file is not ONNX.
    var tfl = [UInt8](repeating: 0, count: 32)
    tfl[4...7] = ArraySlice("TFL3".utf8)
    #expect(!FloatGraph.looksLikeONNX(tfl) && FloatGraph.looksLikeONNX(bytes))
    // Random single-byte corruptions: a clean error or a valid graph, never a trap.
    var rng = SplitMix64(seed: 3)
    var threw = 0
    for _ in 0..<60 {
      var b = bytes
      for _ in 0..<4 { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
      do { _ = try FloatGraph(onnx: b) } catch is FloatGraphError { threw += 1 }
    }
    // The same on a small model (more of its bytes are structure): 400 mutations.
    let small = try ONNXFiles.repoFile("Tests/Golden/onnx/ops/convs.onnx")
    var threwSmall = 0
    for k in 0..<400 {
      var b = small
      for _ in 0..<(1 + k % 3) { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
      do { _ = try FloatExecutor(graph: try FloatGraph(onnx: b)) } catch is FloatGraphError { threwSmall += 1 }
    }
    print("ONNX corruption: \(threw)/60 corrupted MNIST models and \(threwSmall)/400 small ones refused")
  }
}
