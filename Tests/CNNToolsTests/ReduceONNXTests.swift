// ONNX ReduceSum (opset 13: axes as a constant input), ReduceMax (axes
// attribute; keepdims 1 and 0) and Tile (constant repeats), in tiny float
// graphs built here: the import (NCHW axes mapped to the NHWC storage) is
// checked against the ONNX definitions written as NCHW index loops, then
// the graph is quantized and the int8 runtime's output compared with the
// float one. Variants cnnrt cannot run are refused naming the op and the node.

import CNNRuntime
@testable import CNNTools
import Foundation
import Testing

/// x [dims] → Relu (output "r") → `n` (output "y"), opset 13, with `initializers`.
private func reluThen(_ n: ONNXNodeProto, x dims: [Int64], initializers: [ONNXTensorProto]) throws -> [UInt8] {
  var m = ONNXModelProto()
  m.irVersion = 8
  var opset = ONNXOperatorSetIdProto()
  opset.domain = ""; opset.version = 13
  m.opsetImport = [opset]
  m.graph.input = [onnxValueInfo("x", dims)]
  m.graph.output = [onnxValueInfo("y", nil)]
  m.graph.initializer = initializers
  var relu = ONNXNodeProto()
  relu.opType = "Relu"; relu.name = "relu"; relu.input = ["x"]; relu.output = ["r"]
  m.graph.node = [relu, n]
  return [UInt8](try m.serializedBytes() as Data)
}

/// x [1,C,H,W] = [1,5,3,4] → Relu → op(axes, keepdims) → y. ReduceSum takes
/// its axes as input 1 (an initializer, or with `computedAxes` the ReLU's
/// output: not a constant); ReduceMax as the `axes` attribute.
private func reduceGraph(_ op: String, axes: [Int64], keepdims: Int64, computedAxes: Bool = false) throws -> [UInt8] {
  var n = ONNXNodeProto()
  n.opType = op; n.name = "reduce_node"; n.input = ["r"]; n.output = ["y"]
  var k = ONNXAttributeProto()
  k.name = "keepdims"; k.type = .int; k.i = keepdims
  n.attribute = [k]
  if op == "ReduceSum" {
    n.input.append(computedAxes ? "r" : "axes")
  } else {
    var a = ONNXAttributeProto()
    a.name = "axes"; a.type = .ints; a.ints = axes
    n.attribute.append(a)
  }
  let constant = op == "ReduceSum" && !computedAxes
  return try reluThen(n, x: [1, 5, 3, 4], initializers: constant ? [onnxInt64Tensor("axes", axes)] : [])
}

/// NCHW (batch 1) → NHWC.
private func nhwc(_ v: [Float], c: Int, h: Int, w: Int) -> [Float] {
  var out = [Float](repeating: 0, count: v.count)
  for ch in 0..<c { for y in 0..<h { for x in 0..<w { out[(y * w + x) * c + ch] = v[(ch * h + y) * w + x] } } }
  return out
}

/// The ONNX definition on NCHW [1,5,3,4] after the ReLU: the reduction of
/// `axes` (ONNX axes), the output in ONNX order (keepdims or not: same order).
private func reference(_ x: [Float], axes: Set<Int>, max: Bool) -> [Float] {
  let dims = [1, 5, 3, 4]
  let outDims = dims.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
  var out = [Float](repeating: max ? -.infinity : 0, count: outDims.reduce(1, *))
  for c in 0..<5 { for h in 0..<3 { for w in 0..<4 {
    let i = [0, c, h, w]
    var o = 0
    for k in 0..<4 { o = o * outDims[k] + (axes.contains(k) ? 0 : i[k]) }
    let v = Swift.max(0, x[(c * 3 + h) * 4 + w])
    out[o] = max ? Swift.max(out[o], v) : out[o] + v
  } } }
  return out
}

@Suite struct ReduceONNXTests {
  /// (op, ONNX axes, keepdims, the output shape as stored, FloatGraph axes).
  @Test(arguments: [
    ("ReduceSum", [2, 3], 1, [1, 1, 1, 5], [1, 2]),
    ("ReduceSum", [1], 0, [1, 3, 4], [3]),
    ("ReduceSum", [-3, -1], 1, [1, 3, 1, 1], [2, 3]),
    ("ReduceMax", [1], 1, [1, 3, 4, 1], [3]),
    ("ReduceMax", [2, 3], 0, [1, 5], [1, 2]),
    ("ReduceMax", [0, 2], 1, [1, 1, 4, 5], [0, 1]),
  ] as [(String, [Int64], Int64, [Int], [Int])])
  func importsAndQuantizes(op: String, axes: [Int64], keepdims: Int64, stored: [Int], graphAxes: [Int]) throws {
    let g = try FloatGraph(onnx: try reduceGraph(op, axes: axes, keepdims: keepdims))
    let isMax = op == "ReduceMax"
    #expect(g.nodes.map(\.kind) == [.activation, isMax ? .reduceMax : .sum])
    #expect(g.nodes[1].ints == graphAxes)
    #expect(g.tensors[g.outputs[0]].shape == stored)
    let onnxAxes = Set(axes.map { $0 < 0 ? Int($0) + 4 : Int($0) })
    var rng = SplitMix64(seed: 47)
    func sample() -> [Float] { (0..<60).map { _ in Float(Int(rng.next() % 2001) - 700) / 400 } }
    let x = sample()
    let want = reference(x, axes: onnxAxes, max: isMax)
    // With keepdims 1 the stored output is NHWC: compare in ONNX order.
    var got = try FloatExecutor(graph: g).run([nhwc(x, c: 5, h: 3, w: 4)])[0]
    if stored.count == 4 {
      let (c, h, w) = (onnxAxes.contains(1) ? 1 : 5, onnxAxes.contains(2) ? 1 : 3, onnxAxes.contains(3) ? 1 : 4)
      var back = got
      for ch in 0..<c { for y in 0..<h { for xx in 0..<w { back[(ch * h + y) * w + xx] = got[(y * w + xx) * c + ch] } } }
      got = back
    }
    #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "float import differs: \(got) vs \(want)")

    let r = try Quantizer.quantize(g, samples: (0..<16).map { _ in nhwc(sample(), c: 5, h: 3, w: 4) },
                                   options: .init(imageInput: false))
    let rm = try RuntimeModel(bytes: r.bytes)
    #expect(rm.ops.map(\.typeName).contains(isMax ? "ReduceMax" : "Sum"))
    let inQ = ActivationQuant(scale: rm.inputs[0].scale, zeroPoint: rm.inputs[0].zeroPoint)
    let o = rm.outputs[0]
    let yq = try rm.run(input: nhwc(x, c: 5, h: 3, w: 4).map { inQ.quantize($0) })
      .map { o.scale * Float(Int32($0) - o.zeroPoint) }
    let yf = try FloatExecutor(graph: g).run([nhwc(x, c: 5, h: 3, w: 4)])[0]
    let err = zip(yq, yf).map { abs($0 - $1) }.max() ?? .infinity
    let n = 60 / yf.count
    // Max copies a quantized ReLU output (the input's rounding, then the ReLU's
    // requantization to the shared scale); a sum adds n of those and its own rounding.
    let bound = isMax ? inQ.scale / 2 + o.scale : (Float(n) * o.scale + o.scale) / 2 + Float(n) * inQ.scale / 2
    print("ONNX \(op) axes \(axes) keepdims \(keepdims): max |int8 − float| = \(err) (bound \(bound))")
    #expect(err <= bound)
  }

  @Test func keepdimsZeroThatReordersTheNCHWAxesIsRefused() throws {
    do {
      _ = try FloatGraph(onnx: try reduceGraph("ReduceSum", axes: [2], keepdims: 0))
      Issue.record("ReduceSum over H with keepdims 0 accepted")
    } catch {
      #expect("\(error)".contains("ReduceSum over axes [2]") && "\(error)".contains("'reduce_node'"), "\(error)")
    }
  }

  @Test func nonConstantAxesAreRefused() throws {
    do {
      _ = try FloatGraph(onnx: try reduceGraph("ReduceSum", axes: [], keepdims: 1, computedAxes: true))
      Issue.record("ReduceSum with computed axes accepted")
    } catch {
      #expect("\(error)".contains("ReduceSum") && "\(error)".contains("'reduce_node'")
              && "\(error)".contains("must be a constant"), "\(error)")
    }
  }
}

/// x [2,3,4,3,5] (rank 5: stored in ONNX order) → Relu → `op` → y. ReduceMean
/// and ReduceMax take `axes` as an attribute (opset 13), ReduceSum as input 1
/// (an initializer); nil axes = none given; `noop` sets noop_with_empty_axes.
private func rank5Graph(_ op: String, axes: [Int64]?, keepdims: Int64, noop: Int64? = nil) throws -> [UInt8] {
  var n = ONNXNodeProto()
  n.opType = op; n.name = "reduce5"; n.input = ["r"]; n.output = ["y"]
  var k = ONNXAttributeProto()
  k.name = "keepdims"; k.type = .int; k.i = keepdims
  n.attribute = [k]
  if let noop {
    var a = ONNXAttributeProto()
    a.name = "noop_with_empty_axes"; a.type = .int; a.i = noop
    n.attribute.append(a)
  }
  var inits: [ONNXTensorProto] = []
  if let axes {
    if op == "ReduceSum" {
      n.input.append("axes")
      inits.append(onnxInt64Tensor("axes", axes))
    } else {
      var a = ONNXAttributeProto()
      a.name = "axes"; a.type = .ints; a.ints = axes
      n.attribute.append(a)
    }
  }
  return try reluThen(n, x: [2, 3, 4, 3, 5], initializers: inits)
}

private let rank5Shape = [2, 3, 4, 3, 5]

/// The ONNX definition on a row-major tensor: mean / sum / max over `axes`
/// after the ReLU, outputs in row-major order of the kept axes.
private func reference5(_ x: [Float], axes: Set<Int>, op: String) -> [Float] {
  let shape = rank5Shape
  let outShape = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
  var out = [Float](repeating: op == "ReduceMax" ? -.infinity : 0, count: outShape.reduce(1, *))
  for i in 0..<x.count {
    var rest = i, idx = [Int](repeating: 0, count: 5)
    for k in stride(from: 4, through: 0, by: -1) { idx[k] = rest % shape[k]; rest /= shape[k] }
    var o = 0
    for k in 0..<5 { o = o * outShape[k] + (axes.contains(k) ? 0 : idx[k]) }
    let v = Swift.max(0, x[i])
    out[o] = op == "ReduceMax" ? Swift.max(out[o], v) : out[o] + v
  }
  if op == "ReduceMean" {
    let n = Float(x.count / out.count)
    out = out.map { $0 / n }
  }
  return out
}

@Suite struct Reduce5ONNXTests {
  /// (op, ONNX axes, keepdims, output shape, FloatGraph axes): rank-5 inputs
  /// keep the ONNX order, so the graph axes are the ONNX ones, normalized.
  @Test(arguments: [
    ("ReduceMean", [1, 3], 0, [2, 4, 5], [1, 3]),
    ("ReduceMean", [-1, 0, 2], 1, [1, 3, 1, 3, 1], [0, 2, 4]),
    ("ReduceSum", [4], 0, [2, 3, 4, 3], [4]),
    ("ReduceMax", [0, 1, 2, 3], 1, [1, 1, 1, 1, 5], [0, 1, 2, 3]),
  ] as [(String, [Int64], Int64, [Int], [Int])])
  func rank5ImportsEvaluatesAndQuantizes(op: String, axes: [Int64], keepdims: Int64, stored: [Int], graphAxes: [Int]) throws {
    let g = try FloatGraph(onnx: try rank5Graph(op, axes: axes, keepdims: keepdims))
    let kind: FloatGraph.Kind = op == "ReduceMean" ? .reduceMean : op == "ReduceSum" ? .sum : .reduceMax
    #expect(g.nodes.map(\.kind) == [.activation, kind])
    #expect(g.nodes[1].ints == graphAxes)
    #expect(g.tensors[g.outputs[0]].shape == stored)
    let count = rank5Shape.reduce(1, *)
    var rng = SplitMix64(seed: 53)
    func sample() -> [Float] { (0..<count).map { _ in Float(Int(rng.next() % 2001) - 700) / 400 } }
    let x = sample()
    let want = reference5(x, axes: Set(graphAxes), op: op)
    let got = try FloatExecutor(graph: g).run([x])[0]
    #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "float import differs: \(got) vs \(want)")

    let r = try Quantizer.quantize(g, samples: (0..<16).map { _ in sample() }, options: .init(imageInput: false))
    let rm = try RuntimeModel(bytes: r.bytes)
    #expect(rm.ops.map(\.typeName).contains(op == "ReduceMean" ? "Mean" : op == "ReduceSum" ? "Sum" : "ReduceMax"))
    let inQ = ActivationQuant(scale: rm.inputs[0].scale, zeroPoint: rm.inputs[0].zeroPoint)
    let o = rm.outputs[0]
    let yq = try rm.run(input: x.map { inQ.quantize($0) }).map { o.scale * Float(Int32($0) - o.zeroPoint) }
    let err = zip(yq, want).map { abs($0 - $1) }.max() ?? .infinity
    let n = Float(count / want.count)
    // Each input carries the ReLU's rounding (half its step); a mean averages
    // them, a sum adds n of them; the output adds its own half step (+1 step slack).
    let bound = op == "ReduceSum" ? n * inQ.scale / 2 + 1.5 * o.scale : inQ.scale / 2 + 1.5 * o.scale
    #expect(err <= bound, "max |int8 − float| \(err), bound \(bound)")
  }

  /// noop_with_empty_axes (ONNX): with no axes, 1 leaves the input
  /// unreduced (the output is the input), 0 (the default) reduces every axis.
  @Test(arguments: ["ReduceMean", "ReduceSum", "ReduceMax"])
  func noopWithEmptyAxes(op: String) throws {
    let noop = try FloatGraph(onnx: try rank5Graph(op, axes: nil, keepdims: 1, noop: 1))
    #expect(noop.nodes.map(\.kind) == [.activation])
    #expect(noop.outputs == [noop.nodes[0].output])
    #expect(noop.tensors[noop.outputs[0]].shape == rank5Shape)
    // An empty axes list is "no axes" too (ReduceSum's input form).
    if op == "ReduceSum" {
      let empty = try FloatGraph(onnx: try rank5Graph(op, axes: [], keepdims: 1, noop: 1))
      #expect(empty.nodes.map(\.kind) == [.activation])
    }
    for (flag, keep) in [(Int64(0), Int64(1)), (nil, 0)] as [(Int64?, Int64)] {
      let all = try FloatGraph(onnx: try rank5Graph(op, axes: nil, keepdims: keep, noop: flag))
      #expect(all.nodes.count == 2)
      #expect(all.nodes[1].ints == [0, 1, 2, 3, 4])
      #expect(all.tensors[all.outputs[0]].shape == (keep == 1 ? [1, 1, 1, 1, 1] : [1]))
    }
  }
}

/// x [1,C,H,W] = [1,3,2,4] → Relu → Tile(repeats) → y, the repeats an int64
/// initializer (or the ReLU's output: not a constant).
private func tileGraph(repeats: [Int64], computed: Bool = false) throws -> [UInt8] {
  var n = ONNXNodeProto()
  n.opType = "Tile"; n.name = "tile_node"; n.input = ["r", computed ? "r" : "repeats"]; n.output = ["y"]
  return try reluThen(n, x: [1, 3, 2, 4], initializers: computed ? [] : [onnxInt64Tensor("repeats", repeats)])
}

@Suite struct TileONNXTests {
  /// Tile's output element (n, c, h, w) is the input's (n mod N, c mod C, …):
  /// checked in NCHW terms on the NHWC storage, then quantized (bytes copied:
  /// the int8 output is the quantized ReLU output, element for element).
  @Test(arguments: [[1, 2, 3, 1], [2, 1, 1, 3], [1, 1, 2, 2]] as [[Int64]])
  func importsAndQuantizes(repeats: [Int64]) throws {
    let g = try FloatGraph(onnx: try tileGraph(repeats: repeats))
    #expect(g.nodes.map(\.kind) == [.activation, .tile])
    let r = repeats.map { Int($0) }
    let (n, c, h, w) = (r[0], 3 * r[1], 2 * r[2], 4 * r[3])
    #expect(g.nodes[1].ints == [r[0], r[2], r[3], r[1]])
    #expect(g.tensors[g.outputs[0]].shape == [n, h, w, c])
    var rng = SplitMix64(seed: 49)
    func sample() -> [Float] { (0..<24).map { _ in Float(Int(rng.next() % 2001) - 700) / 400 } }
    let x = sample()
    var want: [Float] = []  // NHWC order of the ONNX definition
    for b in 0..<n { for y in 0..<h { for xx in 0..<w { for ch in 0..<c {
      _ = b
      want.append(max(0, x[((ch % 3) * 2 + y % 2) * 4 + xx % 4]))
    } } } }
    #expect(try FloatExecutor(graph: g).run([nhwc(x, c: 3, h: 2, w: 4)])[0] == want)

    let q = try Quantizer.quantize(g, samples: (0..<8).map { _ in nhwc(sample(), c: 3, h: 2, w: 4) },
                                   options: .init(imageInput: false))
    let rm = try RuntimeModel(bytes: q.bytes)
    #expect(rm.ops.map(\.typeName).contains("Tile"))
    let inQ = ActivationQuant(scale: rm.inputs[0].scale, zeroPoint: rm.inputs[0].zeroPoint)
    let o = rm.outputs[0]
    let yq = try rm.run(input: nhwc(x, c: 3, h: 2, w: 4).map { inQ.quantize($0) })
      .map { o.scale * Float(Int32($0) - o.zeroPoint) }
    let err = zip(yq, want).map { abs($0 - $1) }.max() ?? .infinity
    #expect(err <= inQ.scale / 2 + o.scale, "max |int8 − float| \(err)")
  }

  @Test func nonConstantRepeatsAreRefused() throws {
    do {
      _ = try FloatGraph(onnx: try tileGraph(repeats: [], computed: true))
      Issue.record("Tile with computed repeats accepted")
    } catch {
      #expect("\(error)".contains("Tile") && "\(error)".contains("'tile_node'") && "\(error)".contains("must be a constant"),
              "\(error)")
    }
  }
}

/// A file of Tests/Golden/tflm/float (the make_*_float.py models and their
/// TFLite outputs); shared by the float-TFLite import tests.
func floatGoldenBytes(_ name: String) throws -> [UInt8] {
  let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Golden/tflm/float")
  return [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
}

/// The same read as little-endian float32 values.
func floatGoldenF32(_ name: String) throws -> [Float] {
  let b = try floatGoldenBytes(name)
  return stride(from: 0, to: b.count, by: 4).map {
    Float(bitPattern: UInt32(b[$0]) | UInt32(b[$0 + 1]) << 8 | UInt32(b[$0 + 2]) << 16 | UInt32(b[$0 + 3]) << 24)
  }
}

@Suite struct ReduceFloatTFLiteTests {
  /// tools/tflm/make_reduce_float.py: conv → SUM (axis 1, keep_dims) → TILE
  /// [1,3,1,2] → MUL by a constant → REDUCE_MAX (axes 1 and 3, no keep_dims),
  /// with TFLite's float output: imported, evaluated and quantized.
  @Test func floatTFLiteSumTileReduceMaxMatchesTFLiteAndQuantizes() throws {
    let (bytes, f32) = (floatGoldenBytes, floatGoldenF32)
    let g = try FloatGraph(tflite: try bytes("reduce_float.tflite"))
    #expect(g.nodes.map(\.kind) == [.conv2D, .sum, .tile, .mul, .reduceMax])
    #expect(g.nodes[1].ints == [1] && g.nodes[2].ints == [1, 3, 1, 2] && g.nodes[4].ints == [1, 3])
    let x = try f32("reduce_float.input.f32"), ref = try f32("reduce_float.output.f32")
    let y = try FloatExecutor(graph: g).run([x])[0]
    #expect(y.count == ref.count && y.count == 5)
    let err = zip(y, ref).map { abs($0 - $1) }.max() ?? .infinity
    #expect(err < 1e-4, "float executor vs TFLite: \(err)")

    var rng = SplitMix64(seed: 48)
    let samples = [x] + (0..<15).map { _ in (0..<90).map { _ in Float(rng.next() % 2001) / 1000 - 1 } }
    let r = try Quantizer.quantize(g, samples: samples, options: .init(imageInput: false))
    let rm = try RuntimeModel(bytes: r.bytes)
    #expect(rm.ops.map(\.typeName) == ["Conv2D", "Sum", "Tile", "Mul", "ReduceMax"])
    let inQ = ActivationQuant(scale: rm.inputs[0].scale, zeroPoint: rm.inputs[0].zeroPoint)
    let o = rm.outputs[0]
    let yq = try rm.run(input: x.map { inQ.quantize($0) }).map { o.scale * Float(Int32($0) - o.zeroPoint) }
    let qerr = zip(yq, ref).map { abs($0 - $1) }.max() ?? .infinity
    let range = ref.map(abs).max() ?? 0
    print("float TFLite SUM + TILE + REDUCE_MAX int8: max |int8 − TFLite float| = \(qerr) (output scale \(o.scale), range \(range))")
    #expect(qerr <= 0.05 * range)
  }
}
