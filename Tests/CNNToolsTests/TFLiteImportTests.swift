// TFLite import: the MLPerf Tiny int8 models (ResNet-8, DS-CNN) import with
// every op, shape, scale, zero point and weight byte as in the TFLite file,
// and run through the C API with the expected accuracy (byte equality with
// TFLM is TFLMGoldenTests' job). Malformed files (truncated, out-of-range
// indices, flipped bytes, unsupported ops) give errors, never crashes.
//
// Data comes from ../shared/data (or $CNNRT_SHARED_DATA); a missing file
// fails the test with its path.
import CNNRuntime
import _CNNRuntimeShims
import Foundation
import Testing

@testable import CNNTools

// MARK: - Shared data

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

private struct TestDataError: Error, CustomStringConvertible {
  let description: String
}

private enum SharedData {
  static var root: URL {
    if let env = ProcessInfo.processInfo.environment["CNNRT_SHARED_DATA"], !env.isEmpty {
      return URL(fileURLWithPath: env)
    }
    return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
  }

  static func url(_ relative: String) throws -> URL {
    let u = root.appendingPathComponent(relative)
    guard FileManager.default.fileExists(atPath: u.path) else {
      throw TestDataError(description: "missing shared test data \(u.path) (set CNNRT_SHARED_DATA or provide ../shared/data)")
    }
    return u
  }

  static func bytes(_ relative: String) throws -> [UInt8] {
    let u = try url(relative)
    guard let d = FileManager.default.contents(atPath: u.path) else {
      throw TestDataError(description: "cannot read \(u.path)")
    }
    return [UInt8](d)
  }

  static let resnet8 = "models/mlperf_tiny_ic_resnet8_int8.tflite"
  static let dscnn = "models/mlperf_tiny_kws_dscnn_int8.tflite"
}

private func labels(_ file: String) throws -> [String] {
  let text = try String(contentsOf: packageRoot.appendingPathComponent("models/labels/\(file)"), encoding: .utf8)
  return text.split(whereSeparator: \.isNewline).map(String.init)
}

private typealias Rng = SplitMix64

// .npz files are read with CNNTools' NPZ (Sources/CNNTools/Data/NPY.swift).

// MARK: - Helpers

/// The cnnrt op type name the runtime reports for a TFLite builtin.
private let expectedTypeName: [String: String] = [
  "CONV_2D": "Conv2D", "DEPTHWISE_CONV_2D": "DepthwiseConv2D", "FULLY_CONNECTED": "FullyConnected",
  "ADD": "Add", "AVERAGE_POOL_2D": "AveragePool2D", "MAX_POOL_2D": "MaxPool2D", "RESHAPE": "Reshape",
  "SOFTMAX": "Softmax", "LOGISTIC": "Logistic",
]

/// Imports `file` and checks the result against the TFLite graph: one cnnrt
/// op per TFLite operator with the matching type, every mapped activation with
/// the TFLite name, shape, scale and zero point, every constant with the same
/// bytes, scales and axis. Returns the import result and the parsed model.
private func importAndCheckGraph(_ file: String, labelFile: String) throws
  -> (TFLiteImporter.ImportResult, TFLiteModel, RuntimeModel) {
  let bytes = try SharedData.bytes(file)
  let tfl = try TFLiteModel(bytes: bytes)
  let g = tfl.subgraphs[0]
  let result = try TFLiteImporter.importModel(bytes: bytes, options: .init(name: file, labels: try labels(labelFile)))
  let rt = try RuntimeModel(bytes: result.bytes)

  #expect(result.ops.count == g.operators.count)
  #expect(rt.opCount == g.operators.count, "every TFLite operator becomes one cnnrt op")
  let rtOps = rt.ops
  for (i, op) in g.operators.enumerated() {
    let name = tfl.operatorName(op)
    #expect(result.ops[i].builtinName == name)
    #expect(result.ops[i].cnnrtIndex == i)
    if i < rtOps.count {
      #expect(rtOps[i].typeName == expectedTypeName[name], "op \(i): \(name) became \(rtOps[i].typeName)")
      #expect(rtOps[i].outputShape == g.tensors[op.outputs[0]].shape)
      #expect(rtOps[i].outputName == g.tensors[op.outputs[0]].name)
    }
  }
  for (t, c) in result.tensorMap {
    let src = g.tensors[t]
    let dst = rt.tensor(c)
    let built = result.builder.tensors[c]
    #expect(dst.name == src.name, "tensor \(t)")
    #expect(built.shape == src.shape, "tensor \(t) \(src.name)")
    let q = try #require(src.quantization)
    if src.type == .int8 {
      #expect(built.scales == q.scale, "tensor \(t) \(src.name): scales are copied bit for bit")
      #expect(Int64(built.zeroPoint) == (q.zeroPoint.first ?? 0))
      #expect(dst.scale == q.scale[0])
      if q.scale.count > 1 { #expect(built.quantAxis == q.quantizedDimension && built.quantKind == .perChannel) }
    }
    if let data = try tfl.constantData(of: src) {
      #expect(built.data.map { $0[...] } == data, "tensor \(t) \(src.name): constant bytes are copied")
    }
  }
  #expect(rt.inputs.count == 1 && rt.outputs.count == 1)
  return (result, tfl, rt)
}

/// Every model output after running on raw int8 input.
private func runAll(_ rt: RuntimeModel, input: [Int8], outputs: Int) throws -> [[Int8]] {
  try (0..<outputs).map { try rt.run(input: input, output: $0) }
}

private func isValidSoftmax(_ q: [Int8]) -> Bool {
  let probs = q.map { (Float(Int32($0)) + 128) / 256 }
  let sum = probs.reduce(0, +)
  return probs.allSatisfy { $0 >= 0 && $0 <= 1 } && abs(sum - 1) <= Float(q.count) / 256 + 0.01
}

private func argmax(_ q: ArraySlice<Int8>) -> Int {
  var best = q.startIndex
  for k in q.indices where q[k] > q[best] { best = k }
  return best - q.startIndex
}


// MARK: - A small TFLite writer (tests only)

/// A FlatBuffer value: scalars, tables (field id → value), vectors, strings.
private indirect enum FB {
  case i8(Int8), u8(UInt8), i32(Int32), u32(UInt32), f32(Float)
  case table([Int: FB])
  case vI32([Int32]), vI64([Int64]), vF32([Float]), vU8([UInt8]), vTables([[Int: FB]]), string(String)

  var inlineSize: Int {
    switch self {
    case .i8, .u8: return 1
    default: return 4
    }
  }
}

/// Writes FlatBuffers front to back: each table is followed by its children,
/// so every reference points forward; scalars are naturally aligned.
private struct FBWriter {
  var b: [UInt8] = []

  mutating func pad(to a: Int) { while b.count % a != 0 { b.append(0) } }
  mutating func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
  mutating func set<T: FixedWidthInteger>(_ at: Int, _ v: T) {
    withUnsafeBytes(of: v.littleEndian) { for (k, x) in $0.enumerated() { b[at + k] = x } }
  }
  mutating func link(_ field: Int, _ target: Int) { set(field, UInt32(target - field)) }

  mutating func root(_ fields: [Int: FB]) -> [UInt8] {
    b = [0, 0, 0, 0] + Array("TFL3".utf8)
    link(0, table(fields))
    return b
  }

  mutating func table(_ fields: [Int: FB]) -> Int {
    let ids = fields.keys.sorted()
    var offsets: [Int: Int] = [:]
    var off = 4
    for id in ids.sorted(by: { (fields[$0]!.inlineSize, $1) > (fields[$1]!.inlineSize, $0) }) {
      let size = fields[id]!.inlineSize
      off = (off + size - 1) / size * size
      offsets[id] = off
      off += size
    }
    pad(to: 4)
    let vtable = b.count
    let slots = (ids.last ?? -1) + 1
    put(UInt16(4 + 2 * slots)); put(UInt16(off))
    for id in 0..<slots { put(UInt16(offsets[id] ?? 0)) }
    pad(to: 8)
    let t = b.count
    b += [UInt8](repeating: 0, count: off)
    set(t, Int32(t - vtable))
    for id in ids {
      let p = t + offsets[id]!
      switch fields[id]! {
      case .i8(let v): set(p, v)
      case .u8(let v): set(p, v)
      case .i32(let v): set(p, v)
      case .u32(let v): set(p, v)
      case .f32(let v): set(p, v.bitPattern)
      default: break
      }
    }
    for id in ids {
      let p = t + offsets[id]!
      switch fields[id]! {
      case .table(let f): link(p, table(f))
      case .vI32(let v): link(p, vector(v.count, align: 4)); for x in v { put(x) }
      case .vI64(let v): link(p, vector(v.count, align: 8)); for x in v { put(x) }
      case .vF32(let v): link(p, vector(v.count, align: 4)); for x in v { put(x.bitPattern) }
      case .vU8(let v): link(p, vector(v.count, align: 16)); b += v
      case .string(let s): link(p, vector(s.utf8.count, align: 4)); b += Array(s.utf8) + [0]
      case .vTables(let ts):
        link(p, vector(ts.count, align: 4))
        let first = b.count
        b += [UInt8](repeating: 0, count: 4 * ts.count)
        for (k, f) in ts.enumerated() { link(first + 4 * k, table(f)) }
      default: break
      }
    }
    return t
  }

  /// Writes a vector length so that the elements start `align`-aligned.
  mutating func vector(_ count: Int, align: Int) -> Int {
    while (b.count + 4) % max(align, 4) != 0 { b.append(0) }
    let p = b.count
    put(UInt32(count))
    return p
  }
}

/// A TFLite subgraph built in code (type codes: FLOAT32 0, INT32 2, UINT8 3, INT8 9).
private struct TFLiteGraph {
  var codes: [Int32] = []
  var tensors: [[Int: FB]] = []
  var buffers: [[Int: FB]] = [[:]]
  var ops: [[Int: FB]] = []
  var inputs: [Int32] = []
  var outputs: [Int32] = []
  var rng = Rng(seed: 99)

  @discardableResult
  mutating func tensor(_ shape: [Int], type: Int8 = 9, scale: [Float]? = nil, zeroPoint: [Int64]? = nil,
                       axis: Int32 = 0, data: [UInt8]? = nil, name: String) -> Int32 {
    var buffer: UInt32 = 0
    if let data {
      buffers.append([0: .vU8(data)])
      buffer = UInt32(buffers.count - 1)
    }
    var t: [Int: FB] = [0: .vI32(shape.map { Int32($0) }), 1: .i8(type), 2: .u32(buffer), 3: .string(name)]
    if let scale {
      t[4] = .table([2: .vF32(scale), 3: .vI64(zeroPoint ?? [Int64](repeating: 0, count: scale.count)), 6: .i32(axis)])
    }
    tensors.append(t)
    return Int32(tensors.count - 1)
  }

  mutating func act(_ shape: [Int], _ scale: Float, _ zp: Int64, _ name: String) -> Int32 {
    tensor(shape, scale: [scale], zeroPoint: [zp], name: name)
  }

  /// Random int8 weights; per-channel scales along `axis` when `channels` > 0.
  mutating func weights(_ shape: [Int], axis: Int32, perChannel: Bool = true, zeroPoint: Int64 = 0, _ name: String) -> Int32 {
    let n = shape.reduce(1, *)
    let values = (0..<n).map { _ in UInt8(bitPattern: Int8(Int(rng.next() % 255) - 127)) }
    let channels = perChannel ? shape[Int(axis)] : 1
    let scales = (0..<channels).map { _ in Float(0.002 + Double(rng.next() % 1000) / 50_000) }
    return tensor(shape, scale: scales, zeroPoint: [Int64](repeating: zeroPoint, count: channels), axis: axis,
                  data: values, name: name)
  }

  mutating func bias(_ n: Int, _ name: String) -> Int32 {
    let v = (0..<n).map { _ in Int32(Int(rng.next() % 4001) - 2000) }
    return tensor([n], type: 2, data: v.flatMap { x in (0..<4).map { UInt8(truncatingIfNeeded: UInt32(bitPattern: x) >> (8 * $0)) } },
                  name: name)
  }

  mutating func int32s(_ v: [Int32], shape: [Int], _ name: String) -> Int32 {
    tensor(shape, type: 2, data: v.flatMap { x in (0..<4).map { UInt8(truncatingIfNeeded: UInt32(bitPattern: x) >> (8 * $0)) } },
           name: name)
  }

  mutating func op(_ code: Int32, _ ins: [Int32], _ outs: [Int32], _ optionsType: UInt8 = 0, _ options: [Int: FB] = [:]) {
    if !codes.contains(code) { codes.append(code) }
    var o: [Int: FB] = [0: .u32(UInt32(codes.firstIndex(of: code)!)), 1: .vI32(ins), 2: .vI32(outs)]
    if optionsType != 0 { o[3] = .u8(optionsType); o[4] = .table(options) }
    ops.append(o)
  }

  func serialize() -> [UInt8] {
    let opcodes: [[Int: FB]] = codes.map { [0: .i8(Int8(min($0, 127))), 2: .i32(1), 3: .i32($0)] }
    let subgraph: [Int: FB] = [0: .vTables(tensors), 1: .vI32(inputs), 2: .vI32(outputs), 3: .vTables(ops), 4: .string("main")]
    var w = FBWriter()
    return w.root([0: .u32(3), 1: .vTables(opcodes), 2: .vTables([subgraph]), 3: .string("crafted"), 4: .vTables(buffers)])
  }

  // Option tables (BuiltinOptions union type, fields by id).
  static func conv(_ pad: Int8 = 1, stride: Int32 = 1, act: Int8 = 0, dilation: Int32 = 1) -> (UInt8, [Int: FB]) {
    (1, [0: .i8(pad), 1: .i32(stride), 2: .i32(stride), 3: .i8(act), 4: .i32(dilation), 5: .i32(dilation)])
  }
  static func depthwise(_ pad: Int8 = 1, stride: Int32 = 1, multiplier: Int32, act: Int8 = 0) -> (UInt8, [Int: FB]) {
    (2, [0: .i8(pad), 1: .i32(stride), 2: .i32(stride), 3: .i32(multiplier), 4: .i8(act), 5: .i32(1), 6: .i32(1)])
  }
  static func pool(_ pad: Int8, stride: Int32, filter: Int32, act: Int8 = 0) -> (UInt8, [Int: FB]) {
    (5, [0: .i8(pad), 1: .i32(stride), 2: .i32(stride), 3: .i32(filter), 4: .i32(filter), 5: .i8(act)])
  }
  static func fc(act: Int8 = 0) -> (UInt8, [Int: FB]) { (8, [0: .i8(act)]) }
  static func add(act: Int8 = 0) -> (UInt8, [Int: FB]) { (11, [0: .i8(act)]) }
  static let softmax: (UInt8, [Int: FB]) = (9, [0: .f32(1)])
}

private extension TFLiteGraph {
  mutating func op(_ code: Int32, _ ins: [Int32], _ outs: [Int32], _ options: (UInt8, [Int: FB])) {
    op(code, ins, outs, options.0, options.1)
  }
}

/// Every op the importer supports, in one model. Here: structure and a run. (Written
/// out with CNNRT_TFLITE_DUMP=DIR and run through tools/tflm/tflm_run.py, cnnrt matched
/// TFLM on every byte of every intermediate tensor.)
/// float in → QUANTIZE → PAD → grouped dilated CONV_2D (RELU6) → DEPTHWISE ×2 (RELU)
/// → PADV2 → MAX_POOL_2D → MEAN (keep_dims false, requantized) → two FULLY_CONNECTED
/// (per channel / per tensor) → ADD → RESHAPE → SQUEEZE → SOFTMAX (int8 out);
/// ADD → LOGISTIC → DEQUANTIZE (float out).
private func kitchenSinkModel() -> [UInt8] {
  typealias B = TFLiteBuiltinOperator
  var g = TFLiteGraph()
  let x = g.tensor([1, 6, 6, 4], type: 0, name: "image")
  let q = g.act([1, 6, 6, 4], 0.02, -3, "image_int8")
  g.op(B.quantize, [x], [q])
  let padded = g.act([1, 8, 8, 4], 0.02, -3, "padded")
  g.op(B.pad, [q, g.int32s([0, 0, 1, 1, 2, 0, 0, 0], shape: [4, 2], "paddings")], [padded], 22, [:])
  let conv = g.act([1, 4, 4, 6], 0.05, -128, "grouped_conv")
  g.op(B.conv2D, [padded, g.weights([6, 3, 3, 2], axis: 0, "conv_w"), g.bias(6, "conv_b")], [conv],
       TFLiteGraph.conv(1, act: 3, dilation: 2))
  let dw = g.act([1, 4, 4, 12], 0.04, -128, "depthwise")
  g.op(B.depthwiseConv2D, [conv, g.weights([1, 3, 3, 12], axis: 3, "dw_w"), g.bias(12, "dw_b")], [dw],
       TFLiteGraph.depthwise(0, multiplier: 2, act: 1))
  let padded2 = g.act([1, 5, 5, 12], 0.04, -128, "padded_v2")
  let padValue = g.tensor([1], scale: [0.04], zeroPoint: [-128], data: [UInt8(bitPattern: -5)], name: "pad_value")
  g.op(B.padV2, [dw, g.int32s([0, 0, 0, 1, 1, 0, 0, 0], shape: [4, 2], "paddings2"), padValue], [padded2])
  let pooled = g.act([1, 3, 3, 12], 0.04, -128, "maxpool")
  g.op(B.maxPool2D, [padded2], [pooled], TFLiteGraph.pool(0, stride: 2, filter: 2))
  let mean = g.act([1, 12], 0.03, 5, "mean")
  g.op(B.mean, [pooled, g.int32s([1, 2], shape: [2], "axes")], [mean], 27, [0: .u8(0)])
  let fc1 = g.act([1, 5], 0.8, 2, "fc_per_channel")
  g.op(B.fullyConnected, [mean, g.weights([5, 12], axis: 0, "fc1_w"), g.bias(5, "fc1_b")], [fc1], TFLiteGraph.fc())
  let fc2 = g.act([1, 5], 0.6, -7, "fc_per_tensor")
  g.op(B.fullyConnected, [mean, g.weights([5, 12], axis: 0, perChannel: false, "fc2_w"), -1], [fc2], TFLiteGraph.fc())
  let sum = g.act([1, 5], 1.5, -10, "sum")
  g.op(B.add, [fc1, fc2], [sum], TFLiteGraph.add())
  let r = g.act([1, 1, 5], 1.5, -10, "reshaped")
  g.op(B.reshape, [sum, g.int32s([1, 1, 5], shape: [3], "new_shape")], [r], 17, [0: .vI32([1, 1, 5])])
  let sq = g.act([1, 5], 1.5, -10, "squeezed")
  g.op(B.squeeze, [r], [sq], 30, [0: .vI32([1])])
  let probs = g.act([1, 5], 1.0 / 256, -128, "probs")
  g.op(B.softmax, [sq], [probs], TFLiteGraph.softmax)
  let sig = g.act([1, 5], 1.0 / 256, -128, "sigmoid")
  g.op(B.logistic, [sum], [sig])
  let sigFloat = g.tensor([1, 5], type: 0, name: "sigmoid_float")
  g.op(B.dequantize, [sig], [sigFloat])
  g.inputs = [x]
  g.outputs = [probs, sigFloat]
  return g.serialize()
}

/// x [1,4,4,2] int8 → one op made by `body` → model output.
private func tinyModel(_ body: (inout TFLiteGraph, Int32) -> Int32) -> [UInt8] {
  var g = TFLiteGraph()
  let x = g.act([1, 4, 4, 2], 0.05, 0, "x")
  g.inputs = [x]
  g.outputs = [body(&g, x)]
  return g.serialize()
}

private func importError(_ bytes: [UInt8]) -> String {
  do {
    _ = try TFLiteImporter.importModel(bytes: bytes)
    return "imported"
  } catch {
    return "\(error)"
  }
}

// MARK: - Tests

@Suite struct TFLiteImportTests {
  @Test func resnet8_imports_with_every_op_shape_scale_and_weight_of_the_tflite_file() throws {
    let (result, tfl, rt) = try importAndCheckGraph(SharedData.resnet8, labelFile: "cifar10.txt")
    let names = tfl.subgraphs[0].operators.map { tfl.operatorName($0) }
    #expect(names.filter { $0 == "CONV_2D" }.count == 9)
    #expect(names.filter { $0 == "ADD" }.count == 3)
    #expect(Set(names) == ["CONV_2D", "ADD", "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"])
    #expect(rt.inputs[0].shape == [1, 32, 32, 3] && rt.inputs[0].scale == 1 && rt.inputs[0].zeroPoint == -128)
    #expect(rt.outputs[0].shape == [1, 10] && rt.outputs[0].scale == 1.0 / 256 && rt.outputs[0].zeroPoint == -128)
    #expect(rt.labels == (try labels("cifar10.txt")))
    // Per-channel conv filters (the FC weights are per tensor in this file).
    let perChannel = result.builder.tensors.filter { $0.quantKind == .perChannel }
    #expect(perChannel.count == 9)
    #expect(perChannel.allSatisfy { $0.quantAxis == 0 && $0.scales.count == $0.shape[0] })
    let m = try #require(result.metadata)
    #expect(m.imageWidth == 32 && m.imageHeight == 32 && m.imageChannels == 3)
    #expect(m.pixelScale == 1 && m.mean == [0, 0, 0] && m.std == [1, 1, 1])
  }

  @Test func dscnn_imports_with_every_op_shape_scale_and_weight_of_the_tflite_file() throws {
    let (_, tfl, rt) = try importAndCheckGraph(SharedData.dscnn, labelFile: "speech_commands12.txt")
    let names = tfl.subgraphs[0].operators.map { tfl.operatorName($0) }
    #expect(names.filter { $0 == "CONV_2D" }.count == 5)
    #expect(names.filter { $0 == "DEPTHWISE_CONV_2D" }.count == 4)
    #expect(Set(names) == ["CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"])
    #expect(rt.inputs[0].shape == [1, 49, 10, 1] && rt.inputs[0].zeroPoint == 83)
    #expect(abs(rt.inputs[0].scale - 0.5847029) < 1e-6)
    #expect(rt.outputs[0].shape == [1, 12] && rt.outputs[0].scale == 1.0 / 256 && rt.outputs[0].zeroPoint == -128)
  }

  @Test func imported_models_give_valid_softmax_outputs() throws {
    for file in [SharedData.resnet8, SharedData.dscnn] {
      let result = try TFLiteImporter.importModel(bytes: try SharedData.bytes(file))
      let rt = try RuntimeModel(bytes: result.bytes)
      var rng = Rng(seed: 42)
      let n = rt.inputs[0].shape.reduce(1, *)
      for _ in 0..<8 {
        let out = try rt.run(input: rng.int8s(n))
        #expect(isValidSoftmax(out), "\(file): \(out)")
      }
    }
  }

  @Test func resnet8_preprocessing_maps_every_pixel_to_pixel_minus_128() throws {
    // The input is also made an output so that the arena planner keeps its bytes.
    let bytes = try SharedData.bytes(SharedData.resnet8)
    let inputIndex = try TFLiteModel(bytes: bytes).subgraphs[0].inputs[0]
    let result = try TFLiteImporter.importModel(bytes: bytes, options: .init(extraOutputs: [inputIndex]))
    // Through the C API: classify an image holding all 256 values, read back the input tensor.
    var model: UnsafeMutablePointer<cnn_model>? = nil
    let st = result.bytes.withUnsafeBytes { cnnModelLoadMemory($0.baseAddress, UInt($0.count), &model, nil, 0) }
    #expect(st == .ok)
    var ctx: UnsafeMutablePointer<cnn_context>? = nil
    #expect(cnnContextCreate(model, &ctx) == .ok)
    defer { cnnContextFree(ctx); cnnModelFree(model) }
    let pixels = (0..<(32 * 32 * 3)).map { UInt8(($0 * 7) % 256) }  // 7 is odd: every value occurs
    var top = cnn_classification()
    #expect(cnnClassify(ctx, pixels, 32, 32, 3, 0, &top, nil, 0) == .ok)
    var data: UnsafePointer<Int8>? = nil
    var count: UInt = 0
    #expect(cnnOutputRaw(ctx, 1, &data, &count) == .ok)
    let input = Array(UnsafeBufferPointer(start: data, count: Int(count)))
    #expect(input.count == pixels.count)
    let wrong = zip(input, pixels).filter { Int($0.0) != Int($0.1) - 128 }.count
    #expect(wrong == 0, "\(wrong) of \(pixels.count) input bytes differ from pixel − 128")
    #expect(Set(pixels).count == 256)
  }

  @Test func resnet8_on_cifar10_train_preview_images() throws {
    // Data that is always present: 100 CIFAR-10 training images (NHWC uint8).
    let x = try NPZ(path: try SharedData.url("cifar10/neuralnetvis_cifar10_train_preview100_x.npz").path).array("arr_0")
    let y = try NPZ(path: try SharedData.url("cifar10/neuralnetvis_cifar10_train_preview100_y.npz").path).array("arr_0")
    try #require(x.shape == [100, 32, 32, 3] && x.descr == "|u1" && y.data.count == 100 && y.descr == "|u1")
    let rt = try RuntimeModel(bytes: try TFLiteImporter.importModel(
      bytes: try SharedData.bytes(SharedData.resnet8), options: .init(labels: try labels("cifar10.txt"))).bytes)
    var correct = 0
    for i in 0..<100 {
      let px = Array(x.data[(i * 3072)..<((i + 1) * 3072)])
      if try rt.classify(pixels: px, width: 32, height: 32, channels: 3)[0].index == Int(y.data[i]) { correct += 1 }
    }
    print("ResNet-8 on 100 CIFAR-10 training images: top-1 \(correct)%")
    #expect(correct >= 80)
  }

  @Test func extra_outputs_expose_intermediate_tensors_without_changing_results() throws {
    let bytes = try SharedData.bytes(SharedData.resnet8)
    let plain = try TFLiteImporter.importModel(bytes: bytes)
    let g = try TFLiteModel(bytes: bytes).subgraphs[0]
    // Every op output except the final softmax: 15 extras + 1 model output = 16 (the format's limit).
    let extras = g.operators.dropLast().map { $0.outputs[0] }
    let wide = try TFLiteImporter.importModel(bytes: bytes, options: .init(extraOutputs: extras))
    #expect(wide.outputs == [g.outputs[0]] + extras)
    let rtPlain = try RuntimeModel(bytes: plain.bytes)
    let rtWide = try RuntimeModel(bytes: wide.bytes)
    #expect(rtWide.outputs.count == 16)
    for (k, t) in extras.enumerated() { #expect(rtWide.outputs[k + 1].shape == g.tensors[t].shape) }
    var rng = Rng(seed: 7)
    for _ in 0..<3 {
      let input = rng.int8s(32 * 32 * 3)
      let outs = try runAll(rtWide, input: input, outputs: 16)
      #expect(outs[0] == (try rtPlain.run(input: input)), "extra outputs do not change the result")
      // Self-consistency of intermediates: RESHAPE output == AVERAGE_POOL output bytes,
      // and the pool output is the TFLite average of the last ADD output.
      let addOut = outs[12], pool = outs[13], flat = outs[14]
      #expect(pool == flat)
      let c = 64, hw = 64
      let expected = (0..<c).map { ch -> Int8 in
        let sum = (0..<hw).reduce(0) { $0 + Int(addOut[$1 * c + ch]) }
        let avg = sum > 0 ? (sum + hw / 2) / hw : (sum - hw / 2) / hw
        return Int8(max(-128, min(127, avg)))
      }
      #expect(pool == expected)
    }
    #expect(throws: TFLiteError.self) { try TFLiteImporter.importModel(bytes: bytes, options: .init(extraOutputs: [99_999])) }
    // A constant (a conv filter) cannot be an output.
    let filter = g.operators[0].inputs[1]
    #expect(throws: TFLiteError.self) { try TFLiteImporter.importModel(bytes: bytes, options: .init(extraOutputs: [filter])) }
    // Format v1 holds up to 256 outputs: every intermediate plus the input is fine.
    let all = try TFLiteImporter.importModel(bytes: bytes, options: .init(extraOutputs: extras + [g.inputs[0]]))
    #expect(all.outputs.count == extras.count + 2)
    // Labels must match the first output.
    #expect(throws: TFLiteError.invalidOptions(
      "3 labels, but the first output tensor \(g.outputs[0]) \"Identity_int8\" has shape [1, 10] (10 classes)")) {
      try TFLiteImporter.importModel(bytes: bytes, options: .init(labels: ["a", "b", "c"]))
    }
  }

  @Test func tflm_hello_world_int8_fully_connected_model_approximates_sine() throws {
    let result = try TFLiteImporter.importModel(bytes: try SharedData.bytes("models/tflm_hello_world_int8.tflite"))
    let rt = try RuntimeModel(bytes: result.bytes)
    #expect(rt.ops.map(\.typeName) == ["FullyConnected", "FullyConnected", "FullyConnected"])
    let inQ = rt.inputs[0], outQ = rt.outputs[0]
    var worst: Float = 0
    for i in 0..<50 {
      let x = Float(i) * 2 * .pi / 50
      let q = Int8(max(-128, min(127, (x / inQ.scale).rounded() + Float(inQ.zeroPoint))))
      let y = outQ.scale * Float(Int32(try rt.run(input: [q])[0]) - outQ.zeroPoint)
      worst = max(worst, abs(y - sin(x)))
    }
    print("hello_world int8: max |y − sin x| = \(worst)")
    #expect(worst < 0.25)
  }

  // MARK: Crafted models

  @Test func crafted_model_with_every_supported_op_imports_and_runs() throws {
    let bytes = kitchenSinkModel()
    let tfl = try TFLiteModel(bytes: bytes)
    let g = tfl.subgraphs[0]
    let r = try TFLiteImporter.importModel(bytes: bytes)
    let rt = try RuntimeModel(bytes: r.bytes)
    #expect(rt.ops.map(\.typeName) == ["Pad", "Conv2D", "DepthwiseConv2D", "Pad", "MaxPool2D", "Mean", "FullyConnected",
                                       "FullyConnected", "Add", "Reshape", "Reshape", "Softmax", "Logistic"])
    #expect(r.ops.first?.builtinName == "QUANTIZE" && r.ops.first?.op == nil)
    #expect(r.ops.last?.builtinName == "DEQUANTIZE" && r.ops.last?.op == nil)
    #expect(r.inputs == [g.operators[0].outputs[0]], "the QUANTIZE output is the cnnrt input")
    #expect(r.outputs == [g.outputs[0], g.operators.last!.inputs[0]], "the DEQUANTIZE input is the cnnrt output")
    #expect(rt.inputs[0].name == "image_int8" && rt.inputs[0].scale == 0.02 && rt.inputs[0].zeroPoint == -3)
    #expect(rt.outputs.map(\.name) == ["probs", "sigmoid"])
    #expect(rt.ops.map(\.outputShape) == [[1, 8, 8, 4], [1, 4, 4, 6], [1, 4, 4, 12], [1, 5, 5, 12], [1, 3, 3, 12], [1, 12],
                                          [1, 5], [1, 5], [1, 5], [1, 1, 5], [1, 5], [1, 5], [1, 5]])
    let fcWeights = r.builder.tensors.filter { $0.name == "fc1_w" || $0.name == "fc2_w" }.map(\.quantKind)
    #expect(fcWeights == [.perChannel, .perTensor])
    #expect(r.metadata == nil, "4 channels, no name, no labels: nothing to store")
    var rng = Rng(seed: 5)
    for _ in 0..<5 {
      let out = try rt.run(input: rng.int8s(6 * 6 * 4))
      #expect(isValidSoftmax(out))
    }
    if let dir = ProcessInfo.processInfo.environment["CNNRT_TFLITE_DUMP"] {  // for checks against TFLM by hand
      try Data(bytes).write(to: URL(fileURLWithPath: dir).appendingPathComponent("kitchen_sink.tflite"))
    }
  }

  @Test func crafted_models_with_unsupported_features_give_named_errors() throws {
    typealias B = TFLiteBuiltinOperator
    func conv(act: Int8 = 0, filterZeroPoint: Int64 = 0) -> [UInt8] {
      tinyModel { g, x in
        let y = g.act([1, 4, 4, 3], 0.1, 0, "y")
        g.op(B.conv2D, [x, g.weights([3, 1, 1, 2], axis: 0, perChannel: filterZeroPoint == 0, zeroPoint: filterZeroPoint, "w"), -1],
             [y], TFLiteGraph.conv(act: act))
        return y
      }
    }
    #expect(importError(conv()) == "imported")
    #expect(importError(conv(act: 2)).contains("operator 0 (CONV_2D): fused activation RELU_N1_TO_1 is not supported"))
    #expect(importError(conv(act: 4)).contains("fused activation TANH is not supported"))
    #expect(importError(conv(filterZeroPoint: 3)).contains("zero point 3"))

    let fcZeroPoint = tinyModel { g, x in
      let y = g.act([1, 3], 0.1, 0, "y")
      g.op(B.fullyConnected, [x, g.weights([3, 32], axis: 0, perChannel: false, zeroPoint: 5, "w"), -1], [y], TFLiteGraph.fc())
      return y
    }
    // Asymmetric per-tensor FC weights are supported (the kernel applies the filter offset).
    #expect(importError(fcZeroPoint) == "imported", "\(importError(fcZeroPoint))")

    let unsupported = tinyModel { g, x in
      let y = g.act([1, 4, 4, 2], 0.1, 0, "y")
      g.op(B.conv2D, [x, g.weights([2, 1, 1, 2], axis: 0, "w"), -1], [y], TFLiteGraph.conv())
      let z = g.act([1, 4, 4, 2], 0.1, 0, "z")
      g.op(16 /* LSTM */, [y], [z])
      return z
    }
    #expect(importError(unsupported) == "unsupported TFLite model: operator 1 (LSTM): op LSTM is not supported")

    let broadcast = tinyModel { g, x in
      let p = g.act([1, 1, 1, 2], 0.05, 0, "pooled")
      g.op(B.averagePool2D, [x], [p], TFLiteGraph.pool(1, stride: 4, filter: 4))
      let y = g.act([1, 4, 4, 2], 0.1, 0, "y")
      g.op(B.add, [x, p], [y], TFLiteGraph.add())
      return y
    }
    // Broadcasting ADD is supported.
    #expect(importError(broadcast) == "imported", "\(importError(broadcast))")

    // MEAN over the channel axis imports, and so do axes that are not adjacent.
    let meanChannels = tinyModel { g, x in
      let y = g.act([1, 4, 4], 0.05, 0, "y")
      g.op(B.mean, [x, g.int32s([3], shape: [1], "axes")], [y], 27, [0: .u8(0)])
      return y
    }
    #expect(importError(meanChannels) == "imported", "\(importError(meanChannels))")
    let meanApart = tinyModel { g, x in
      let y = g.act([1, 4], 0.05, 0, "y")
      g.op(B.mean, [x, g.int32s([1, 3], shape: [2], "axes")], [y], 27, [0: .u8(0)])
      return y
    }
    #expect(importError(meanApart) == "imported", "\(importError(meanApart))")

    // SUM and REDUCE_MAX reduce axes that are not adjacent too; REDUCE_MAX
    // keeps the input's quantization (TFLM requires it); axes and TILE
    // multiples that are not constants are refused naming the operator.
    let sumApart = tinyModel { g, x in
      let y = g.act([1, 4], 0.4, 0, "y")
      g.op(B.sum, [x, g.int32s([1, 3], shape: [2], "axes")], [y], 27, [0: .u8(0)])
      return y
    }
    #expect(importError(sumApart) == "imported", "\(importError(sumApart))")
    let maxRequantized = tinyModel { g, x in
      let y = g.act([1, 4, 1, 1], 0.1, 0, "y")
      g.op(B.reduceMax, [x, g.int32s([2, 3], shape: [2], "axes")], [y], 27, [0: .u8(1)])
      return y
    }
    #expect(importError(maxRequantized).contains("operator 0 (REDUCE_MAX)")
            && importError(maxRequantized).contains("input's scale and zero point"), "\(importError(maxRequantized))")
    let maxComputedAxes = tinyModel { g, x in
      let y = g.act([1, 4, 4, 2], 0.05, 0, "y")
      g.op(B.reduceMax, [x, x], [y], 27, [0: .u8(1)])
      return y
    }
    #expect(importError(maxComputedAxes).contains("operator 0 (REDUCE_MAX): axis"), "\(importError(maxComputedAxes))")
    let tileComputed = tinyModel { g, x in
      let y = g.act([1, 8, 4, 2], 0.05, 0, "y")
      g.op(B.tile, [x, x], [y])
      return y
    }
    #expect(importError(tileComputed).contains("operator 0 (TILE): multiples"), "\(importError(tileComputed))")

    let padChannels = tinyModel { g, x in
      let y = g.act([1, 4, 4, 4], 0.05, 0, "y")
      g.op(B.pad, [x, g.int32s([0, 0, 0, 0, 0, 0, 1, 1], shape: [4, 2], "p")], [y], 22, [:])
      return y
    }
    // Channel padding is supported; batch padding is not.
    #expect(importError(padChannels) == "imported", "\(importError(padChannels))")
    let padBatch = tinyModel { g, x in
      let y = g.act([2, 4, 4, 2], 0.05, 0, "y")
      g.op(B.pad, [x, g.int32s([0, 1, 0, 0, 0, 0, 0, 0], shape: [4, 2], "p")], [y], 22, [:])
      return y
    }
    #expect(importError(padBatch).contains("operator 0 (PAD): padding of the batch dimension"), "\(importError(padBatch))")

    let requantize = tinyModel { g, x in
      let y = g.act([1, 4, 4, 2], 0.1, 4, "y")
      g.op(B.quantize, [x], [y])
      return y
    }
    // An int8 -> int8 QUANTIZE is a requantization op of its own.
    #expect(importError(requantize) == "imported", "\(importError(requantize))")

    let floatMiddle = tinyModel { g, x in
      let f = g.tensor([1, 4, 4, 2], type: 0, name: "float_mid")
      g.op(B.dequantize, [x], [f])
      let y = g.act([1, 4, 4, 2], 0.1, 0, "y")
      g.op(B.quantize, [f], [y])
      return y
    }
    #expect(importError(floatMiddle).contains("DEQUANTIZE is only supported"), "\(importError(floatMiddle))")

    let softmaxQuant = tinyModel { g, x in
      let y = g.act([1, 4, 4, 2], 0.1, 0, "y")
      g.op(B.softmax, [x], [y], TFLiteGraph.softmax)
      return y
    }
    #expect(importError(softmaxQuant).contains("scale 1/256 and zero point -128"))

    let custom = tinyModel { g, x in
      let y = g.act([1, 4, 4, 2], 0.1, 0, "y")
      g.op(B.custom, [x], [y])
      return y
    }
    #expect(importError(custom).contains("operator 0 (CUSTOM(?)): op CUSTOM(?) is not supported"), "\(importError(custom))")

    var batch = TFLiteGraph()
    let bx = batch.act([2, 4, 4, 2], 0.05, 0, "x")
    let by = batch.act([2, 4, 4, 2], 0.05, 0, "y")
    batch.op(B.maxPool2D, [bx], [by], TFLiteGraph.pool(1, stride: 1, filter: 2))
    batch.inputs = [bx]; batch.outputs = [by]
    #expect(importError(batch.serialize()).contains("batch size 2"))

    var u8 = TFLiteGraph()
    let ux = u8.tensor([1, 4, 4, 2], type: 3, scale: [1], zeroPoint: [0], name: "x")
    let uy = u8.act([1, 4, 4, 2], 1, -128, "y")
    u8.op(B.maxPool2D, [ux], [uy], TFLiteGraph.pool(1, stride: 1, filter: 2))
    u8.inputs = [ux]; u8.outputs = [uy]
    #expect(importError(u8.serialize()).contains("model input tensor 0 \"x\" is UINT8"))

    var perChannelAct = TFLiteGraph()
    let px = perChannelAct.tensor([1, 4, 4, 2], scale: [0.1, 0.2], zeroPoint: [0, 0], axis: 3, name: "x")
    let py = perChannelAct.act([1, 4, 4, 2], 0.1, 0, "y")
    perChannelAct.op(B.maxPool2D, [px], [py], TFLiteGraph.pool(1, stride: 1, filter: 2))
    perChannelAct.inputs = [px]; perChannelAct.outputs = [py]
    #expect(importError(perChannelAct.serialize()).contains("quantized per channel"))
  }

  // MARK: Errors

  @Test func truncated_files_give_errors_never_crashes() throws {
    let bytes = try SharedData.bytes(SharedData.resnet8)
    let full = try TFLiteImporter.importModel(bytes: bytes, options: .init(verifyWithRuntime: false)).bytes
    var lengths = Array(0..<300)
    lengths += stride(from: 300, to: bytes.count, by: 97)
    lengths += (bytes.count - 300)..<bytes.count
    var refused = 0, identical = 0
    for n in lengths {
      do {
        let r = try TFLiteImporter.importModel(bytes: Array(bytes[..<n]), options: .init(verifyWithRuntime: false))
        // Cutting only bytes that nothing references is harmless.
        #expect(r.bytes == full, "truncated to \(n) bytes: imported a different model")
        identical += 1
      } catch let e as TFLiteError {
        if case .malformed = e {} else { Issue.record("truncated to \(n) bytes: \(e)") }
        refused += 1
      }
    }
    #expect(refused >= lengths.count - 10, "\(refused) refused, \(identical) unaffected")
    do {
      _ = try TFLiteImporter.importModel(bytes: Array(bytes[..<1000]))
      Issue.record("a 1000-byte prefix imported")
    } catch let e as TFLiteError {
      #expect(e.description.contains("outside the 1000-byte file"), "\(e)")
    }
  }

  @Test func out_of_range_buffer_tensor_and_opcode_indices_are_reported() throws {
    let bytes = try SharedData.bytes(SharedData.resnet8)
    let model = try TFLiteModel(bytes: bytes)
    let fb = FlatBuffer(bytes)
    let root = try fb.table(at: Int(try fb.u32(0, "root")), "")
    let subgraph = try #require(try root.vector(2, elementSize: 4)).table(0)
    let tensors = try #require(try subgraph.vector(0, elementSize: 4))
    let ops = try #require(try subgraph.vector(3, elementSize: 4))
    func patched(_ pos: Int, _ v: UInt32) -> [UInt8] {
      var b = bytes
      for k in 0..<4 { b[pos + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
      return b
    }
    func message(_ b: [UInt8]) -> String {
      do { _ = try TFLiteImporter.importModel(bytes: b); return "imported" } catch { return "\(error)" }
    }
    // Tensor 3's buffer index (field 2 of Tensor).
    let bufferField = try #require(try tensors.table(3).field(2, size: 4))
    let m1 = message(patched(bufferField, 999))
    #expect(m1.contains("buffer index 999 out of range (model has \(model.buffers.count) buffers)"), "\(m1)")
    // The opcode index of the first operator whose index is stored (0 is the default, omitted).
    let withOpcode = try #require(model.subgraphs[0].operators.firstIndex { $0.opcodeIndex != 0 })
    let opcodeField = try #require(try ops.table(withOpcode).field(0, size: 4))
    let m2 = message(patched(opcodeField, 999))
    #expect(m2.contains("opcode index 999 out of range (model has \(model.operatorCodes.count) operator codes)"), "\(m2)")
    // Operator 0's first input tensor index (inputs vector, field 1).
    let inputs = try #require(try ops.table(0).vector(1, elementSize: 4))
    let m3 = message(patched(inputs.start, 999))
    let count = model.subgraphs[0].tensors.count
    #expect(m3.contains("tensor index 999 out of range (subgraph has \(count) tensors)"), "\(m3)")
    // A vector length far beyond the file.
    let m4 = message(patched(inputs.start - 4, 0x7FFF_FFFF))
    #expect(m4.contains("malformed") && m4.contains("outside"), "\(m4)")
    // A vtable offset pointing outside the file.
    let slot = tensors.start + 4 * 5
    let m5 = message(patched(slot + Int(try fb.u32(slot, "")), 0x7FFF_0000))  // tensor 5's soffset
    #expect(m5.contains("malformed"), "\(m5)")
    // Not a TFLite file at all.
    let m6 = message(Array("CNNRTMDL and then some bytes".utf8))
    #expect(m6.contains("TFL3"), "\(m6)")
  }

  @Test func an_unsupported_op_is_named_with_its_operator_index() throws {
    let bytes = try SharedData.bytes(SharedData.dscnn)
    let model = try TFLiteModel(bytes: bytes)
    let g = model.subgraphs[0]
    // Patch the operator code of DEPTHWISE_CONV_2D into LSTM (16; TRANSPOSE_CONV, used here before, is now supported).
    let codeIndex = try #require(model.operatorCodes.firstIndex { $0.builtinCode == TFLiteBuiltinOperator.depthwiseConv2D })
    let firstUse = try #require(g.operators.firstIndex { $0.opcodeIndex == codeIndex })
    let fb = FlatBuffer(bytes)
    let root = try fb.table(at: Int(try fb.u32(0, "root")), "")
    let code = try #require(try root.vector(1, elementSize: 4)).table(codeIndex)
    var b = bytes
    var patchedAny = false
    if let p = try code.field(0, size: 1) { b[p] = 16; patchedAny = true }
    if let p = try code.field(3, size: 4) { b[p] = 16; b[p + 1] = 0; b[p + 2] = 0; b[p + 3] = 0; patchedAny = true }
    try #require(patchedAny)
    do {
      _ = try TFLiteImporter.importModel(bytes: b)
      Issue.record("an LSTM model imported")
    } catch let e as TFLiteError {
      #expect(e == .unsupported("operator \(firstUse) (LSTM): op LSTM is not supported"), "\(e)")
    }
    // A float model: the float input is named.
    do {
      _ = try TFLiteImporter.importModel(bytes: try SharedData.bytes("models/mlperf_tiny_ic_resnet8_float.tflite"))
      Issue.record("a float model imported")
    } catch let e as TFLiteError {
      #expect(e.description.contains("FLOAT32") && e.description.contains("CONV_2D (operator 0)"), "\(e)")
    }
  }

  @Test func flipped_bytes_never_crash() throws {
    let bytes = try SharedData.bytes(SharedData.dscnn)
    var rng = Rng(seed: 2024)
    var refused = 0, imported = 0
    // The FlatBuffer structure (tables, vtables, vectors) sits outside the big
    // weight blobs: flip bytes all over the file, more often near its tables.
    let model = try TFLiteModel(bytes: bytes)
    let dataRanges = model.buffers.map(\.range).filter { $0.count > 64 }
    for _ in 0..<600 {
      var b = bytes
      var flips = 0
      while flips < 3 {
        let p = Int(rng.next() % UInt64(b.count))
        if dataRanges.contains(where: { $0.contains(p) }) && rng.next() % 4 != 0 { continue }
        b[p] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
        flips += 1
      }
      do {
        _ = try TFLiteImporter.importModel(bytes: b)
        imported += 1
      } catch is TFLiteError {
        refused += 1
      }
    }
    print("flipped bytes (DS-CNN): \(refused) refused, \(imported) imported")
    #expect(refused + imported == 600)

    // The crafted model is almost all structure: flip anywhere, also after truncating.
    let crafted = kitchenSinkModel()
    refused = 0; imported = 0
    let iterations = Int(ProcessInfo.processInfo.environment["CNNRT_TFLITE_FUZZ_ITERATIONS"] ?? "") ?? 3000
    for i in 0..<iterations {
      var b = i % 3 == 0 ? Array(crafted[..<Int(rng.next() % UInt64(crafted.count))]) : crafted
      if b.isEmpty { continue }
      for _ in 0...(rng.next() % 4) {
        b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next())
      }
      do {
        _ = try TFLiteImporter.importModel(bytes: b)
        imported += 1
      } catch is TFLiteError {
        refused += 1
      }
    }
    print("flipped bytes (crafted model): \(refused) refused, \(imported) imported")
  }

  // binary
  /// MUL (fused RELU, an int8 constant operand with its own zero point),
  /// SUB (RELU6), MAXIMUM and MINIMUM import with their options and run; a
  /// float model's DIV by a constant becomes a Mul by the reciprocal.
  @Test func binary_ops_import_with_options_and_constant_operands() throws {
    typealias B = TFLiteBuiltinOperator
    let bytes = tinyModel { g, x in
      let c = g.tensor([2], scale: [0.02], zeroPoint: [-7], data: [UInt8(bitPattern: -100), 90], name: "c")
      let m = g.act([1, 4, 4, 2], 0.01, -128, "mul")
      g.op(B.mul, [x, c], [m], 21, [0: .i8(1)])
      let s = g.act([1, 4, 4, 2], 0.03, -128, "sub")
      g.op(B.sub, [m, x], [s], 28, [0: .i8(3)])
      let hi = g.act([1, 4, 4, 2], 0.03, -128, "max")
      g.op(B.maximum, [s, s], [hi], 39, [:])
      let lo = g.act([1, 4, 4, 2], 0.03, -128, "min")
      g.op(B.minimum, [hi, s], [lo], 39, [:])
      return lo
    }
    let r = try TFLiteImporter.importModel(bytes: bytes)
    #expect(r.builder.ops.map(\.code) == [.mul, .sub, .maximum, .minimum])
    #expect(r.builder.ops.map(\.options.activation) == [.relu, .relu6, .none, .none])
    let c = r.builder.tensors[r.builder.ops[0].inputs[1]!.index]
    #expect(c.isConstant && c.scales == [0.02] && c.zeroPoint == -7 && c.shape == [2])
    var rng = SplitMix64(seed: 7)
    let y = try RuntimeModel(bytes: r.bytes).run(inputs: [rng.int8s(32)])[0]
    #expect(y.count == 32)

    // Float model: DIV by a constant → Mul by 1/c.
    var g = TFLiteGraph()
    let xf = g.tensor([1, 2, 2, 3], type: 0, name: "x")
    let cf = g.tensor([3], type: 0, data: [Float(2), -4, 0.5].flatMap { v in
      (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } }, name: "divisor")
    let yf = g.tensor([1, 2, 2, 3], type: 0, name: "y")
    g.op(B.div, [xf, cf], [yf], 29, [0: .i8(0)])
    g.inputs = [xf]; g.outputs = [yf]
    let fg = try FloatGraph(tflite: g.serialize())
    #expect(fg.nodes.map(\.kind) == [.mul])
    #expect(fg.tensors[fg.nodes[0].inputs[1]].data == [0.5, -0.25, 2])
    let out = try FloatExecutor(graph: fg).run([(0..<12).map(Float.init)])[0]
    #expect(out == (0..<12).map { Float($0) * [Float(0.5), -0.25, 2][$0 % 3] })
  }
}
