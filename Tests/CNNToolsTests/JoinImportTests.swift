// ONNX Concat and Resize through the importer, the float executor and the
// quantizer: a tiny model built here with the ONNX protobuf types, its float
// results checked against plain formulas (ONNX's own coordinate rules), the
// shared concatenation quantization checked against the calibrated ranges,
// and the int8 model checked against the float one. Plus the refusals.

import Foundation
import Testing
@testable import CNNRuntime
@testable import CNNTools

private func attr(_ name: String, int v: Int) -> ONNXAttributeProto {
  var a = ONNXAttributeProto(); a.name = name; a.type = .int; a.i = Int64(v); return a
}
private func attr(_ name: String, ints v: [Int]) -> ONNXAttributeProto {
  var a = ONNXAttributeProto(); a.name = name; a.type = .ints; a.ints = v.map { Int64($0) }; return a
}
private func attr(_ name: String, _ s: String) -> ONNXAttributeProto {
  var a = ONNXAttributeProto(); a.name = name; a.type = .string; a.s = Data(s.utf8); return a
}
private func node(_ op: String, _ inputs: [String], _ output: String, _ attrs: [ONNXAttributeProto] = []) -> ONNXNodeProto {
  var n = ONNXNodeProto(); n.opType = op; n.name = output; n.input = inputs; n.output = [output]; n.attribute = attrs; return n
}
private func floatTensor(_ name: String, _ dims: [Int], _ v: [Float]) -> ONNXTensorProto {
  var t = ONNXTensorProto(); t.name = name; t.dims = dims.map { Int64($0) }; t.dataType = 1; t.floatData = v; return t
}
private func int64Tensor(_ name: String, _ v: [Int]) -> ONNXTensorProto {
  var t = ONNXTensorProto(); t.name = name; t.dims = [Int64(v.count)]; t.dataType = 7; t.int64Data = v.map { Int64($0) }; return t
}

/// x [1,3,6,6] → Conv 1x1 (3→4) + Relu → a; Conv 3x3 pad 1 (3→3, larger
/// weights) → MaxPool 3x3 pad 1 → p; Concat(a, p, axis 1) → c [1,7,6,6];
/// `resize1` of c → d; `resize2` of d → e (the output). Nodes after the
/// concat are given as (op type, extra inputs, attributes).
private func concatResizeModel(opset: Int64 = 13, first: ONNXNodeProto? = nil, second: ONNXNodeProto? = nil,
                               firstIsSigmoid: Bool = false,
                               resize1: [ONNXAttributeProto] = [attr("mode", "nearest"),
                                                                attr("coordinate_transformation_mode", "asymmetric"),
                                                                attr("nearest_mode", "floor")],
                               scales1: [Float] = [1, 1, 2, 2]) -> [UInt8] {
  var rng = SplitMix64(seed: 40)
  func w(_ n: Int, _ s: Float) -> [Float] { (0..<n).map { _ in (Float(rng.next() % 2001) / 1000 - 1) * s } }
  var m = ONNXModelProto()
  m.irVersion = 7
  var opsetID = ONNXOperatorSetIdProto(); opsetID.domain = ""; opsetID.version = opset
  m.opsetImport = [opsetID]
  var x = ONNXValueInfoProto(); x.name = "x"
  var tt = ONNXTypeProto.Tensor(); tt.elemType = 1
  for d in [1, 3, 6, 6] as [Int64] { var dim = ONNXTensorShapeProto.Dimension(); dim.dimValue = d; tt.shape.dim.append(dim) }
  x.type.tensorType = tt
  var y = ONNXValueInfoProto(); y.name = "e"
  m.graph.input = [x]; m.graph.output = [y]
  m.graph.initializer = [
    floatTensor("w1", [4, 3, 1, 1], w(12, 0.5)), floatTensor("b1", [4], w(4, 0.1)),
    floatTensor("w2", [3, 3, 3, 3], w(81, 1.5)), floatTensor("b2", [3], w(3, 0.5)),
    floatTensor("scales1", [4], scales1), int64Tensor("sizes2", [1, 7, 9, 9]),
  ]
  var nodes = [
    node("Conv", ["x", "w1", "b1"], "a0"),
    firstIsSigmoid ? node("Sigmoid", ["a0"], "a") : node("Relu", ["a0"], "a"),
    node("Conv", ["x", "w2", "b2"], "q", [attr("pads", ints: [1, 1, 1, 1])]),
    node("MaxPool", ["q"], "p", [attr("kernel_shape", ints: [3, 3]), attr("pads", ints: [1, 1, 1, 1])]),
    node("Concat", ["a", "p"], "c", [attr("axis", int: 1)]),
    first ?? node("Resize", ["c", "", "scales1"], "d", resize1),
  ]
  nodes.append(second ?? node("Resize", ["d", "", "", "sizes2"], "e",
                               [attr("mode", "linear"), attr("coordinate_transformation_mode", "half_pixel")]))
  m.graph.node = nodes
  return [UInt8](try! m.serializedBytes() as Data)
}

/// ONNX linear resize with half_pixel coordinates (clamped to the input), NHWC data.
private func onnxLinearHalfPixel(_ v: [Float], h: Int, w: Int, c: Int, outH: Int, outW: Int) -> [Float] {
  func taps(_ i: Int, _ inSize: Int, _ outSize: Int) -> (Int, Int, Double) {
    var o = (Double(i) + 0.5) * Double(inSize) / Double(outSize) - 0.5
    o = min(max(o, 0), Double(inSize - 1))
    let lo = Int(o.rounded(.down))
    return (lo, min(lo + 1, inSize - 1), o - Double(lo))
  }
  var out: [Float] = []
  for y in 0..<outH {
    let (y0, y1, fy) = taps(y, h, outH)
    for x in 0..<outW {
      let (x0, x1, fx) = taps(x, w, outW)
      for ch in 0..<c {
        func p(_ yy: Int, _ xx: Int) -> Double { Double(v[(yy * w + xx) * c + ch]) }
        out.append(Float(p(y0, x0) * (1 - fy) * (1 - fx) + p(y1, x0) * fy * (1 - fx) + p(y0, x1) * (1 - fy) * fx
                         + p(y1, x1) * fy * fx))
      }
    }
  }
  return out
}

@Suite struct JoinImportTests {
  @Test func onnxConcatAndResizeImportEvaluateAndQuantize() throws {
    let g = try FloatGraph(onnx: concatResizeModel()).fusingActivations()  // the ReLU into the first conv
    #expect(g.nodes.map(\.kind) == [.conv2D, .conv2D, .maxPool2D, .concatenation, .resizeNearestNeighbor, .resizeBilinear])
    let cat = g.nodes[3], nn = g.nodes[4], bl = g.nodes[5]
    #expect(cat.axis == 3 && g.tensors[cat.output].shape == [1, 6, 6, 7])  // ONNX axis 1 (C) is NHWC axis 3
    #expect(!nn.alignCorners && !nn.halfPixelCenters && g.tensors[nn.output].shape == [1, 12, 12, 7])
    #expect(!bl.alignCorners && bl.halfPixelCenters && g.tensors[bl.output].shape == [1, 9, 9, 7])

    // Float results: the concatenation of the two branches, nearest x2, then ONNX half_pixel linear.
    var rng = SplitMix64(seed: 41)
    let samples = (0..<16).map { _ in (0..<108).map { _ in Float(rng.next() % 2001) / 1000 - 1 } }
    let all = try FloatExecutor(graph: g).runAll([samples[0]])
    let a = all[g.nodes[0].output], p = all[g.nodes[2].output], c = all[cat.output], d = all[nn.output]
    var maxErr: Float = 0
    for px in 0..<36 {
      for ch in 0..<7 {
        let want = ch < 4 ? a[px * 4 + ch] : p[px * 3 + ch - 4]
        maxErr = max(maxErr, abs(c[px * 7 + ch] - want))
      }
    }
    for y in 0..<12 { for x in 0..<12 { for ch in 0..<7 {
      maxErr = max(maxErr, abs(d[(y * 12 + x) * 7 + ch] - c[((y / 2) * 6 + x / 2) * 7 + ch]))
    } } }
    let e = all[bl.output], eWant = onnxLinearHalfPixel(d, h: 12, w: 12, c: 7, outH: 9, outW: 9)
    for i in e.indices { maxErr = max(maxErr, abs(e[i] - eWant[i])) }
    #expect(maxErr < 1e-5, "float concat / resize max error \(maxErr)")

    // Quantized: the concatenation's inputs, output and the tensors tied to
    // them share the union of the calibrated ranges of the two conv outputs.
    let r = try Quantizer.quantize(g, samples: samples, options: .init(imageInput: false))
    let s1 = try #require(r.stats[g.nodes[0].output]), s2 = try #require(r.stats[g.nodes[1].output])
    let union = ActivationQuant(min: min(s1.min, s2.min), max: max(s1.max, s2.max))
    #expect(union != ActivationQuant(min: s1.min, max: s1.max))  // the ReLU branch alone would be quantized differently
    for t in [g.nodes[0].output, g.nodes[1].output, g.nodes[2].output, cat.output, nn.output, bl.output] {
      #expect(r.quantization[t] == union, "\(g.tensors[t].name)")
    }
    let rm = try RuntimeModel(bytes: r.bytes)
    #expect(rm.ops.map(\.typeName) == ["Conv2D", "Conv2D", "MaxPool2D", "Concatenation", "ResizeNearestNeighbor", "ResizeBilinear"])
    let inQ = ActivationQuant(scale: rm.inputs[0].scale, zeroPoint: rm.inputs[0].zeroPoint)
    let o = rm.outputs[0]
    var worst: Float = 0, range: Float = 0
    for s in samples.prefix(8) {
      let ref = try FloatExecutor(graph: g).run([s])[0]
      let yq = try rm.run(input: s.map { inQ.quantize($0) }).map { o.scale * Float(Int32($0) - o.zeroPoint) }
      worst = max(worst, zip(yq, ref).map { abs($0 - $1) }.max() ?? .infinity)
      range = max(range, ref.map(abs).max() ?? 0)
    }
    print("ONNX Concat + Resize int8: max |int8 − float| = \(worst) (output scale \(o.scale), range \(range))")
    #expect(worst <= 0.05 * range)
  }

  @Test func onnxResizeModesMapOntoTFLite() throws {
    func flags(_ attrs: [ONNXAttributeProto], scales: [Float] = [1, 1, 2, 2]) throws -> (FloatGraph.Kind, Bool, Bool) {
      let g = try FloatGraph(onnx: concatResizeModel(resize1: attrs, scales1: scales)).fusingActivations()
      let n = g.nodes[4]
      return (n.kind, n.alignCorners, n.halfPixelCenters)
    }
    #expect(try flags([attr("mode", "nearest")]) == (.resizeNearestNeighbor, false, true))  // opset-13 default, x2
    #expect(try flags([attr("mode", "nearest"), attr("coordinate_transformation_mode", "tf_half_pixel_for_nn"),
                       attr("nearest_mode", "floor")]) == (.resizeNearestNeighbor, false, true))
    #expect(try flags([attr("mode", "nearest"), attr("coordinate_transformation_mode", "align_corners"),
                       attr("nearest_mode", "round_prefer_ceil")]) == (.resizeNearestNeighbor, true, false))
    #expect(try flags([attr("mode", "linear"), attr("coordinate_transformation_mode", "align_corners")])
              == (.resizeBilinear, true, false))
    #expect(try flags([attr("mode", "linear"), attr("coordinate_transformation_mode", "asymmetric")],
                      scales: [1, 1, 0.5, 0.5]) == (.resizeBilinear, false, false))
    // Refused: coordinates TFLite does not compute.
    func refusal(_ attrs: [ONNXAttributeProto], scales: [Float] = [1, 1, 2, 2]) -> String {
      do { _ = try FloatGraph(onnx: concatResizeModel(resize1: attrs, scales1: scales)); return "accepted" } catch {
        return "\(error)"
      }
    }
    #expect(refusal([attr("mode", "cubic")]).contains("mode 'cubic'"))
    #expect(refusal([attr("mode", "nearest"), attr("coordinate_transformation_mode", "asymmetric")]).contains("nearest_mode 'round_prefer_floor'"))
    #expect(refusal([attr("mode", "nearest")], scales: [1, 1, 0.5, 0.5]).contains("round_prefer_floor"))  // ties on a downscale
    #expect(refusal([attr("mode", "nearest")], scales: [1, 1, 1.25, 1.25]).contains("whole number"))
    #expect(refusal([attr("mode", "nearest")], scales: [1, 2, 2, 2]).contains("batch or channel"))
    #expect(refusal([attr("mode", "linear"), attr("coordinate_transformation_mode", "tf_crop_and_resize")])
              .contains("tf_crop_and_resize"))
  }

  @Test func onnxUpsampleImportsAsNearest() throws {
    let up1 = node("Upsample", ["c", "scales1"], "d", [attr("mode", "nearest")])
    let up2 = node("Upsample", ["d", "scales1"], "e", [attr("mode", "nearest")])
    let g = try FloatGraph(onnx: concatResizeModel(opset: 9, first: up1, second: up2))
    // Upsample: asymmetric coordinates, truncation on upscales (TFLite's plain nearest).
    #expect(g.nodes.suffix(2).map(\.kind) == [.resizeNearestNeighbor, .resizeNearestNeighbor])
    #expect(g.tensors[g.outputs[0]].shape == [1, 24, 24, 7])
    #expect(g.nodes.suffix(2).allSatisfy { !$0.alignCorners && !$0.halfPixelCenters })
  }

  @Test func concatenationOfAFixedQuantizationIsRefused() throws {
    // Sigmoid (output fixed at 1/256, −128) and a conv branch joined by one Concat.
    let g = try FloatGraph(onnx: concatResizeModel(firstIsSigmoid: true))
    var rng = SplitMix64(seed: 42)
    let samples = (0..<4).map { _ in (0..<108).map { _ in Float(rng.next() % 2001) / 1000 - 1 } }
    do {
      _ = try Quantizer.quantize(g, samples: samples, options: .init(imageInput: false))
      Issue.record("quantized a concatenation of a logistic output and a conv output")
    } catch let e as FloatGraphError {
      #expect("\(e)".contains("fixed quantization") && "\(e)".contains("logistic"), "\(e)")
    }
  }

  /// tools/tflm/make_join_float.py: conv + ReLU, CONCATENATION with the
  /// model input (axis -1), RESIZE_BILINEAR (half_pixel_centers),
  /// RESIZE_NEAREST_NEIGHBOR (align_corners), with TFLite's reference output.
  @Test func floatTFLiteJoinModelMatchesTFLiteAndQuantizes() throws {
    let (bytes, f32) = (floatGoldenBytes, floatGoldenF32)
    let g = try FloatGraph(tflite: try bytes("join_float.tflite"))
    #expect(g.nodes.map(\.kind) == [.conv2D, .concatenation, .resizeBilinear, .resizeNearestNeighbor])
    #expect(g.nodes[1].axis == 3 && g.nodes[1].inputs.count == 2)
    #expect(!g.nodes[2].alignCorners && g.nodes[2].halfPixelCenters)
    #expect(g.nodes[3].alignCorners && !g.nodes[3].halfPixelCenters)
    let x = try f32("join_float.input.f32"), ref = try f32("join_float.output.f32")
    let y = try FloatExecutor(graph: g).run([x])[0]
    #expect(y.count == ref.count && y.count == 14 * 18 * 8)
    let err = zip(y, ref).map { abs($0 - $1) }.max() ?? .infinity
    #expect(err < 1e-5, "float executor vs TFLite: \(err)")

    var rng = SplitMix64(seed: 43)
    let samples = [x] + (0..<15).map { _ in (0..<75).map { _ in Float(rng.next() % 2001) / 1000 - 1 } }
    let r = try Quantizer.quantize(g, samples: samples, options: .init(imageInput: false))
    // The model input is joined to the conv output: both (and the output) share one quantization.
    #expect(r.quantization[g.inputs[0]] == r.quantization[g.nodes[0].output])
    #expect(r.quantization[g.inputs[0]] == r.quantization[g.outputs[0]])
    let rm = try RuntimeModel(bytes: r.bytes)
    let inQ = ActivationQuant(scale: rm.inputs[0].scale, zeroPoint: rm.inputs[0].zeroPoint)
    let o = rm.outputs[0]
    let yq = try rm.run(input: x.map { inQ.quantize($0) }).map { o.scale * Float(Int32($0) - o.zeroPoint) }
    let qerr = zip(yq, ref).map { abs($0 - $1) }.max() ?? .infinity
    let range = ref.map(abs).max() ?? 0
    print("float TFLite Concat + Resize int8: max |int8 − TFLite float| = \(qerr) (output scale \(o.scale), range \(range))")
    #expect(qerr <= 0.05 * range)
  }

  @Test func tfliteConcatenationGoldenImportsWithNormalisedAxis() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Golden/tflm/models/concat3_c3_c5_c7_neg_axis.tflite")
    let r = try TFLiteImporter.importModel(bytes: [UInt8](try Data(contentsOf: url)))
    #expect(r.builder.ops.map(\.code) == [.concatenation])
    #expect(r.builder.ops[0].options.axis == 3 && r.builder.ops[0].inputs.count == 3)
  }
}
