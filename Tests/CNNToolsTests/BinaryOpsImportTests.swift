// Tools side of the binary family (Mul, Sub, Maximum, Minimum, Div by a
// constant): a tiny float ONNX graph using each of them (NCHW constants,
// a constant first operand of Sub, Div folded into Mul) imported, quantized
// with the quantizer and run by the int8 runtime against the float
// executor; the float executor against a hand-written NCHW evaluation; the
// refusals (Div of two activations, Max of differently quantized
// activations); the builder's broadcast shape rule.

import Foundation
import Testing
@testable import CNNRuntime
@testable import CNNTools

private func onnxTensor(_ name: String, _ dims: [Int64], _ values: [Float]) -> ONNXTensorProto {
  var t = ONNXTensorProto()
  t.name = name
  t.dims = dims
  t.dataType = 1
  t.floatData = values
  return t
}

private func onnxNode(_ op: String, _ inputs: [String], _ output: String) -> ONNXNodeProto {
  var n = ONNXNodeProto()
  n.opType = op; n.name = output + "_node"; n.input = inputs; n.output = [output]
  return n
}

private func onnxValue(_ name: String, _ dims: [Int64]) -> ONNXValueInfoProto {
  var v = ONNXValueInfoProto()
  v.name = name
  var tt = ONNXTypeProto.Tensor()
  tt.elemType = 1
  for d in dims { var dim = ONNXTensorShapeProto.Dimension(); dim.dimValue = d; tt.shape.dim.append(dim) }
  v.type.tensorType = tt
  return v
}

private func onnxModel(_ nodes: [ONNXNodeProto], _ initializers: [ONNXTensorProto], input: [Int64] = [1, 3, 4, 4],
                       output: String) -> [UInt8] {
  var m = ONNXModelProto()
  m.irVersion = 7
  var opset = ONNXOperatorSetIdProto()
  opset.domain = ""; opset.version = 13
  m.opsetImport = [opset]
  m.graph.input = [onnxValue("x", input)]
  m.graph.output = [onnxValue(output, [])]
  m.graph.node = nodes
  m.graph.initializer = initializers
  return [UInt8](try! m.serializedBytes() as Data)
}

/// x [1,3,4,4] (NCHW):
///   a = x · k[c]             (Mul by a [1,3,1,1] constant)
///   m = a · sigmoid(a)       (Mul of two activations: swish)
///   d = m / 2                (Div by a scalar constant → Mul by 0.5)
///   e = d − b[c]             (Sub of a [3,1,1] constant)
///   f = 0.5 − sigmoid(a)     (Sub with the constant first)
///   g = max(e, 0)            (Max with a scalar constant)
///   y = g · f                (Mul of two activations)
private let kScale: [Float] = [1.5, -0.75, 2.0]
private let bShift: [Float] = [0.25, -0.5, 0.1]

private func binaryGraph() -> [UInt8] {
  onnxModel([
    onnxNode("Mul", ["x", "k"], "a"),
    onnxNode("Sigmoid", ["a"], "s"),
    onnxNode("Mul", ["a", "s"], "m"),
    onnxNode("Div", ["m", "two"], "d"),
    onnxNode("Sub", ["d", "b"], "e"),
    onnxNode("Sub", ["half", "s"], "f"),
    onnxNode("Max", ["e", "zero"], "g"),
    onnxNode("Mul", ["g", "f"], "y"),
  ], [
    onnxTensor("k", [1, 3, 1, 1], kScale),
    onnxTensor("two", [], [2]),
    onnxTensor("b", [3, 1, 1], bShift),
    onnxTensor("half", [1], [0.5]),
    onnxTensor("zero", [], [0]),
  ], output: "y")
}

/// The same computation written out on NCHW input (independent of the importer).
private func expected(_ x: [Float]) -> [Float] {
  var y = [Float](repeating: 0, count: x.count)
  for c in 0..<3 {
    for i in 0..<16 {
      let k = c * 16 + i
      let a = x[k] * kScale[c]
      let s = 1 / (1 + exp(-a))
      let e = a * s / 2 - bShift[c]
      y[k] = max(e, 0) * (0.5 - s)
    }
  }
  return y
}

/// NCHW → NHWC of a [1, C, H, W] array.
private func nhwc(_ v: [Float], c: Int, h: Int, w: Int) -> [Float] {
  var o = [Float](repeating: 0, count: v.count)
  for ch in 0..<c { for i in 0..<(h * w) { o[i * c + ch] = v[ch * h * w + i] } }
  return o
}

extension SplitMix64 {
  /// Uniform in [lo, hi).
  fileprivate mutating func float(_ lo: Float, _ hi: Float) -> Float {
    lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
  }
}

@Suite struct BinaryOpsImportTests {
  @Test func onnxGraphImportsWithTheExpectedNodes() throws {
    let g = try FloatGraph(onnx: binaryGraph())
    #expect(g.nodes.map(\.kind) == [.mul, .logistic, .mul, .mul, .sub, .sub, .maximum, .mul])
    // The per-channel constant is NHWC [1,1,1,3]; Div's constant became 1/2;
    // Sub(0.5, s) keeps the constant first.
    #expect(g.tensors[g.nodes[0].inputs[1]].shape == [1, 1, 1, 3])
    #expect(g.tensors[g.nodes[3].inputs[1]].data == [0.5])
    #expect(g.tensors[g.nodes[5].inputs[0]].data == [0.5])
  }

  @Test func floatExecutorMatchesTheHandWrittenGraph() throws {
    let g = try FloatGraph(onnx: binaryGraph())
    var rng = SplitMix64(seed: 41)
    let x = (0..<48).map { _ in rng.float(-2, 2) }
    let got = try FloatExecutor(graph: g).run([nhwc(x, c: 3, h: 4, w: 4)])[0]
    let want = nhwc(expected(x), c: 3, h: 4, w: 4)
    let err = zip(got, want).map { abs($0 - $1) }.max()!
    #expect(err < 1e-5, "max |float executor − hand-written| = \(err)")
  }

  /// Quantized with the quantizer (calibrated on 64 samples), the int8 model
  /// agrees with the float graph within a few output steps on fresh inputs.
  @Test func onnxBinaryOpsQuantizedAgreeWithFloat() throws {
    let g = try FloatGraph(onnx: binaryGraph())
    var rng = SplitMix64(seed: 42)
    func sample() -> [Float] { (0..<48).map { _ in rng.float(-2, 2) } }
    let calib = (0..<64).map { _ in sample() }
    let r = try Quantizer.quantize(g, samples: calib, options: Quantizer.Options(imageInput: false))
    let model = try RuntimeModel(bytes: r.bytes)
    let ops = r.builder.ops.map(\.code)
    #expect(ops == [.mul, .logistic, .mul, .mul, .sub, .sub, .maximum, .mul])
    let inQ = r.quantization[r.graph.inputs[0]]!, outQ = r.quantization[r.graph.outputs[0]]!
    let exec = try FloatExecutor(graph: r.graph)
    var worst: Float = 0, sum: Float = 0, n = 0
    var range: Float = 0
    for _ in 0..<50 {
      let x = sample()
      let want = try exec.run([x])[0]
      let q = try model.run(inputs: [x.map { inQ.quantize($0) }])[0]
      for (v, w) in zip(q, want) {
        let y = Float(Int32(v) - outQ.zeroPoint) * outQ.scale
        worst = max(worst, abs(y - w)); sum += abs(y - w); n += 1
        range = max(range, abs(w))
      }
    }
    print("ONNX binary ops: max |int8 − float| = \(worst), mean \(sum / Float(n)), output scale \(outQ.scale), |y| <= \(range)")
    #expect(range > 20 * outQ.scale, "the output is not trivially small")
    #expect(worst <= 4 * outQ.scale, "max error \(worst) (output scale \(outQ.scale))")
    #expect(sum / Float(n) <= outQ.scale, "mean error \(sum / Float(n))")
  }

  @Test func divOfTwoActivationsIsRefused() {
    let bytes = onnxModel([onnxNode("Sigmoid", ["x"], "s"), onnxNode("Div", ["x", "s"], "y")], [], output: "y")
    #expect {
      _ = try FloatGraph(onnx: bytes)
    } throws: { e in
      "\(e)".contains("Div of two activations is not supported") && "\(e)".contains("y_node")
    }
    // Division of a constant by an activation, and by zero.
    let inv = onnxModel([onnxNode("Div", ["one", "x"], "y")], [onnxTensor("one", [], [1])], output: "y")
    #expect(throws: FloatGraphError.self) { try FloatGraph(onnx: inv) }
    let zero = onnxModel([onnxNode("Div", ["x", "z"], "y")], [onnxTensor("z", [3, 1, 1], [1, 0, 2])], output: "y")
    #expect(throws: FloatGraphError.self) { try FloatGraph(onnx: zero) }
  }

  /// Max of two activations quantized differently needs a requantize op
  /// cnnrt does not have: the quantizer refuses with a message.
  @Test func maxOfDifferentlyQuantizedActivationsIsRefused() throws {
    let bytes = onnxModel([onnxNode("Sigmoid", ["x"], "s"), onnxNode("Max", ["x", "s"], "y")], [], output: "y")
    let g = try FloatGraph(onnx: bytes)
    var rng = SplitMix64(seed: 3)
    let calib = (0..<8).map { _ in (0..<48).map { _ in rng.float(-2, 2) } }
    #expect {
      _ = try Quantizer.quantize(g, samples: calib, options: Quantizer.Options(imageInput: false))
    } throws: { e in
      "\(e)".contains("two activations with different quantizations")
    }
  }

  @Test func builderInfersBroadcastShapes() throws {
    var b = ModelBuilder()
    let x = try b.addActivation(shape: [1, 4, 4, 8], scale: 0.1, zeroPoint: 0)
    let g = try b.addActivation(shape: [1, 1, 1, 8], scale: 0.01, zeroPoint: -128)
    let p = try b.addActivation(shape: [4, 4, 1], scale: 0.01, zeroPoint: -128)
    let y1 = try b.mul(x, g, outputScale: 0.1, outputZeroPoint: 0)
    #expect(try b.tensor(y1).shape == [1, 4, 4, 8])
    let y2 = try b.sub(p, x, outputScale: 0.1, outputZeroPoint: 0)
    #expect(try b.tensor(y2).shape == [1, 4, 4, 8])
    let c = try b.addConstant([1, 2, 3], shape: [3], scale: 0.1, zeroPoint: 0)
    #expect(throws: ModelBuilderError.self) { try b.mul(x, c, outputScale: 0.1, outputZeroPoint: 0) }
    // Maximum needs the inputs' quantization on both inputs.
    #expect(throws: ModelBuilderError.self) { try b.maximum(x, g) }
    let x2 = try b.addActivation(shape: [8], scale: 0.1, zeroPoint: 0)
    let y3 = try b.maximum(x, x2)
    #expect(try b.tensor(y3).shape == [1, 4, 4, 8])
  }
}
