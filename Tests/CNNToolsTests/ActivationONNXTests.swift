// Float activations through the quantizer: tiny ONNX graphs (Conv → act, or
// the activation straight after the input) and a float TFLite model (LEAKY_RELU
// → HARD_SWISH → PRELU, + RELU of the input, → TANH) imported, quantized with
// calibration samples, run in int8 and compared with the float executor.

import Foundation
import Testing
@testable import CNNTools
import CNNRuntime

private func unit(_ rng: inout SplitMix64) -> Double { Double(rng.next() >> 11) / Double(UInt64(1) << 53) }

private func attr(_ name: String, f: Float) -> ONNXAttributeProto {
  var a = ONNXAttributeProto(); a.name = name; a.type = .float; a.f = f; return a
}

private func attr(_ name: String, ints: [Int64]) -> ONNXAttributeProto {
  var a = ONNXAttributeProto(); a.name = name; a.type = .ints; a.ints = ints; return a
}

private func initializer(_ name: String, _ dims: [Int64], _ values: [Float]) -> ONNXTensorProto {
  var t = ONNXTensorProto(); t.name = name; t.dims = dims; t.dataType = 1; t.floatData = values; return t
}

/// x [1, 3, 6, 6] → (Conv 3→5, 3×3, pads 1 →) `op` → y. `conv` false: the
/// activation reads the input directly (a standalone op after the input).
func convActivationONNX(_ op: String, _ attrs: [ONNXAttributeProto] = [], extra: [ONNXTensorProto] = [],
                       conv: Bool = true) -> [UInt8] {
  var m = ONNXModelProto()
  m.irVersion = 7
  var opset = ONNXOperatorSetIdProto(); opset.domain = ""; opset.version = 14
  m.opsetImport = [opset]
  var x = ONNXValueInfoProto(); x.name = "x"
  var tt = ONNXTypeProto.Tensor(); tt.elemType = 1
  for d in [1, 3, 6, 6] as [Int64] { var dim = ONNXTensorShapeProto.Dimension(); dim.dimValue = d; tt.shape.dim.append(dim) }
  x.type.tensorType = tt
  var y = ONNXValueInfoProto(); y.name = "y"
  var nodes: [ONNXNodeProto] = []
  var inits = extra
  var actInput = "x"
  if conv {
    var rng = SplitMix64(seed: 7)
    let w = (0..<(5 * 3 * 3 * 3)).map { _ in Float(unit(&rng) * 0.8 - 0.4) }
    let b = (0..<5).map { _ in Float(unit(&rng) * 0.4 - 0.2) }
    inits += [initializer("w", [5, 3, 3, 3], w), initializer("b", [5], b)]
    var c = ONNXNodeProto()
    c.opType = "Conv"; c.name = "conv"; c.input = ["x", "w", "b"]; c.output = ["c"]
    c.attribute = [attr("kernel_shape", ints: [3, 3]), attr("pads", ints: [1, 1, 1, 1])]
    nodes.append(c)
    actInput = "c"
  }
  var n = ONNXNodeProto()
  n.opType = op; n.name = "act"; n.input = [actInput] + extra.map(\.name); n.output = ["y"]; n.attribute = attrs
  nodes.append(n)
  m.graph.input = [x]; m.graph.output = [y]; m.graph.node = nodes; m.graph.initializer = inits
  return [UInt8](try! m.serializedBytes() as Data)
}

private func samples(_ count: Int, seed: UInt64, range: Float) -> [[Float]] {
  var rng = SplitMix64(seed: seed)
  return (0..<count).map { _ in (0..<(3 * 36)).map { _ in Float(unit(&rng) * 2 - 1) * range } }
}

/// Imports, quantizes (16 samples) and runs 8 of them: the largest
/// |int8 − float| over every output, in units of the output scale.
private func int8Error(_ bytes: [UInt8], expect kind: FloatGraph.Kind, code: OpCode, range: Float = 2)
  throws -> (maxError: Float, scale: Float) {
  let g = try FloatGraph(onnx: bytes)
  #expect(g.nodes.last?.kind == kind)
  let q = try Quantizer.quantize(g, samples: samples(16, seed: 1, range: range), options: .init(imageInput: false))
  let rt = try RuntimeModel(bytes: q.bytes)
  #expect(rt.ops.last?.typeName == "\(code.staticName)", "\(rt.ops.map(\.typeName))")
  let inQ = q.quantization[g.inputs[0]]!, outQ = q.quantization[g.outputs[0]]!
  let exec = try FloatExecutor(graph: g)
  var worst: Float = 0
  // The calibration samples themselves: every value lies inside the
  // calibrated ranges, so the difference is rounding, not clipping.
  for s in samples(16, seed: 1, range: range).prefix(8) {
    // The float model's NHWC input, quantized as the runtime reads it.
    let out = try rt.run(inputs: [s.map { inQ.quantize($0) }])[0]
    let ref = try exec.run([s])[0]
    for (o, r) in zip(out, ref) { worst = max(worst, abs(outQ.scale * Float(Int32(o) - outQ.zeroPoint) - r)) }
  }
  return (worst / outQ.scale, outQ.scale)
}

@Suite struct ActivationONNXTests {
  // The bound: a few output steps (the conv's own int8 rounding carried
  // through a slope <= 1.5, plus the activation's rounding). A wrong table,
  // multiplier or quantization rule is off by tens of steps.
  static let bound: Float = 4

  @Test func hardSigmoidBecomesLookupTable() throws {
    let (e, s) = try int8Error(convActivationONNX("HardSigmoid", [attr("alpha", f: 0.25), attr("beta", f: 0.4)]),
                               expect: .hardSigmoid, code: .lookupTable)
    print("ONNX Conv → HardSigmoid: max |int8 − float| = \(e) steps of \(s)")
    #expect(s == 1.0 / 256)
    #expect(e <= Self.bound)
  }

  @Test func leakyReluMatchesFloat() throws {
    let (e, s) = try int8Error(convActivationONNX("LeakyRelu", [attr("alpha", f: 0.2)]), expect: .leakyRelu, code: .leakyRelu)
    print("ONNX Conv → LeakyRelu: max |int8 − float| = \(e) steps of \(s)")
    #expect(e <= Self.bound)
  }

  @Test func hardSwishMatchesFloat() throws {
    let (e, s) = try int8Error(convActivationONNX("HardSwish"), expect: .hardSwish, code: .hardSwish, range: 4)
    print("ONNX Conv → HardSwish: max |int8 − float| = \(e) steps of \(s)")
    #expect(e <= Self.bound)
  }

  @Test func tanhMatchesFloat() throws {
    let (e, s) = try int8Error(convActivationONNX("Tanh"), expect: .tanh, code: .tanh)
    print("ONNX Conv → Tanh: max |int8 − float| = \(e) steps of \(s)")
    #expect(s == 1.0 / 128)
    #expect(e <= Self.bound)
  }

  @Test func preluPerChannelSlopeMatchesFloat() throws {
    let slope = initializer("slope", [5, 1, 1], [0.1, -0.2, 0.3, 0.5, 0.05])
    let (e, s) = try int8Error(convActivationONNX("PRelu", extra: [slope]), expect: .prelu, code: .prelu)
    print("ONNX Conv → PRelu: max |int8 − float| = \(e) steps of \(s)")
    #expect(e <= Self.bound)
  }

  @Test func floatTFLiteActivationsQuantize() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Golden/float/activations_float.tflite")
    let g = try FloatGraph(tflite: [UInt8](try Data(contentsOf: url)))
    #expect(Set(g.nodes.map(\.kind)) == [.leakyRelu, .hardSwish, .prelu, .activation, .add, .tanh])
    #expect(g.nodes.first { $0.kind == .leakyRelu }?.alpha == 0.2)
    var rng = SplitMix64(seed: 5)
    let calib = (0..<16).map { _ in (0..<80).map { _ in Float(unit(&rng) * 8 - 4) } }
    let q = try Quantizer.quantize(g, samples: calib, options: .init(imageInput: false))
    let rt = try RuntimeModel(bytes: q.bytes)
    #expect(rt.ops.map(\.typeName) == ["LeakyReLU", "HardSwish", "PReLU", "ReLU", "Add", "Tanh"], "\(rt.ops.map(\.typeName))")
    let inQ = q.quantization[g.inputs[0]]!
    let exec = try FloatExecutor(graph: g)
    var worst: Float = 0
    for s in calib.prefix(8) {
      let out = try rt.run(inputs: [s.map { inQ.quantize($0) }])[0]
      let ref = try exec.run([s])[0]
      for (o, r) in zip(out, ref) { worst = max(worst, abs(Float(o) / 128 - r) * 128) }
    }
    print("float TFLite activations: max |int8 − float| = \(worst) steps of 1/128")
    // Five requantizing ops in a chain: each adds about a step.
    #expect(worst <= 6)
  }

  @Test func unfusableReluAndClipBecomeStandaloneOps() throws {
    // Straight after the model input there is no producer to fuse into.
    let (e1, _) = try int8Error(convActivationONNX("Relu", conv: false), expect: .activation, code: .relu)
    #expect(e1 <= 1.5)
    var lo = initializer("lo", [], [0]), hi = initializer("hi", [], [6])
    lo.dims = []; hi.dims = []
    let (e2, _) = try int8Error(convActivationONNX("Clip", extra: [lo, hi], conv: false), expect: .activation, code: .relu6,
                                range: 8)
    #expect(e2 <= 1.5)
    // After a conv the ReLU is still fused (no standalone op).
    let g = try FloatGraph(onnx: convActivationONNX("Relu"))
    let q = try Quantizer.quantize(g, samples: samples(4, seed: 3, range: 2), options: .init(imageInput: false))
    #expect(try RuntimeModel(bytes: q.bytes).opCount == 1)
  }
}

/// ONNX elementwise functions quantized as a lookup table (UnaryFunction.swift).
@Suite struct UnaryFunctionONNXTests {
  /// (ONNX op, attributes, range of the calibration inputs)
  static let cases: [(String, [ONNXAttributeProto], Float)] = [
    ("Elu", [attr("alpha", f: 0.7)], 3), ("Celu", [attr("alpha", f: 2)], 3), ("Selu", [], 3),
    ("Softplus", [], 4), ("Softsign", [], 4), ("Mish", [], 4), ("Gelu", [], 4),
    ("Erf", [], 2), ("Exp", [], 2), ("Abs", [], 2), ("Neg", [], 2), ("ThresholdedRelu", [attr("alpha", f: 0.5)], 2),
    ("Swish", [attr("alpha", f: 1.5)], 4),
  ]

  /// Every input byte maps to the int8 value nearest f(its real value): the
  /// function straight after the input, all 256 bytes run through the model.
  @Test(arguments: 0..<cases.count)
  func everyInputByteGetsTheNearestOutput(index: Int) throws {
    let (op, attrs, range) = Self.cases[index]
    let g = try FloatGraph(onnx: convActivationONNX(op, attrs, conv: false))
    #expect(g.nodes.map(\.kind) == [.unaryFunction])
    let q = try Quantizer.quantize(g, samples: samples(16, seed: 3, range: range), options: .init(imageInput: false))
    let rt = try RuntimeModel(bytes: q.bytes)
    #expect(rt.ops.map(\.typeName) == ["LookupTable"])
    let inQ = q.quantization[g.inputs[0]]!, outQ = q.quantization[g.outputs[0]]!
    let exec = try FloatExecutor(graph: g)
    let bytes = (0..<(3 * 108)).map { Int8(truncatingIfNeeded: $0 % 256 - 128) }
    var mismatches = 0
    for run in 0..<3 {
      let input = Array(bytes[(run * 108)..<((run + 1) * 108)])
      let got = try rt.run(inputs: [input])[0]
      let real = input.map { inQ.scale * Float(Int32($0) - inQ.zeroPoint) }
      let want = try exec.run([real])[0].map { y -> Int8 in
        let t = (Double(y) / Double(outQ.scale)).rounded(.toNearestOrAwayFromZero) + Double(outQ.zeroPoint)
        return Int8(max(-128, min(127, t)))
      }
      // The table is computed in double, the float executor in float: a
      // value on a rounding boundary may land one step apart, no more.
      for (a, b) in zip(got, want) where a != b {
        #expect(abs(Int(a) - Int(b)) <= 1)
        mismatches += 1
      }
    }
    print("ONNX \(op): \(mismatches) of 324 bytes one step from the float executor's nearest")
    #expect(mismatches <= 3)
  }

  /// Conv → function: int8 within a few output steps of float (the conv's
  /// rounding carried through the function). Not for Exp (slope up to e^5
  /// on this conv's range) or ThresholdedRelu (a jump of alpha at the
  /// threshold, which one input step can cross): both are checked byte by
  /// byte above. Erf squeezes the conv's range into [−1, 1], a grid about
  /// four times finer than its input's, hence its wider bound.
  @Test(arguments: 0..<cases.count)
  func afterConvMatchesFloat(index: Int) throws {
    let (op, attrs, _) = Self.cases[index]
    guard op != "Exp" && op != "ThresholdedRelu" else { return }
    let (e, s) = try int8Error(convActivationONNX(op, attrs), expect: .unaryFunction, code: .lookupTable)
    print("ONNX Conv → \(op): max |int8 − float| = \(e) steps of \(s)")
    #expect(e <= (op == "Erf" ? 6 : ActivationONNXTests.bound))
  }

  /// The float definitions at known points.
  @Test func floatDefinitions() {
    func f(_ u: UnaryFunction, _ x: Double, _ a: Double = 1, _ b: Double = 1) -> Double { u.apply(x, alpha: a, beta: b) }
    let checks: [(Double, Double)] = [
      (f(.elu, -1), exp(-1) - 1), (f(.elu, 2, 0.5), 2), (f(.celu, -2, 2), 2 * (exp(-1) - 1)),
      (f(.selu, 1, 1.6732632423543772, 1.0507009873554805), 1.0507009873554805),
      (f(.softplus, 0), log(2.0)), (f(.softplus, 100), 100), (f(.softsign, 3), 0.75),
      (f(.mish, 1), tanh(log1p(exp(1.0)))), (f(.gelu, 1), 0.8413447460685429), (f(.gelu, -1), -0.15865525393145707),
      (f(.geluTanh, 1), 0.5 * (1 + tanh(sqrt(2 / Double.pi) * 1.044715))), (f(.erf, 0.5), 0.5204998778130465),
      (f(.abs, -3), 3), (f(.neg, 2), -2), (f(.thresholdedRelu, 0.5, 0.6), 0), (f(.thresholdedRelu, 0.7, 0.6), 0.7),
      (f(.swish, 1, 2), 1 / (1 + exp(-2.0))),
    ]
    for (i, (got, want)) in checks.enumerated() { #expect(abs(got - want) < 1e-12, "check \(i): \(got) vs \(want)") }
  }

  @Test func unknownGeluApproximationIsRefused() throws {
    var a = ONNXAttributeProto(); a.name = "approximate"; a.type = .string; a.s = Data("erf".utf8)
    #expect(throws: FloatGraphError.self) { try FloatGraph(onnx: convActivationONNX("Gelu", [a])) }
  }
}
