// ONNX shape ops (Slice with a negative step, DepthToSpace DCR, Transpose
// of H and W in NCHW terms, Split, SpaceToDepth) in a tiny float graph built
// here: the import (NCHW → NHWC storage) is checked against the ONNX
// definitions written out as NCHW index formulas, then the graph is
// quantized and the int8 runtime's output compared with the float one.

import CNNRuntime
@testable import CNNTools
import Foundation
import Testing

/// An int64 initializer (shared by the ONNX test files).
func onnxInt64Tensor(_ name: String, _ v: [Int64]) -> ONNXTensorProto {
  var t = ONNXTensorProto()
  t.name = name; t.dataType = 7; t.dims = [Int64(v.count)]; t.int64Data = v
  return t
}

private func node(_ op: String, _ inputs: [String], _ outputs: [String], ints: [String: Int64] = [:],
                  strings: [String: String] = [:], intLists: [String: [Int64]] = [:]) -> ONNXNodeProto {
  var n = ONNXNodeProto()
  n.opType = op; n.name = outputs[0]; n.input = inputs; n.output = outputs
  for (k, v) in ints { var a = ONNXAttributeProto(); a.name = k; a.type = .int; a.i = v; n.attribute.append(a) }
  for (k, v) in strings { var a = ONNXAttributeProto(); a.name = k; a.type = .string; a.s = Data(v.utf8); n.attribute.append(a) }
  for (k, v) in intLists { var a = ONNXAttributeProto(); a.name = k; a.type = .ints; a.ints = v; n.attribute.append(a) }
  return n
}

/// A float graph input / output of `dims` (nil: no shape); shared by the ONNX test files.
func onnxValueInfo(_ name: String, _ dims: [Int64]?) -> ONNXValueInfoProto {
  var v = ONNXValueInfoProto()
  v.name = name
  if let dims {
    var tt = ONNXTypeProto.Tensor()
    tt.elemType = 1
    for d in dims { var dim = ONNXTensorShapeProto.Dimension(); dim.dimValue = d; tt.shape.dim.append(dim) }
    v.type.tensorType = tt
  }
  return v
}

/// An opset-13 model reading float "x" of `dims` and writing "y" (no shape given).
private func opset13Model(x dims: [Int64]) -> ONNXModelProto {
  var m = ONNXModelProto()
  m.irVersion = 8
  var opset = ONNXOperatorSetIdProto()
  opset.domain = ""; opset.version = 13
  m.opsetImport = [opset]
  m.graph.input = [onnxValueInfo("x", dims)]
  m.graph.output = [onnxValueInfo("y", nil)]
  return m
}

/// x [1,8,4,6] → Slice(W from 5 down to 1, step −1) [1,8,4,5] → DepthToSpace(2, DCR) [1,2,8,10]
/// → Transpose [0,1,3,2] [1,2,10,8] → Split(axis 3, [4, 4]) → Add [1,2,10,4] → SpaceToDepth(2) [1,8,5,2].
private func shapeGraph() throws -> [UInt8] {
  var m = opset13Model(x: [1, 8, 4, 6])
  m.graph.initializer = [onnxInt64Tensor("starts", [5]), onnxInt64Tensor("ends", [0]), onnxInt64Tensor("axes", [3]),
                         onnxInt64Tensor("steps", [-1]), onnxInt64Tensor("sizes", [4, 4])]
  m.graph.node = [
    node("Slice", ["x", "starts", "ends", "axes", "steps"], ["s"]),
    node("DepthToSpace", ["s"], ["d"], ints: ["blocksize": 2], strings: ["mode": "DCR"]),
    node("Transpose", ["d"], ["t"], intLists: ["perm": [0, 1, 3, 2]]),
    node("Split", ["t", "sizes"], ["a", "b"], ints: ["axis": 3]),
    node("Add", ["a", "b"], ["e"]),
    node("SpaceToDepth", ["e"], ["y"], ints: ["blocksize": 2]),
  ]
  return [UInt8](try m.serializedBytes() as Data)
}

/// The same computation from the ONNX operator definitions, NCHW (batch 1).
private func reference(_ x: [Float]) -> [Float] {
  func at(_ v: [Float], _ dims: [Int], _ c: Int, _ h: Int, _ w: Int) -> Float { v[(c * dims[1] + h) * dims[2] + w] }
  var s: [Float] = []
  for c in 0..<8 { for h in 0..<4 { for w in 0..<5 { s.append(at(x, [8, 4, 6], c, h, 5 - w)) } } }
  var d: [Float] = []  // [2, 8, 10]: d[c, h·2+i, w·2+j] = s[(i·2+j)·2 + c, h, w]
  for c in 0..<2 { for hh in 0..<8 { for ww in 0..<10 {
    d.append(at(s, [8, 4, 5], ((hh % 2) * 2 + ww % 2) * 2 + c, hh / 2, ww / 2))
  } } }
  var t: [Float] = []  // [2, 10, 8]
  for c in 0..<2 { for w in 0..<10 { for h in 0..<8 { t.append(at(d, [2, 8, 10], c, h, w)) } } }
  var e: [Float] = []  // [2, 10, 4]
  for c in 0..<2 { for h in 0..<10 { for w in 0..<4 { e.append(at(t, [2, 10, 8], c, h, w) + at(t, [2, 10, 8], c, h, w + 4)) } } }
  var y: [Float] = []  // [8, 5, 2]: y[(i·2+j)·2 + c, h, w] = e[c, h·2+i, w·2+j]
  for oc in 0..<8 { for h in 0..<5 { for w in 0..<2 {
    let (blk, c) = (oc / 2, oc % 2)
    y.append(at(e, [2, 10, 4], c, h * 2 + blk / 2, w * 2 + blk % 2))
  } } }
  return y
}

/// NCHW (batch 1) → NHWC, or back.
private func nhwc(_ v: [Float], c: Int, h: Int, w: Int, inverse: Bool = false) -> [Float] {
  var out = [Float](repeating: 0, count: v.count)
  for ch in 0..<c { for y in 0..<h { for x in 0..<w {
    let a = (ch * h + y) * w + x, b = (y * w + x) * c + ch
    if inverse { out[a] = v[b] } else { out[b] = v[a] }
  } } }
  return out
}

@Suite struct ShapeONNXTests {
  @Test func sliceDepthToSpaceTransposeSplitQuantize() throws {
    let g = try FloatGraph(onnx: try shapeGraph())
    #expect(g.nodes.map(\.kind) == [.stridedSlice, .depthToSpace, .transpose, .stridedSlice, .stridedSlice, .add, .spaceToDepth])
    #expect(g.tensors[g.outputs[0]].shape == [1, 5, 2, 8])
    var rng = SplitMix64(seed: 12)
    func sample() -> [Float] { (0..<192).map { _ in Float(Int(rng.next() % 2001) - 1000) / 500 } }
    let x = sample()
    let want = reference(x)
    let got = nhwc(try FloatExecutor(graph: g).run([nhwc(x, c: 8, h: 4, w: 6)])[0], c: 8, h: 5, w: 2, inverse: true)
    #expect(got == want, "float import differs from the ONNX definitions")

    let r = try Quantizer.quantize(g, samples: (0..<16).map { _ in nhwc(sample(), c: 8, h: 4, w: 6) },
                                   options: .init(imageInput: false))
    let rm = try RuntimeModel(bytes: r.bytes)
    #expect(rm.ops.map(\.typeName).filter { $0 == "StridedSlice" }.count == 3)
    let inQ = ActivationQuant(scale: rm.inputs[0].scale, zeroPoint: rm.inputs[0].zeroPoint)
    let o = rm.outputs[0]
    let yq = nhwc(try rm.run(input: nhwc(x, c: 8, h: 4, w: 6).map { inQ.quantize($0) })
                    .map { o.scale * Float(Int32($0) - o.zeroPoint) }, c: 8, h: 5, w: 2, inverse: true)
    let err = zip(yq, want).map { abs($0 - $1) }.max() ?? .infinity
    print("ONNX shape ops int8: max |int8 − float| = \(err) (input scale \(inQ.scale), output scale \(o.scale))")
    // Byte moves are exact: the error is the input rounding of both addends plus the Add's requantization.
    #expect(err <= inQ.scale + o.scale)
  }

  /// Gather of NCHW channels (axis 1, a negative index) on the NHWC storage, float and int8.
  @Test func gatherOfChannels() throws {
    var m = opset13Model(x: [1, 8, 4, 6])
    m.graph.initializer = [onnxInt64Tensor("idx", [7, 0, -5])]
    m.graph.node = [node("Gather", ["x", "idx"], ["y"], ints: ["axis": 1])]
    let g = try FloatGraph(onnx: [UInt8](try m.serializedBytes() as Data))
    #expect(g.tensors[g.outputs[0]].shape == [1, 4, 6, 3])
    var rng = SplitMix64(seed: 5)
    func sample() -> [Float] { (0..<192).map { _ in Float(Int(rng.next() % 2001) - 1000) / 500 } }
    let x = sample()
    var want: [Float] = []
    for c in [7, 0, 3] { for h in 0..<4 { for w in 0..<6 { want.append(x[(c * 4 + h) * 6 + w]) } } }
    let got = nhwc(try FloatExecutor(graph: g).run([nhwc(x, c: 8, h: 4, w: 6)])[0], c: 3, h: 4, w: 6, inverse: true)
    #expect(got == want)
    let r = try Quantizer.quantize(g, samples: (0..<8).map { _ in nhwc(sample(), c: 8, h: 4, w: 6) }, options: .init(imageInput: false))
    let rm = try RuntimeModel(bytes: r.bytes)
    let inQ = ActivationQuant(scale: rm.inputs[0].scale, zeroPoint: rm.inputs[0].zeroPoint)
    let o = rm.outputs[0]
    #expect(o.scale == inQ.scale && o.zeroPoint == inQ.zeroPoint)
    let yq = nhwc(try rm.run(input: nhwc(x, c: 8, h: 4, w: 6).map { inQ.quantize($0) })
                    .map { o.scale * Float(Int32($0) - o.zeroPoint) }, c: 3, h: 4, w: 6, inverse: true)
    #expect((zip(yq, want).map { abs($0 - $1) }.max() ?? .infinity) <= inQ.scale / 2 + 1e-6)
  }

  /// DepthToSpace CRD (PyTorch's PixelShuffle): y[c, h·b+i, w·b+j] = x[c·b² + i·b + j, h, w],
  /// float and int8 (a channel gather into DCR's order, then DCR: byte moves only).
  @Test func crdDepthToSpace() throws {
    var m = opset13Model(x: [1, 12, 2, 3])
    m.graph.node = [node("DepthToSpace", ["x"], ["y"], ints: ["blocksize": 2], strings: ["mode": "CRD"])]
    let g = try FloatGraph(onnx: [UInt8](try m.serializedBytes() as Data))
    #expect(g.nodes.map(\.kind) == [.gather, .depthToSpace])
    #expect(g.tensors[g.outputs[0]].shape == [1, 4, 6, 3])
    var rng = SplitMix64(seed: 21)
    func sample() -> [Float] { (0..<72).map { _ in Float(Int(rng.next() % 2001) - 1000) / 500 } }
    let x = sample()
    var want: [Float] = []
    for c in 0..<3 { for hh in 0..<4 { for ww in 0..<6 {
      want.append(x[((c * 4 + (hh % 2) * 2 + ww % 2) * 2 + hh / 2) * 3 + ww / 2])
    } } }
    let got = nhwc(try FloatExecutor(graph: g).run([nhwc(x, c: 12, h: 2, w: 3)])[0], c: 3, h: 4, w: 6, inverse: true)
    #expect(got == want)
    let r = try Quantizer.quantize(g, samples: [nhwc(x, c: 12, h: 2, w: 3)] + (0..<7).map { _ in nhwc(sample(), c: 12, h: 2, w: 3) },
                                   options: .init(imageInput: false))
    let rm = try RuntimeModel(bytes: r.bytes)
    #expect(rm.ops.map(\.typeName) == ["Gather", "DepthToSpace"])
    let inQ = ActivationQuant(scale: rm.inputs[0].scale, zeroPoint: rm.inputs[0].zeroPoint)
    let xq = nhwc(x, c: 12, h: 2, w: 3).map { inQ.quantize($0) }
    let yq = try rm.run(input: xq)
    // Byte moves: the int8 output is the quantized input, rearranged.
    let wantQ = nhwc(want, c: 3, h: 4, w: 6).map { inQ.quantize($0) }
    #expect(yq == wantQ)
  }
}

/// ShuffleNet's channel shuffle: Reshape [1, g, C/g, H, W] → Transpose(0, 2, 1, 3, 4) →
/// Reshape [1, C, H, W]; `tail` replaces the last two nodes (a refused use of the rank-5 view).
private func shuffleGraph(groups g: Int, tail: [ONNXNodeProto]? = nil) throws -> [UInt8] {
  var m = opset13Model(x: [1, 12, 2, 3])
  m.graph.initializer = [onnxInt64Tensor("s5", [1, Int64(g), Int64(12 / g), 2, 3]), onnxInt64Tensor("s4", [1, -1, 2, 3])]
  m.graph.node = [node("Reshape", ["x", "s5"], ["v"])]
    + (tail ?? [node("Transpose", ["v"], ["t"], intLists: ["perm": [0, 2, 1, 3, 4]]), node("Reshape", ["t", "s4"], ["y"])])
  return [UInt8](try m.serializedBytes() as Data)
}

@Suite struct ChannelShuffleONNXTests {
  @Test(arguments: [2, 3, 4])
  func shuffleIsOneChannelGather(groups g: Int) throws {
    let graph = try FloatGraph(onnx: try shuffleGraph(groups: g))
    #expect(graph.nodes.map(\.kind) == [.gather])
    #expect(graph.tensors[graph.outputs[0]].shape == [1, 2, 3, 12])
    var rng = SplitMix64(seed: UInt64(g))
    let x = (0..<72).map { _ in Float(Int(rng.next() % 2001) - 1000) / 500 }
    // The definition: view [g, C/g, H·W], swap the first two axes, view [C, H·W].
    var want: [Float] = []
    let cpg = 12 / g
    for j in 0..<cpg { for i in 0..<g { for p in 0..<6 { want.append(x[(i * cpg + j) * 6 + p]) } } }
    let got = nhwc(try FloatExecutor(graph: graph).run([nhwc(x, c: 12, h: 2, w: 3)])[0], c: 12, h: 2, w: 3, inverse: true)
    #expect(got == want)
  }

  @Test func otherUsesOfTheRank5ViewAreRefused() throws {
    for tail in [[node("Relu", ["v"], ["y"])],
                 [node("Transpose", ["v"], ["y"], intLists: ["perm": [0, 1, 2, 4, 3]])],
                 [node("Reshape", ["v", "s4"], ["y"])]] {
      #expect(throws: FloatGraphError.self) { try FloatGraph(onnx: try shuffleGraph(groups: 2, tail: tail)) }
    }
  }
}

@Suite struct ShapeFoldONNXTests {
  /// PyTorch's `x.view(x.size(0), -1)` with a dynamic batch: Shape → Gather →
  /// Unsqueeze → Concat → Reshape folds to a constant [1, -1] at import.
  @Test func dynamicBatchFlattenFoldsToAConstantShape() throws {
    var m = ONNXModelProto()
    m.irVersion = 8
    var opset = ONNXOperatorSetIdProto()
    opset.domain = ""; opset.version = 13
    m.opsetImport = [opset]
    var x = onnxValueInfo("x", [1, 3, 4, 4])
    var batch = ONNXTensorShapeProto.Dimension()
    batch.dimParam = "N"
    x.type.tensorType.shape.dim[0] = batch
    m.graph.input = [x]
    m.graph.output = [onnxValueInfo("y", nil)]
    var zero = onnxInt64Tensor("zero", [0])
    zero.dims = []
    var w = ONNXTensorProto()
    w.name = "w"; w.dataType = 1; w.dims = [5, 48]; w.floatData = (0..<240).map { Float($0 % 7) / 7 - 0.4 }
    m.graph.initializer = [zero, onnxInt64Tensor("minus1", [-1]), onnxInt64Tensor("axes0", [0]), w]
    m.graph.node = [
      node("Relu", ["x"], ["r"]),
      node("Shape", ["r"], ["s"]),
      node("Gather", ["s", "zero"], ["n"], ints: ["axis": 0]),
      node("Unsqueeze", ["n", "axes0"], ["n1"]),
      node("Concat", ["n1", "minus1"], ["shape"], ints: ["axis": 0]),
      node("Reshape", ["r", "shape"], ["f"]),
      node("Gemm", ["f", "w"], ["y"], ints: ["transB": 1]),
    ]
    let g = try FloatGraph(onnx: [UInt8](try m.serializedBytes() as Data))
    #expect(g.nodes.map(\.kind) == [.activation, .reshape, .fullyConnected])
    #expect(g.tensors[g.outputs[0]].shape == [1, 5])
    #expect(g.tensors[g.nodes[1].output].shape == [1, 48])
    // A Gather of an activation is not folded (and a scalar index on an NCHW tensor is refused).
    m.graph.node[2] = node("Gather", ["r", "zero"], ["n"], ints: ["axis": 0])
    #expect(throws: FloatGraphError.self) { try FloatGraph(onnx: [UInt8](try m.serializedBytes() as Data)) }
  }

  /// ShuffleNet's `x.chunk(2, dim=1)`: Slice bounds from Shape → Gather →
  /// Add → Div → Mul (integer arithmetic folded at import); the two halves
  /// then join a concatenation (the slices share its quantization).
  @Test func chunkBoundsFoldAndSlicesJoinAConcatenation() throws {
    var m = opset13Model(x: [1, 7, 2, 3])
    var one = onnxInt64Tensor("one", [1]); one.dims = []
    var two = onnxInt64Tensor("two", [2]); two.dims = []
    m.graph.initializer = [one, two, onnxInt64Tensor("zero1", [0]), onnxInt64Tensor("axis1", [1]), onnxInt64Tensor("k1", [1]),
                           onnxInt64Tensor("k2", [2])]
    m.graph.node = [
      node("Shape", ["x"], ["s"]),
      node("Gather", ["s", "axis1"], ["c"], ints: ["axis": 0]),
      node("Add", ["c", "one"], ["c1"]),
      node("Div", ["c1", "two"], ["half"]),        // (7 + 1) / 2 = 4
      node("Mul", ["half", "k1"], ["e1"]),
      node("Mul", ["half", "k2"], ["e2"]),
      node("Slice", ["x", "zero1", "e1", "axis1"], ["a"]),
      node("Slice", ["x", "e1", "e2", "axis1"], ["b"]),
      node("Relu", ["b"], ["rb"]),
      node("Concat", ["a", "rb"], ["y"], ints: ["axis": 1]),
    ]
    let g = try FloatGraph(onnx: [UInt8](try m.serializedBytes() as Data))
    #expect(g.nodes.map(\.kind) == [.stridedSlice, .stridedSlice, .activation, .concatenation])
    #expect(g.tensors[g.nodes[0].output].shape == [1, 2, 3, 4])
    #expect(g.tensors[g.nodes[1].output].shape == [1, 2, 3, 3])
    var rng = SplitMix64(seed: 3)
    func sample() -> [Float] { (0..<42).map { _ in Float(Int(rng.next() % 2001) - 1000) / 500 } }
    let r = try Quantizer.quantize(g, samples: (0..<8).map { _ in sample() }, options: .init(imageInput: false))
    let rm = try RuntimeModel(bytes: r.bytes)
    #expect(rm.ops.map(\.typeName).contains("Concatenation"))
    // Integer division by zero in shape arithmetic is an error, not a crash.
    m.graph.node[3] = node("Div", ["c1", "zero1"], ["half"])
    #expect(throws: FloatGraphError.self) { try FloatGraph(onnx: [UInt8](try m.serializedBytes() as Data)) }
  }
}

/// ONNX ConvTranspose (x [1,Ci,H,W], w [Ci,Co,K,K], bias) with the given
/// attributes, followed by Relu when `relu`.
private func convTransposeGraph(h: Int, w: Int, ci: Int, co: Int, k: Int, attrs: [String: [Int64]],
                                ints: [String: Int64] = [:], autoPad: String? = nil, relu: Bool = false, seed: UInt64) throws -> (bytes: [UInt8], w: [Float], b: [Float]) {
  var rng = SplitMix64(seed: seed)
  func r() -> Float { Float(Int(rng.next() % 2001) - 1000) / 1000 }
  let og = co / Int(ints["group"] ?? 1)  // ONNX weights: [ci, co / group, k, k]
  let wv = (0..<(ci * og * k * k)).map { _ in r() * 0.5 }
  let bv = (0..<co).map { _ in r() * 0.2 }
  var m = opset13Model(x: [1, Int64(ci), Int64(h), Int64(w)])
  var wt = ONNXTensorProto(); wt.name = "w"; wt.dataType = 1; wt.dims = [Int64(ci), Int64(og), Int64(k), Int64(k)]; wt.floatData = wv
  var bt = ONNXTensorProto(); bt.name = "b"; bt.dataType = 1; bt.dims = [Int64(co)]; bt.floatData = bv
  m.graph.initializer = [wt, bt]
  m.graph.node = [node("ConvTranspose", ["x", "w", "b"], [relu ? "t" : "y"], ints: ints, strings: autoPad.map { ["auto_pad": $0] } ?? [:],
                       intLists: attrs)]
  if relu { m.graph.node.append(node("Relu", ["t"], ["y"])) }
  return ([UInt8](try m.serializedBytes() as Data), wv, bv)
}

/// ConvTranspose by its definition, scattered in NCHW: input pixel (iy, ix)
/// and tap (ky, kx) add to output (iy·s − padTop + ky, ix·s − padLeft + kx).
/// With `groups`: input channel i feeds only outputs g·(co/groups) ..< (g+1)·(co/groups)
/// of its group g = i / (ci/groups), through weights [ci, co/groups, k, k];
/// with `dilation` d, tap (ky, kx) lands at (iy·s − padTop + ky·d, …).
private func convTransposeReference(_ x: [Float], h: Int, w: Int, ci: Int, co: Int, k: Int, s: Int,
                                    padTop: Int, padLeft: Int, oh: Int, ow: Int, weights: [Float], bias: [Float],
                                    relu: Bool, groups: Int = 1, dilation: Int = 1) -> [Float] {
  var y = [Float](repeating: 0, count: co * oh * ow)
  let (og, perGroup) = (co / groups, ci / groups)
  for o in 0..<co { for i in 0..<(oh * ow) { y[o * oh * ow + i] = bias[o] } }
  for i in 0..<ci { for iy in 0..<h { for ix in 0..<w { for j in 0..<og { for ky in 0..<k { for kx in 0..<k {
    let oy = iy * s - padTop + ky * dilation, ox = ix * s - padLeft + kx * dilation
    guard oy >= 0, oy < oh, ox >= 0, ox < ow else { continue }
    let o = (i / perGroup) * og + j
    y[(o * oh + oy) * ow + ox] += x[(i * h + iy) * w + ix] * weights[((i * og + j) * k + ky) * k + kx]
  } } } } } }
  return relu ? y.map { max($0, 0) } : y
}

@Suite struct ConvTransposeONNXTests {
  /// (attributes, auto_pad, expected output H×W, leading pads, how the importer maps the pads)
  @Test(arguments: [
    // pads 1 + output_padding 1 (PyTorch ConvTranspose2d(k3, s2, p1, op1)): TFLM's SAME would pad 0 on top: explicit.
    (["strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]], nil, 10, 8, 1, 1, "explicit"),
    // k4 s2 p1 (the U-Net upsampling): exactly TFLM's SAME.
    (["strides": [2, 2], "pads": [1, 1, 1, 1]], nil, 10, 8, 1, 1, "same"),
    (["strides": [2, 2]], "SAME_UPPER", 10, 8, 0, 0, "same"),
    // output_shape: total pads 11 − 9 = 2 and 9 − 8 = 1, the odd one at the start.
    (["strides": [2, 2], "output_shape": [9, 8]], nil, 9, 8, 1, 1, "explicit"),
    ([:], nil, 7, 6, 0, 0, "valid"),
  ] as [([String: [Int64]], String?, Int, Int, Int, Int, String)])
  func importEvaluateQuantize(attrs: [String: [Int64]], autoPad: String?, oh: Int, ow: Int, padTop: Int, padLeft: Int,
                              mapping: String) throws {
    let (h, w, ci, co) = (5, 4, 3, 4)
    let k = attrs["pads"] == [1, 1, 1, 1] && attrs["output_padding"] == nil ? 4 : 3
    let s = Int(attrs["strides"]?[0] ?? 1)
    let (bytes, wv, bv) = try convTransposeGraph(h: h, w: w, ci: ci, co: co, k: k, attrs: attrs, autoPad: autoPad,
                                                 relu: true, seed: UInt64(oh * 10 + ow))
    let g = try FloatGraph(onnx: bytes)
    #expect(g.nodes.map(\.kind) == [.transposeConv, .activation])
    #expect(g.tensors[g.outputs[0]].shape == [1, oh, ow, co])
    let nd = g.nodes[0]
    #expect((nd.pads.isEmpty ? (nd.padding == .same ? "same" : "valid") : "explicit") == mapping)
    var rng = SplitMix64(seed: 9)
    func sample() -> [Float] { (0..<(ci * h * w)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 500 } }
    let x = sample()
    let want = convTransposeReference(x, h: h, w: w, ci: ci, co: co, k: k, s: s, padTop: padTop, padLeft: padLeft,
                                      oh: oh, ow: ow, weights: wv, bias: bv, relu: true)
    let got = nhwc(try FloatExecutor(graph: g).run([nhwc(x, c: ci, h: h, w: w)])[0], c: co, h: oh, w: ow, inverse: true)
    let ferr = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
    #expect(ferr < 1e-5, "float ConvTranspose differs from the definition by \(ferr)")

    // x is among the calibration samples: the output range covers it, so the
    // difference is rounding only (weights, input, accumulator, output).
    let sqnr = try int8SQNR(g, x, calibration: (0..<15).map { _ in sample() }, (ci, h, w), (co, oh, ow), want: want)
    print("ONNX ConvTranspose \(mapping) \(oh)x\(ow): int8 vs float SQNR \(sqnr) dB")
    #expect(sqnr >= 30)
  }

  /// Quantizes `g` (calibrated on `x` and `calibration`, NCHW samples),
  /// checks it became one TRANSPOSE_CONV (any Relu fused), runs `x` in int8
  /// and returns the output's SQNR against `want` (NCHW).
  private func int8SQNR(_ g: FloatGraph, _ x: [Float], calibration: [[Float]], _ input: (c: Int, h: Int, w: Int),
                        _ output: (c: Int, h: Int, w: Int), want: [Float]) throws -> Double {
    let toNHWC = { (v: [Float]) in nhwc(v, c: input.c, h: input.h, w: input.w) }
    let r = try Quantizer.quantize(g, samples: [toNHWC(x)] + calibration.map(toNHWC), options: .init(imageInput: false))
    let rm = try RuntimeModel(bytes: r.bytes)
    #expect(rm.ops.map(\.typeName) == ["TransposeConv"])
    let inQ = ActivationQuant(scale: rm.inputs[0].scale, zeroPoint: rm.inputs[0].zeroPoint)
    let o = rm.outputs[0]
    let yq = nhwc(try rm.run(input: toNHWC(x).map { inQ.quantize($0) }).map { o.scale * Float(Int32($0) - o.zeroPoint) },
                  c: output.c, h: output.h, w: output.w, inverse: true)
    let signal = want.map { Double($0 * $0) }.reduce(0, +)
    let noise = zip(yq, want).map { Double(($0 - $1) * ($0 - $1)) }.reduce(0, +)
    return 10 * log10(signal / max(noise, 1e-30))
  }

  /// Groups and dilation (a filter with zeros): float import equals the
  /// grouped, dilated definition; int8 within 30 dB of it.
  /// (ci, co, group, k, dilation, strides, pads, output_padding, oh, ow, pad top/left)
  @Test(arguments: [
    (4, 6, 2, 3, 1, 2, 1, 0, 9, 7, 1, 1),    // two groups, PyTorch ConvTranspose2d(4, 6, 3, 2, 1, groups=2)
    (3, 4, 1, 3, 2, 1, 0, 0, 9, 8, 0, 0),    // dilation 2: a 5×5 extent
    (4, 4, 4, 3, 2, 2, 2, 1, 10, 8, 2, 2),   // depthwise (group = channels), dilated, strided, output_padding
    (6, 3, 3, 2, 3, 2, 1, 1, 11, 9, 1, 1),   // three groups of one output, dilation 3
  ] as [(Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int)])
  func groupsAndDilationMatchTheDefinition(ci: Int, co: Int, groups: Int, k: Int, dilation: Int, stride: Int, pad: Int,
                                           outputPadding: Int, oh: Int, ow: Int, padTop: Int, padLeft: Int) throws {
    let (h, w) = (5, 4)
    let attrs: [String: [Int64]] = ["strides": [Int64(stride), Int64(stride)], "dilations": [Int64(dilation), Int64(dilation)],
                                    "pads": [Int64](repeating: Int64(pad), count: 4),
                                    "output_padding": [Int64(outputPadding), Int64(outputPadding)]]
    let (bytes, wv, bv) = try convTransposeGraph(h: h, w: w, ci: ci, co: co, k: k, attrs: attrs, ints: ["group": Int64(groups)],
                                                 seed: UInt64(ci * 100 + groups * 10 + dilation))
    let g = try FloatGraph(onnx: bytes)
    #expect(g.nodes.map(\.kind) == [.transposeConv])
    #expect(g.tensors[g.outputs[0]].shape == [1, oh, ow, co])
    var rng = SplitMix64(seed: 5)
    func sample() -> [Float] { (0..<(ci * h * w)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 500 } }
    let x = sample()
    let want = convTransposeReference(x, h: h, w: w, ci: ci, co: co, k: k, s: stride, padTop: padTop, padLeft: padLeft,
                                      oh: oh, ow: ow, weights: wv, bias: bv, relu: false, groups: groups, dilation: dilation)
    let got = nhwc(try FloatExecutor(graph: g).run([nhwc(x, c: ci, h: h, w: w)])[0], c: co, h: oh, w: ow, inverse: true)
    let ferr = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
    #expect(ferr < 1e-5, "float grouped/dilated ConvTranspose differs from the definition by \(ferr)")

    let sqnr = try int8SQNR(g, x, calibration: (0..<15).map { _ in sample() }, (ci, h, w), (co, oh, ow), want: want)
    print("ONNX ConvTranspose group \(groups) dilation \(dilation): int8 vs float SQNR \(sqnr) dB")
    #expect(sqnr >= 30)
  }

  @Test func badGroupsAndPadsAreRefused() throws {
    // A group count that does not divide the input channels; output_padding
    // not below the stride; pads not below the (dilated) kernel.
    let grouped = try convTransposeGraph(h: 3, w: 3, ci: 3, co: 2, k: 3, attrs: [:], ints: ["group": 2], seed: 1)
    #expect(throws: FloatGraphError.self) { try FloatGraph(onnx: grouped.bytes) }
    for attrs: [String: [Int64]] in [["strides": [2, 2], "output_padding": [2, 0]], ["pads": [3, 0, 0, 0]],
                                     ["dilations": [2, 2], "pads": [5, 0, 0, 0]], ["dilations": [0, 1]]] {
      let m = try convTransposeGraph(h: 3, w: 3, ci: 2, co: 2, k: 3, attrs: attrs, seed: 1)
      #expect(throws: FloatGraphError.self) { try FloatGraph(onnx: m.bytes) }
    }
  }
}
