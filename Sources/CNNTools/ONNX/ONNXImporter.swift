// ONNX → FloatGraph: float (and QDQ-quantized) CNNs from ONNX files.
//
// Layout: ONNX activations are NCHW, the FloatGraph (and cnnrt) is NHWC. Every
// 4-D activation is stored transposed ([N,C,H,W] → [N,H,W,C]); weights are
// rearranged to TFLite layouts (conv [O,KH,KW,I/g], depthwise [1,KH,KW,C·m],
// fully connected [units, depth]). A Flatten/Reshape of an NHWC tensor to
// [N, C·H·W] keeps NHWC element order, so the Gemm/MatMul reading it gets its
// weight columns permuted (column c·H·W + h·W + w moves to (h·W + w)·C + c):
// the result is the same as ONNX's, with no transpose at run time.
//
// Padding: explicit ONNX pads equal to TFLite's SAME padding become `.same`;
// zero pads `.valid`; anything else becomes a `.pad` node before the conv/pool
// (zero padding for conv and count_include_pad average pooling, the lowest
// float for max pooling). A Pad op read only by a Conv folds into its pads.
//
// Folding: BatchNormalization into the preceding Conv/Gemm/MatMul, MatMul +
// Add(constant) into a fully connected layer with bias, Dropout/Identity
// removed, Clip(0, 6) → ReLU6. Transposes between NHWC and NCHW (tf2onnx
// models: an NHWC input read by Transpose(0,3,1,2)) cost nothing.
//
// QDQ models (ONNX Runtime quantize_static, QDQ format): DequantizeLinear of
// a constant becomes the dequantized float constant with its scales/zero
// points recorded (`FloatGraph.Tensor.fixedQuantization`, axis converted to
// the FloatGraph layout); a QuantizeLinear → DequantizeLinear pair on an
// activation is removed and its parameters recorded on the activation. The
// quantizer then uses those parameters instead of calibrated ones.

import Foundation
import CNNRuntime
import SwiftProtobuf

extension FloatGraph {
  /// Builds the IR from an ONNX model (main graph, default domain ops).
  /// Errors name the node ("unsupported ONNX op 'LSTM' (node 'lstm_1')");
  /// truncated or corrupt bytes throw `FloatGraphError.invalidModel`.
  public init(onnx bytes: [UInt8]) throws {
    let model: ONNXModelProto
    do {
      var options = BinaryDecodingOptions()
      options.messageDepthLimit = 32
      model = try ONNXModelProto(serializedBytes: bytes, options: options)
    } catch {
      throw FloatGraphError.invalidModel("not a readable ONNX protobuf (\(error))")
    }
    var importer = try ONNXImporter(model)
    self = try importer.build()
  }

  /// True when `bytes` look like an ONNX model rather than a TFLite
  /// flatbuffer (TFLite has "TFL3" at offset 4; an ONNX ModelProto starts
  /// with a protobuf tag, usually ir_version = field 1 varint: 0x08).
  public static func looksLikeONNX(_ bytes: [UInt8]) -> Bool {
    if bytes.count >= 8, bytes[4...7].elementsEqual("TFL3".utf8) { return false }
    guard let first = bytes.first else { return false }
    // Tag = field number << 3 | wire type; ModelProto fields 1...26.
    let field = Int(first >> 3), wire = first & 7
    return field >= 1 && field <= 26 && (wire == 0 || wire == 2)
  }
}

struct ONNXImporter {
  /// Where an ONNX value lives in the FloatGraph and in which element order.
  enum Layout: Equatable {
    /// Same element order as ONNX (rank ≠ 4, or 4-D with nothing to transpose).
    case plain
    /// 4-D ONNX [N,C,H,W] stored as [N,H,W,C].
    case nhwc
    /// ONNX [N, C·H·W] stored in NHWC flatten order (h, w, c).
    case flattenedNHWC(c: Int, h: Int, w: Int)
  }

  struct Value {
    var tensor: Int
    var layout: Layout
    /// The shape ONNX sees.
    var onnxShape: [Int]
  }

  let graph: ONNXGraphProto
  let opset: Int
  var tensors: [FloatGraph.Tensor] = []
  var nodes: [FloatGraph.Node] = []
  var values: [String: Value] = [:]
  var constants: [String: ONNXConstant] = [:]
  /// Output of QuantizeLinear on an activation: the activation and the parameters.
  var quantized: [String: (value: Value, quant: ONNXQuant)] = [:]
  /// Output of a Pad folded into its only consumer (a Conv): the input and
  /// the pads [top, bottom, left, right].
  var pendingPads: [String: (value: Value, pads: [Int])] = [:]
  /// How many times each value name is read (node inputs + graph outputs).
  var readers: [String: Int] = [:]
  var graphOutputs: Set<String> = []
  /// FloatGraph tensor → index of the node writing it.
  var producer: [Int: Int] = [:]

  init(_ model: ONNXModelProto) throws {
    guard model.hasGraph else { throw FloatGraphError.invalidModel("the ONNX model has no graph") }
    graph = model.graph
    var v = 0
    for o in model.opsetImport where o.domain == "" || o.domain == "ai.onnx" { v = Int(clamping: o.version) }
    // IR version 3+ always declares the default opset; assume a recent one otherwise.
    opset = v > 0 ? v : 13
    guard !graph.node.isEmpty else { throw FloatGraphError.invalidModel("the ONNX graph has no nodes") }
    for n in graph.node { for i in n.input where !i.isEmpty { readers[i, default: 0] += 1 } }
    for o in graph.output { readers[o.name, default: 0] += 1; graphOutputs.insert(o.name) }
  }

  // MARK: Build

  mutating func build() throws -> FloatGraph {
    for (k, t) in graph.initializer.enumerated() {
      let name = t.name
      guard !name.isEmpty else { throw FloatGraphError.invalidModel("initializer \(k) has no name") }
      constants[name] = try ONNXConstant(t, what: "initializer '\(name.prefix(100))'")
    }
    var inputs: [Int] = []
    for vi in graph.input where constants[vi.name] == nil {
      let shape = try inputShape(vi)
      // An NHWC input (as tf2onnx writes) is read only by Transpose(perm 0,3,1,2):
      // stored as it is, the transpose is then free.
      let readers = graph.node.filter { $0.input.contains(vi.name) }
      let nhwcInput = shape.count == 4 && !readers.isEmpty && readers.allSatisfy {
        $0.opType == "Transpose" && (try? ONNXAttributes($0, ctx: "").ints("perm")) == [0, 3, 1, 2]
      }
      let layout: Layout = shape.count == 4 && !nhwcInput ? .nhwc : .plain
      let t = addTensor(vi.name, layout == .nhwc ? Self.toNHWC(shape) : shape)
      values[vi.name] = Value(tensor: t, layout: layout, onnxShape: shape)
      inputs.append(t)
    }
    guard !inputs.isEmpty else { throw FloatGraphError.invalidModel("the ONNX graph has no (non-initializer) input") }
    for (k, n) in graph.node.enumerated() {
      try convert(n, index: k)
    }
    var outputs: [Int] = []
    for o in graph.output {
      guard let v = values[o.name] else {
        if constants[o.name] != nil { throw FloatGraphError.unsupported("graph output '\(o.name)' is a constant") }
        if quantized[o.name] != nil { throw FloatGraphError.unsupported("graph output '\(o.name)' is quantized (QuantizeLinear without DequantizeLinear)") }
        throw FloatGraphError.invalidModel("graph output '\(o.name)' is never written")
      }
      if case .flattenedNHWC = v.layout {
        throw FloatGraphError.unsupported("graph output '\(o.name)' is a flattened NCHW tensor (its element order would differ from ONNX)")
      }
      outputs.append(v.tensor)
    }
    inferReLUFromQuantization()
    return try FloatGraph(tensors: tensors, nodes: nodes, inputs: inputs, outputs: outputs)
  }

  /// A QDQ model drops ReLU when the activation's quantized range starts at
  /// 0 (int8 zero point −128 / uint8 0): quantization itself clamps. Putting
  /// the ReLU back on the producer is exact and keeps the float graph faithful.
  mutating func inferReLUFromQuantization() {
    for i in nodes.indices where [.conv2D, .depthwiseConv2D, .fullyConnected, .add].contains(nodes[i].kind)
      && nodes[i].activation == .none {
      if let q = tensors[nodes[i].output].fixedQuantization?.activation, q.zeroPoint == -128 {
        nodes[i].activation = .relu
      }
    }
  }

  func inputShape(_ vi: ONNXValueInfoProto) throws -> [Int] {
    let what = "graph input '\(vi.name)'"
    guard vi.hasType, case .tensorType(let tt)? = vi.type.value else {
      throw FloatGraphError.unsupported("\(what) is not a tensor")
    }
    guard tt.elemType == ONNXDataType.float else {
      throw FloatGraphError.unsupported("\(what) is \(ONNXDataType.name(tt.elemType)); only FLOAT inputs are supported")
    }
    guard tt.hasShape, !tt.shape.dim.isEmpty, tt.shape.dim.count <= 6 else {
      throw FloatGraphError.unsupported("\(what) has no static shape")
    }
    var shape: [Int] = []
    for (k, d) in tt.shape.dim.enumerated() {
      switch d.value {
      case .dimValue(let v)? where v >= 1 && v <= 1 << 20:
        shape.append(Int(v))
      case .dimParam?, nil:
        // A symbolic batch dimension is taken as 1; other dimensions must be fixed.
        guard k == 0 else { throw FloatGraphError.unsupported("\(what): dimension \(k) is not fixed") }
        shape.append(1)
      default:
        throw FloatGraphError.invalidModel("\(what): dimension \(k) is \(d.dimValue)")
      }
    }
    guard onnxElementCount(shape) != nil else { throw FloatGraphError.invalidModel("\(what): shape \(shape) too large") }
    return shape
  }

  static func toNHWC(_ s: [Int]) -> [Int] { [s[0], s[2], s[3], s[1]] }

  mutating func addTensor(_ name: String, _ shape: [Int], data: [Float]? = nil,
                          fixed: FloatGraph.FixedQuantization? = nil) -> Int {
    tensors.append(FloatGraph.Tensor(name: name, shape: shape, data: data, fixedQuantization: fixed))
    return tensors.count - 1
  }

  mutating func emit(_ node: FloatGraph.Node) {
    producer[node.output] = nodes.count
    nodes.append(node)
  }

  // MARK: Nodes

  mutating func convert(_ n: ONNXNodeProto, index k: Int) throws {
    let name = n.name.isEmpty ? "#\(k)" : n.name
    let ctx = "ONNX node '\(name.prefix(120))' (\(n.opType.prefix(60)))"
    func unsupported(_ m: String) -> FloatGraphError { .unsupported("\(ctx): \(m)") }
    func invalid(_ m: String) -> FloatGraphError { .invalidModel("\(ctx): \(m)") }
    guard n.domain.isEmpty || n.domain == "ai.onnx" else {
      throw FloatGraphError.unsupported("unsupported ONNX op '\(n.domain).\(n.opType)' (node '\(name)')")
    }
    let a = ONNXAttributes(n, ctx: ctx)
    guard let outName = n.output.first, !outName.isEmpty else { throw invalid("no output") }
    for o in n.output where !o.isEmpty {
      if values[o] != nil || constants[o] != nil || quantized[o] != nil || pendingPads[o] != nil {
        throw invalid("output '\(o)' is written twice")
      }
    }
    if n.output.count > 1, n.opType != "Dropout" {
      for o in n.output.dropFirst() where !o.isEmpty && readers[o] != nil { throw unsupported("more than one output is used") }
    }

    func inputName(_ i: Int) throws -> String {
      guard i < n.input.count, !n.input[i].isEmpty else { throw invalid("missing input \(i)") }
      return n.input[i]
    }
    func optionalName(_ i: Int) -> String? { i < n.input.count && !n.input[i].isEmpty ? n.input[i] : nil }
    func activation(_ i: Int) throws -> Value {
      let nm = try inputName(i)
      if let v = values[nm] { return v }
      if constants[nm] != nil { throw unsupported("input '\(nm)' is a constant (only activations are supported here)") }
      if quantized[nm] != nil { throw unsupported("input '\(nm)' is quantized (QuantizeLinear not followed by DequantizeLinear)") }
      throw invalid("input '\(nm)' is not computed before this node")
    }
    func constant(_ i: Int) throws -> ONNXConstant {
      let nm = try inputName(i)
      if let c = constants[nm] { return c }
      if values[nm] != nil { throw unsupported("input \(i) '\(nm)' must be a constant") }
      throw invalid("input '\(nm)' is not computed before this node")
    }
    func optionalConstant(_ i: Int) throws -> ONNXConstant? {
      guard optionalName(i) != nil else { return nil }
      return try constant(i)
    }
    func output(_ shape: [Int], _ layout: Layout, fixed: FloatGraph.FixedQuantization? = nil) throws -> Value {
      guard onnxElementCount(shape) != nil else { throw invalid("output shape \(shape) is too large") }
      let t = addTensor(outName, layout == .nhwc ? Self.toNHWC(shape) : shape, fixed: fixed)
      let v = Value(tensor: t, layout: layout, onnxShape: shape)
      values[outName] = v
      return v
    }
    func alias(_ v: Value) { values[outName] = v }
    func node(_ kind: FloatGraph.Kind, _ inputs: [Int], _ out: Value) -> FloatGraph.Node {
      FloatGraph.Node(kind: kind, inputs: inputs, output: out.tensor, origin: ctx)
    }
    func require4D(_ v: Value) throws {
      guard v.layout == .nhwc, v.onnxShape.count == 4 else {
        throw unsupported("input must be a 4-D NCHW activation, got shape \(v.onnxShape)")
      }
    }
    /// Consumed only by the next op (so it can be folded away).
    func soleReader(_ valueName: String) -> Bool { readers[valueName] == 1 && !graphOutputs.contains(valueName) }

    switch n.opType {
    case "Constant":
      if let t = a.tensor("value") {
        constants[outName] = try ONNXConstant(t, what: ctx)
      } else if a.has("value_float") {
        constants[outName] = ONNXConstant(dims: [], floats: [try a.float("value_float", 0)], ints: nil)
      } else if let f = a.floats("value_floats"), a.has("value_floats") {
        constants[outName] = ONNXConstant(dims: [f.count], floats: f, ints: nil)
      } else if a.has("value_int") {
        let v = try a.int("value_int", 0)
        constants[outName] = ONNXConstant(dims: [], floats: [Float(v)], ints: [Int64(v)])
      } else if let v = try a.ints("value_ints") {
        constants[outName] = ONNXConstant(dims: [v.count], floats: v.map { Float($0) }, ints: v.map { Int64($0) })
      } else {
        throw unsupported("Constant without a tensor, float(s) or int(s) value")
      }

    case "Identity", "Dropout":
      let nm = try inputName(0)
      if let c = constants[nm] { constants[outName] = c } else { alias(try activation(0)) }
      if n.opType == "Dropout", n.output.count > 1, !n.output[1].isEmpty, readers[n.output[1]] != nil {
        throw unsupported("the Dropout mask output is used")
      }

    case "QuantizeLinear":
      let q = try quantParams(n, a, ctx)
      let nm = try inputName(0)
      if let c = constants[nm] {
        // Quantize a float constant (weights kept in float + Q/DQ): store the integers.
        let ints = try Self.quantize(c, q, ctx)
        constants[outName] = ONNXConstant(dims: c.dims, floats: ints.map { Float($0) }, ints: ints, quant: nil, dataType: q.dataType)
      } else {
        let v = try activation(0)
        guard q.axis == nil else { throw unsupported("per-axis quantization of an activation") }
        quantized[outName] = (v, q)
      }

    case "DequantizeLinear":
      let q = try quantParams(n, a, ctx)
      let nm = try inputName(0)
      if let c = constants[nm] {
        guard let ints = c.ints else { throw invalid("input '\(nm)' is not an integer tensor") }
        if let axis = q.axis {
          guard axis < c.dims.count, c.dims[axis] == q.scales.count else {
            throw invalid("\(q.scales.count) scales along axis \(axis) of shape \(c.dims)")
          }
        }
        let inner = q.axis.map { c.dims[($0 + 1)...].reduce(1, *) } ?? 1
        var f = [Float](repeating: 0, count: ints.count)
        for i in 0..<ints.count {
          let ch = q.axis == nil ? 0 : (i / inner) % q.scales.count
          f[i] = Float(Double(q.scales[ch]) * (Double(ints[i]) - Double(q.zeroPoints[ch])))
        }
        constants[outName] = ONNXConstant(dims: c.dims, floats: f, ints: nil, quant: q)
      } else if let (v, qq) = quantized[nm] {
        guard q.scales == qq.scales, q.zeroPoints == qq.zeroPoints else {
          throw unsupported("DequantizeLinear parameters differ from its QuantizeLinear's")
        }
        guard q.dataType == ONNXDataType.int8 || q.dataType == ONNXDataType.uint8 else {
          throw unsupported("activations quantized to \(ONNXDataType.name(q.dataType)) (only int8 / uint8)")
        }
        let fixed = FloatGraph.FixedQuantization(scales: q.scales, zeroPoints: q.int8ZeroPoints)
        if tensors[v.tensor].fixedQuantization == nil { tensors[v.tensor].fixedQuantization = fixed }
        alias(v)
      } else if values[nm] != nil {
        throw unsupported("DequantizeLinear of a computed tensor (only of constants or after QuantizeLinear)")
      } else {
        throw invalid("input '\(nm)' is not computed before this node")
      }

    case "Conv":
      var pre: [Int] = [0, 0, 0, 0]  // folded Pad: top, bottom, left, right
      var x: Value
      let xn = try inputName(0)
      if let p = pendingPads[xn] { x = p.value; pre = p.pads } else { x = try activation(0) }
      try require4D(x)
      let w = try constant(1)
      guard w.dims.count == 4 else { throw unsupported("only 2-D convolutions (weights \(w.dims))") }
      let (N, C, H, W) = (x.onnxShape[0], x.onnxShape[1], x.onnxShape[2], x.onnxShape[3])
      let (O, Ig, KH, KW) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3])
      let group = try a.int("group", 1)
      guard group >= 1, C % group == 0, O % group == 0, C / group == Ig, O >= 1, KH >= 1, KW >= 1 else {
        throw invalid("weights \(w.dims) and group \(group) do not match input channels \(C)")
      }
      if let ks = try a.ints("kernel_shape"), ks != [KH, KW] { throw invalid("kernel_shape \(ks) != weights \(w.dims)") }
      let geo = try spatial(a, ctx, h: H, w: W, kh: KH, kw: KW, allowDilation: true, extraPads: pre)
      let oh = geo.outH, ow = geo.outW
      guard oh >= 1, ow >= 1 else { throw invalid("empty output") }
      let src = try padIfNeeded(x, geo, value: 0, ctx: ctx)
      let bias = try optionalConstant(2)
      if let bias { guard bias.count == O else { throw invalid("bias has \(bias.count) values for \(O) channels") } }
      let out = try output([N, O, oh, ow], .nhwc)
      var kind: FloatGraph.Kind
      var filter: [Float]
      var fshape: [Int]
      var fixed: FloatGraph.FixedQuantization? = nil
      let perOut = w.quant.map { $0.axis == 0 || $0.axis == nil } ?? false
      if group == 1 || !(group == C && Ig == 1) {
        kind = .conv2D
        fshape = [O, KH, KW, Ig]
        filter = [Float](repeating: 0, count: w.count)
        for o in 0..<O { for i in 0..<Ig { for y in 0..<KH { for xx in 0..<KW {
          filter[((o * KH + y) * KW + xx) * Ig + i] = w.floats[((o * Ig + i) * KH + y) * KW + xx]
        } } } }
        if let q = w.quant, perOut { fixed = .init(scales: q.scales, zeroPoints: q.int8ZeroPoints, axis: q.axis == nil ? nil : 0) }
      } else {
        kind = .depthwiseConv2D
        fshape = [1, KH, KW, O]
        filter = [Float](repeating: 0, count: w.count)
        for o in 0..<O { for y in 0..<KH { for xx in 0..<KW {
          filter[(y * KW + xx) * O + o] = w.floats[(o * KH + y) * KW + xx]
        } } }
        if let q = w.quant, perOut { fixed = .init(scales: q.scales, zeroPoints: q.int8ZeroPoints, axis: q.axis == nil ? nil : 3) }
      }
      let wt = addTensor(try inputName(1), fshape, data: filter, fixed: fixed)
      var ins = [src.tensor, wt]
      if let bias { ins.append(addTensor(try inputName(2), [O], data: bias.floats, fixed: biasFixed(bias))) }
      var nd = node(kind, ins, out)
      nd.strideH = geo.sh; nd.strideW = geo.sw; nd.dilationH = geo.dh; nd.dilationW = geo.dw
      nd.padding = geo.padding
      emit(nd)

    case "MaxPool", "AveragePool":
      let x = try activation(0)
      try require4D(x)
      guard let ks = try a.ints("kernel_shape"), ks.count == 2, ks[0] >= 1, ks[1] >= 1 else {
        throw unsupported("kernel_shape must be 2-D")
      }
      if let d = try a.ints("dilations"), d.contains(where: { $0 != 1 }) { throw unsupported("dilated pooling") }
      if n.output.count > 1, readers[n.output[1]] != nil { throw unsupported("MaxPool indices output") }
      let (N, C, H, W) = (x.onnxShape[0], x.onnxShape[1], x.onnxShape[2], x.onnxShape[3])
      var geo = try spatial(a, ctx, h: H, w: W, kh: ks[0], kw: ks[1], allowDilation: false, extraPads: [0, 0, 0, 0])
      if try a.int("ceil_mode", 0) != 0 {
        // Same result as floor mode when the division is exact.
        let eh = H + geo.explicit[0] + geo.explicit[1] - ks[0], ew = W + geo.explicit[2] + geo.explicit[3] - ks[1]
        guard eh % geo.sh == 0, ew % geo.sw == 0 else { throw unsupported("ceil_mode = 1") }
      }
      let isMax = n.opType == "MaxPool"
      let includePad = try a.int("count_include_pad", 0) != 0
      if !isMax, geo.needsPadNode, !includePad {
        throw unsupported("average pooling with pads \(geo.explicit) that are not TFLite SAME padding (count_include_pad = 0)")
      }
      if !isMax, includePad, geo.padding == .same, geo.explicit != [0, 0, 0, 0] {
        // TFLite SAME averaging excludes the padding; count_include_pad needs explicit zeros.
        geo.needsPadNode = true; geo.padding = .valid
      }
      let src = try padIfNeeded(x, geo, value: isMax ? -Float.greatestFiniteMagnitude : 0, ctx: ctx)
      guard geo.outH >= 1, geo.outW >= 1 else { throw invalid("empty output") }
      let out = try output([N, C, geo.outH, geo.outW], .nhwc)
      var nd = node(isMax ? .maxPool2D : .averagePool2D, [src.tensor], out)
      nd.filterH = ks[0]; nd.filterW = ks[1]; nd.strideH = geo.sh; nd.strideW = geo.sw; nd.padding = geo.padding
      emit(nd)

    case "GlobalAveragePool", "GlobalMaxPool":
      let x = try activation(0)
      try require4D(x)
      let (N, C, H, W) = (x.onnxShape[0], x.onnxShape[1], x.onnxShape[2], x.onnxShape[3])
      let out = try output([N, C, 1, 1], .nhwc)
      if n.opType == "GlobalAveragePool" {
        emit(node(.meanHW, [x.tensor], out))
      } else {
        var nd = node(.maxPool2D, [x.tensor], out)
        nd.filterH = H; nd.filterW = W
        emit(nd)
      }

    case "Relu", "Clip", "Sigmoid":
      let x = try activation(0)
      let out = try output(x.onnxShape, x.layout)
      if n.opType == "Sigmoid" { emit(node(.logistic, [x.tensor], out)); break }
      var act: FloatGraph.Activation = .relu
      if n.opType == "Clip" {
        var lo: Float = -.infinity, hi: Float = .infinity
        if opset < 11 || a.has("min") || a.has("max") {
          lo = try a.float("min", -.greatestFiniteMagnitude); hi = try a.float("max", .greatestFiniteMagnitude)
        } else {
          if let c = try optionalConstant(1) { guard c.count == 1 else { throw invalid("min is not a scalar") }; lo = c.floats[0] }
          if let c = try optionalConstant(2) { guard c.count == 1 else { throw invalid("max is not a scalar") }; hi = c.floats[0] }
        }
        if lo == 0 && hi == 6 { act = .relu6 } else if lo == 0 && hi >= 3.0e38 { act = .relu } else {
          throw unsupported("Clip(\(lo), \(hi)) (only Clip(0, 6) and Clip(0, ∞))")
        }
      }
      var nd = node(.activation, [x.tensor], out)
      nd.activation = act
      emit(nd)

    case "Softmax":
      let x = try activation(0)
      let r = x.onnxShape.count
      var axis = try a.int("axis", opset >= 13 ? -1 : 1)
      if axis < 0 { axis += r }
      switch x.layout {
      case .plain, .flattenedNHWC:
        // Softmax over the last axis; for opset < 13 "axis" flattens the
        // trailing dimensions, which equals the last axis when it is r − 1.
        let trailing = x.onnxShape[(min(max(axis, 0), r))...].reduce(1, *)
        guard axis >= 0, axis < r, axis == r - 1 || (opset < 13 && trailing == x.onnxShape[r - 1]) else {
          throw unsupported("softmax over axis \(axis) of \(x.onnxShape) (only the last axis)")
        }
      case .nhwc:
        let ok = axis == 1 && (opset >= 13 || x.onnxShape[2] * x.onnxShape[3] == 1)
        guard ok else { throw unsupported("softmax over axis \(axis) of NCHW \(x.onnxShape) (only the channel axis)") }
      }
      let out = try output(x.onnxShape, x.layout)
      emit(node(.softmax, [x.tensor], out))

    case "Flatten":
      let x = try activation(0)
      var axis = try a.int("axis", 1)
      if axis < 0 { axis += x.onnxShape.count }
      guard axis >= 0, axis <= x.onnxShape.count else { throw invalid("axis \(axis)") }
      let s = x.onnxShape
      let target = [s[..<axis].reduce(1, *), s[axis...].reduce(1, *)]
      if let layout = try reshapeLayout(x, to: target, ctx: ctx) {
        emit(node(.reshape, [x.tensor], try output(target, layout)))
      } else {
        alias(x)
      }

    case "Reshape":
      let x = try activation(0)
      var shape: [Int]
      if opset >= 5 {
        shape = try constant(1).integers(ctx)
      } else {
        guard let s = try a.ints("shape") else { throw invalid("no shape") }
        shape = s
      }
      let allowZero = try a.int("allowzero", 0) != 0
      let total = x.onnxShape.reduce(1, *)
      guard shape.count <= 8, shape.filter({ $0 == -1 }).count <= 1 else { throw invalid("shape \(shape)") }
      for i in shape.indices where shape[i] == 0 && !allowZero {
        guard i < x.onnxShape.count else { throw invalid("shape \(shape): 0 beyond the input rank") }
        shape[i] = x.onnxShape[i]
      }
      guard shape.allSatisfy({ $0 >= 1 || $0 == -1 }) else { throw unsupported("shape \(shape)") }
      if let m = shape.firstIndex(of: -1) {
        guard let known = onnxElementCount(shape.filter { $0 != -1 }), known > 0, total % known == 0 else { throw invalid("cannot reshape \(x.onnxShape) to \(shape)") }
        shape[m] = total / known
      }
      guard let c = onnxElementCount(shape), c == total else { throw invalid("cannot reshape \(x.onnxShape) to \(shape)") }
      if let layout = try reshapeLayout(x, to: shape, ctx: ctx) {
        emit(node(.reshape, [x.tensor], try output(shape, layout)))
      } else {
        alias(x)
      }

    case "Gemm", "MatMul":
      let x = try activation(0)
      guard x.onnxShape.count == 2 else { throw unsupported("input must be 2-D, got \(x.onnxShape)") }
      let b = try constant(1)
      guard b.dims.count == 2 else { throw unsupported("weights must be a 2-D constant, got \(b.dims)") }
      let isGemm = n.opType == "Gemm"
      if isGemm, try a.int("transA", 0) != 0 { throw unsupported("transA = 1") }
      let transB = isGemm ? try a.int("transB", 0) != 0 : false
      let alpha = isGemm ? try a.float("alpha", 1) : 1
      let beta = isGemm ? try a.float("beta", 1) : 1
      let (units, depth) = transB ? (b.dims[0], b.dims[1]) : (b.dims[1], b.dims[0])
      guard depth == x.onnxShape[1], units >= 1 else { throw invalid("weights \(b.dims) do not match input \(x.onnxShape)") }
      // FloatGraph weights [units, depth]; the depth index follows the
      // input's stored element order.
      var colMap = Array(0..<depth)  // stored column → ONNX column
      if case .flattenedNHWC(let c, let h, let w) = x.layout {
        for cc in 0..<c { for hh in 0..<h { for ww in 0..<w { colMap[(hh * w + ww) * c + cc] = (cc * h + hh) * w + ww } } }
      }
      var wts = [Float](repeating: 0, count: units * depth)
      for u in 0..<units {
        for k in 0..<depth {
          let j = colMap[k]
          wts[u * depth + k] = alpha * (transB ? b.floats[u * depth + j] : b.floats[j * units + u])
        }
      }
      var fixed: FloatGraph.FixedQuantization? = nil
      if let q = b.quant, alpha == 1 {
        let unitAxis = transB ? 0 : 1
        if q.axis == nil || q.axis == unitAxis {
          fixed = .init(scales: q.scales, zeroPoints: q.int8ZeroPoints, axis: q.axis == nil ? nil : 0)
        }
      }
      let wt = addTensor(try inputName(1), [units, depth], data: wts, fixed: fixed)
      var ins = [x.tensor, wt]
      if isGemm, let c = try optionalConstant(2) {
        guard c.count == units || c.count == 1, c.dims.reduce(1, *) == c.count,
              c.dims.dropLast().allSatisfy({ $0 == 1 }) else {
          throw unsupported("C of shape \(c.dims) (only a bias of \(units) values or a scalar)")
        }
        let bv = (0..<units).map { beta * c.floats[c.count == 1 ? 0 : $0] }
        ins.append(addTensor(try inputName(2), [units], data: bv, fixed: beta == 1 && c.count == units ? biasFixed(c) : nil))
      }
      let out = try output([x.onnxShape[0], units], .plain)
      emit(node(.fullyConnected, ins, out))

    case "Add":
      let n0 = try inputName(0), n1 = try inputName(1)
      if constants[n0] != nil || constants[n1] != nil {
        // Activation + constant: fold into the producer's bias.
        let (vn, c) = constants[n0] != nil ? (n1, constants[n0]!) : (n0, constants[n1]!)
        guard let v = values[vn] else { throw unsupported("Add of two constants or of a non-activation") }
        try foldAdd(v, valueName: vn, c, ctx: ctx, sole: soleReader(vn))
        alias(v)
        break
      }
      let x = try activation(0), y = try activation(1)
      let sameLayout: Bool = {
        switch (x.layout, y.layout) {
        case (.nhwc, .nhwc), (.plain, .plain): return true
        case (.flattenedNHWC(let a1, let b1, let c1), .flattenedNHWC(let a2, let b2, let c2)): return a1 == a2 && b1 == b2 && c1 == c2
        default: return false
        }
      }()
      guard sameLayout, x.onnxShape.count == y.onnxShape.count else {
        throw unsupported("Add of \(x.onnxShape) and \(y.onnxShape) (same rank and layout only)")
      }
      var shape: [Int] = []
      for (p, q) in zip(x.onnxShape, y.onnxShape) {
        guard p == q || p == 1 || q == 1 else { throw invalid("shapes \(x.onnxShape) and \(y.onnxShape) do not broadcast") }
        shape.append(max(p, q))
      }
      if case .flattenedNHWC = x.layout, x.onnxShape != y.onnxShape { throw unsupported("broadcast Add of flattened tensors") }
      let out = try output(shape, x.layout)
      emit(node(.add, [x.tensor, y.tensor], out))

    case "BatchNormalization":
      let x = try activation(0)
      let xn = try inputName(0)
      if try a.int("training_mode", 0) != 0 { throw unsupported("training_mode = 1") }
      let eps = try a.float("epsilon", 1e-5)
      let scale = try constant(1), bias = try constant(2), mean = try constant(3), variance = try constant(4)
      let C = x.onnxShape.count >= 2 ? x.onnxShape[1] : 0
      guard [scale, bias, mean, variance].allSatisfy({ $0.count == C }) else {
        throw invalid("parameters do not have \(C) values")
      }
      var k = [Float](repeating: 0, count: C), s = [Float](repeating: 0, count: C)
      for c in 0..<C {
        let d = Double(variance.floats[c]) + Double(eps)
        guard d > 0 else { throw invalid("variance + epsilon ≤ 0 for channel \(c)") }
        let kk = Double(scale.floats[c]) / d.squareRoot()
        k[c] = Float(kk)
        s[c] = Float(Double(bias.floats[c]) - Double(mean.floats[c]) * kk)
      }
      guard soleReader(xn), let p = producer[x.tensor],
            [.conv2D, .depthwiseConv2D, .fullyConnected].contains(nodes[p].kind), nodes[p].activation == .none else {
        throw unsupported("BatchNormalization that does not follow a Conv/Gemm/MatMul read only by it cannot be folded")
      }
      foldAffine(node: p, multiplier: k, offset: s)
      alias(x)

    case "Transpose":
      let x = try activation(0)
      let s = x.onnxShape
      let perm = try a.ints("perm") ?? Array((0..<s.count).reversed())
      guard perm.count == s.count, Set(perm) == Set(0..<s.count) else { throw invalid("perm \(perm) for shape \(s)") }
      if perm == Array(0..<s.count) { alias(x); break }
      switch (x.layout, perm) {
      case (.plain, [0, 3, 1, 2]) where s.count == 4:
        // NHWC data viewed as NCHW: exactly the FloatGraph's storage of it.
        alias(Value(tensor: x.tensor, layout: .nhwc, onnxShape: [s[0], s[3], s[1], s[2]]))
      case (.nhwc, [0, 2, 3, 1]):
        alias(Value(tensor: x.tensor, layout: .plain, onnxShape: [s[0], s[2], s[3], s[1]]))
      default:
        throw unsupported("Transpose \(perm) of \(s) (only NHWC ↔ NCHW)")
      }

    case "Pad":
      let x = try activation(0)
      try require4D(x)
      let mode = a.string("mode", "constant")
      guard mode == "constant" else { throw unsupported("pad mode '\(mode)' (only constant)") }
      var pads: [Int]
      var value: Float = 0
      if opset >= 11 {
        pads = try constant(1).integers(ctx)
        if let v = try optionalConstant(2) { guard v.count == 1 else { throw invalid("constant_value is not a scalar") }; value = v.floats[0] }
        if optionalName(3) != nil { throw unsupported("Pad with axes") }
      } else {
        guard let p = try a.ints("pads") else { throw invalid("no pads") }
        pads = p
        value = try a.float("value", 0)
      }
      guard pads.count == 8, pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 16 }) else {
        throw unsupported("pads \(pads) (4-D, non-negative only)")
      }
      guard pads[0] == 0, pads[4] == 0 else { throw unsupported("padding of the batch dimension") }
      // ONNX order: [N, C, H, W] begins, then ends.
      let (cb, hb, wb, ce, he, we) = (pads[1], pads[2], pads[3], pads[5], pads[6], pads[7])
      let s = x.onnxShape
      let consumersAreConv = graph.node.filter { $0.input.contains(outName) }.allSatisfy { $0.opType == "Conv" }
      if value == 0, cb == 0, ce == 0, soleReader(outName), consumersAreConv {
        pendingPads[outName] = (x, [hb, he, wb, we])
        break
      }
      let out = try output([s[0], s[1] + cb + ce, s[2] + hb + he, s[3] + wb + we], .nhwc)
      var nd = node(.pad, [x.tensor], out)
      nd.pads = [hb, he, wb, we, cb, ce]
      nd.padValue = value
      emit(nd)

    default:
      throw FloatGraphError.unsupported("unsupported ONNX op '\(n.opType)' (node '\(name)')")
    }
  }

  // MARK: Helpers

  /// Scales / zero points / axis of a QuantizeLinear or DequantizeLinear node.
  func quantParams(_ n: ONNXNodeProto, _ a: ONNXAttributes, _ ctx: String) throws -> ONNXQuant {
    guard n.input.count >= 2, let s = constants[n.input[1]] else {
      throw FloatGraphError.unsupported("\(ctx): scale must be a constant")
    }
    guard !s.floats.isEmpty, s.dims.count <= 1, s.floats.allSatisfy({ $0.isFinite && $0 > 0 }) else {
      throw FloatGraphError.invalidModel("\(ctx): scales must be positive finite numbers (shape \(s.dims))")
    }
    var zp = [Int64](repeating: 0, count: s.count)
    var type = n.opType == "QuantizeLinear" ? ONNXDataType.uint8 : ONNXDataType.int8
    if n.input.count >= 3, !n.input[2].isEmpty {
      guard let z = constants[n.input[2]], let ints = z.ints, z.count == s.count else {
        throw FloatGraphError.unsupported("\(ctx): zero point must be an integer constant with one value per scale")
      }
      zp = ints
      type = z.dataType != 0 ? z.dataType : type
    }
    if n.opType == "DequantizeLinear", let c = constants[n.input[0]], c.dataType != 0 { type = c.dataType }
    var axis: Int? = nil
    if s.count > 1 {
      var ax = try a.int("axis", 1)
      let rank = constants[n.input[0]]?.dims.count ?? 4
      if ax < 0 { ax += rank }
      guard ax >= 0, ax < rank else { throw FloatGraphError.invalidModel("\(ctx): axis \(ax)") }
      axis = ax
    }
    let (lo, hi): (Int64, Int64) = type == ONNXDataType.uint8 ? (0, 255) : type == ONNXDataType.int8 ? (-128, 127)
      : (Int64(Int32.min), Int64(Int32.max))
    guard zp.allSatisfy({ $0 >= lo && $0 <= hi }) else {
      throw FloatGraphError.invalidModel("\(ctx): zero point outside \(ONNXDataType.name(type))")
    }
    return ONNXQuant(scales: s.floats, zeroPoints: zp, axis: axis, dataType: type)
  }

  static func quantize(_ c: ONNXConstant, _ q: ONNXQuant, _ ctx: String) throws -> [Int64] {
    let (lo, hi): (Double, Double) = q.dataType == ONNXDataType.uint8 ? (0, 255) : q.dataType == ONNXDataType.int8
      ? (-128, 127) : (Double(Int32.min), Double(Int32.max))
    if let axis = q.axis {
      guard axis < c.dims.count, c.dims[axis] == q.scales.count else {
        throw FloatGraphError.invalidModel("\(ctx): \(q.scales.count) scales along axis \(axis) of \(c.dims)")
      }
    }
    let inner = q.axis.map { c.dims[($0 + 1)...].reduce(1, *) } ?? 1
    return c.floats.enumerated().map { i, f in
      let ch = q.axis == nil ? 0 : (i / inner) % q.scales.count
      // ONNX QuantizeLinear rounds half to even.
      let v = (Double(f) / Double(q.scales[ch])).rounded(.toNearestOrEven) + Double(q.zeroPoints[ch])
      return Int64(max(lo, min(hi, v.isNaN ? 0 : v)))
    }
  }

  func biasFixed(_ c: ONNXConstant) -> FloatGraph.FixedQuantization? {
    guard let q = c.quant else { return nil }
    return .init(scales: q.scales, zeroPoints: q.zeroPoints.map { Int32(truncatingIfNeeded: $0) }, axis: q.axis == nil ? nil : 0)
  }

  struct Geometry {
    var sh = 1, sw = 1, dh = 1, dw = 1
    var padding: PaddingKind = .valid
    /// top, bottom, left, right
    var explicit: [Int] = [0, 0, 0, 0]
    var needsPadNode = false
    var outH = 0, outW = 0
  }

  /// Strides, dilations and padding of a conv/pool, mapped onto TFLite's
  /// SAME / VALID or an explicit pad node.
  func spatial(_ a: ONNXAttributes, _ ctx: String, h: Int, w: Int, kh: Int, kw: Int, allowDilation: Bool,
               extraPads: [Int]) throws -> Geometry {
    var g = Geometry()
    let s = try a.ints("strides") ?? [1, 1]
    let d = try a.ints("dilations") ?? [1, 1]
    guard s.count == 2, d.count == 2, s.allSatisfy({ $0 >= 1 && $0 <= 1 << 12 }), d.allSatisfy({ $0 >= 1 && $0 <= 1 << 12 }) else {
      throw FloatGraphError.unsupported("\(ctx): strides \(s) / dilations \(d) (2-D, positive)")
    }
    if !allowDilation, d != [1, 1] { throw FloatGraphError.unsupported("\(ctx): dilations \(d)") }
    (g.sh, g.sw, g.dh, g.dw) = (s[0], s[1], d[0], d[1])
    let effH = (kh - 1) * g.dh + 1, effW = (kw - 1) * g.dw + 1
    let sameH = FloatGraph.padding(.same, input: h, filter: kh, stride: g.sh, dilation: g.dh)
    let sameW = FloatGraph.padding(.same, input: w, filter: kw, stride: g.sw, dilation: g.dw)
    let autoPad = a.string("auto_pad", "NOTSET")
    var p: [Int]  // top, bottom, left, right
    switch autoPad {
    case "NOTSET", "":
      let onnx = try a.ints("pads") ?? [0, 0, 0, 0]
      guard onnx.count == 4, onnx.allSatisfy({ $0 >= 0 && $0 <= 1 << 16 }) else {
        throw FloatGraphError.unsupported("\(ctx): pads \(onnx) (2-D, non-negative)")
      }
      p = [onnx[0], onnx[2], onnx[1], onnx[3]]  // ONNX: [top, left, bottom, right]
    case "VALID":
      p = [0, 0, 0, 0]
    case "SAME_UPPER":
      p = [sameH.0, sameH.1, sameW.0, sameW.1]
    case "SAME_LOWER":
      p = [sameH.1, sameH.0, sameW.1, sameW.0]
    default:
      throw FloatGraphError.unsupported("\(ctx): auto_pad '\(autoPad)'")
    }
    for i in 0..<4 { p[i] += extraPads[i] }
    g.explicit = p
    g.outH = (h + p[0] + p[1] - effH) / g.sh + 1
    g.outW = (w + p[2] + p[3] - effW) / g.sw + 1
    guard h + p[0] + p[1] >= effH, w + p[2] + p[3] >= effW else {
      throw FloatGraphError.invalidModel("\(ctx): kernel larger than the padded input")
    }
    if p == [0, 0, 0, 0] {
      g.padding = .valid
    } else if p == [sameH.0, sameH.1, sameW.0, sameW.1] {
      g.padding = .same
    } else {
      g.padding = .valid
      g.needsPadNode = true
    }
    return g
  }

  /// The conv/pool input: `x`, or a `.pad` node's output when the padding is
  /// not expressible as SAME/VALID.
  mutating func padIfNeeded(_ x: Value, _ g: Geometry, value: Float, ctx: String) throws -> Value {
    guard g.needsPadNode else { return x }
    let p = g.explicit
    let s = x.onnxShape
    let shape = [s[0], s[1], s[2] + p[0] + p[1], s[3] + p[2] + p[3]]
    guard onnxElementCount(shape) != nil else { throw FloatGraphError.invalidModel("\(ctx): padded shape \(shape) is too large") }
    let t = addTensor(tensors[x.tensor].name + "_padded", Self.toNHWC(shape))
    var nd = FloatGraph.Node(kind: .pad, inputs: [x.tensor], output: t, origin: ctx + " padding")
    nd.pads = [p[0], p[1], p[2], p[3], 0, 0]
    nd.padValue = value
    emit(nd)
    return Value(tensor: t, layout: .nhwc, onnxShape: shape)
  }

  /// Flatten / Reshape: the stored layout of the result, or nil when the
  /// shape does not change (the value is aliased). Supported: 4-D NCHW →
  /// [N, C·H·W] (NHWC order kept; the consumer's weights are permuted),
  /// reshapes that keep the element order in both layouts, [N, K] →
  /// [N, K, 1, 1], and a flattened tensor back to its [N, C, H, W].
  func reshapeLayout(_ x: Value, to target: [Int], ctx: String) throws -> Layout? {
    let s = x.onnxShape
    if target == s { return nil }
    switch x.layout {
    case .nhwc:
      let (c, h, w) = (s[1], s[2], s[3])
      if target.count == 2 && target[0] == s[0] {
        return c == 1 || h * w == 1 ? .plain : .flattenedNHWC(c: c, h: h, w: w)
      }
      if target.count == 4 && h * w == 1 && target[0] == s[0] && target[2] * target[3] == 1 { return .nhwc }
      if target.count != 4 && h * w == 1 { return .plain }
      throw FloatGraphError.unsupported("\(ctx): reshape of NCHW \(s) to \(target)")
    case .plain:
      if target.count == 4 {
        // [N, C, 1, 1] and [N, 1, H, W] have the same order as NHWC.
        guard target[2] * target[3] == 1 || target[1] == 1 else {
          throw FloatGraphError.unsupported("\(ctx): reshape of \(s) to NCHW \(target)")
        }
        return .nhwc
      }
      return .plain
    case .flattenedNHWC(let c, let h, let w):
      if target.count == 4 && target[0] == s[0] && target[1] == c && target[2] == h && target[3] == w { return .nhwc }
      throw FloatGraphError.unsupported("\(ctx): reshape of a flattened NCHW tensor to \(target)")
    }
  }

  /// BatchNormalization folded into node `p`: y = x·k[c] + s[c] per output channel.
  mutating func foldAffine(node p: Int, multiplier k: [Float], offset s: [Float]) {
    let nd = nodes[p]
    let wIdx = nd.inputs[1]
    var w = tensors[wIdx]
    let C = k.count
    var data = w.data!
    switch nd.kind {
    case .depthwiseConv2D:
      for i in data.indices { data[i] *= k[i % C] }
    default:  // conv2D [O, ...], fullyConnected [units, depth]
      let inner = data.count / C
      for i in data.indices { data[i] *= k[i / inner] }
    }
    w.data = data
    w.fixedQuantization = nil  // the scales no longer describe the folded weights
    tensors[wIdx] = w
    var bias = [Float](repeating: 0, count: C)
    if nd.inputs.count > 2 { bias = tensors[nd.inputs[2]].data! }
    for c in 0..<C { bias[c] = bias[c] * k[c] + s[c] }
    if nd.inputs.count > 2 {
      tensors[nd.inputs[2]].data = bias
      tensors[nd.inputs[2]].fixedQuantization = nil
    } else {
      let b = addTensor(tensors[nd.output].name + "_bias", [C], data: bias)
      nodes[p].inputs.append(b)
    }
  }

  /// Activation + constant folded into the producing Conv/Gemm/MatMul bias.
  mutating func foldAdd(_ v: Value, valueName: String, _ c: ONNXConstant, ctx: String, sole: Bool) throws {
    guard sole, let p = producer[v.tensor], [.conv2D, .depthwiseConv2D, .fullyConnected].contains(nodes[p].kind),
          nodes[p].activation == .none else {
      throw FloatGraphError.unsupported("\(ctx): Add of a constant that cannot be folded into a preceding Conv/Gemm/MatMul bias")
    }
    let C = v.layout == .nhwc ? v.onnxShape[1] : v.onnxShape.last!
    // The constant must vary along the channel axis only.
    let dims = c.dims
    let perChannel: Bool
    if c.count == 1 {
      perChannel = true
    } else if v.layout == .nhwc {
      let d4 = [Int](repeating: 1, count: max(0, 4 - dims.count)) + dims
      perChannel = d4.count == 4 && d4[0] == 1 && d4[1] == C && d4[2] == 1 && d4[3] == 1
    } else {
      perChannel = dims.last == C && dims.dropLast().allSatisfy { $0 == 1 }
    }
    guard perChannel, c.count == 1 || c.count == C else {
      throw FloatGraphError.unsupported("\(ctx): Add of a constant of shape \(dims) to \(v.onnxShape) (only a per-channel bias)")
    }
    foldAffine(node: p, multiplier: [Float](repeating: 1, count: C),
               offset: (0..<C).map { c.floats[c.count == 1 ? 0 : $0] })
  }
}
