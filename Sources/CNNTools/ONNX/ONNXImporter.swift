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
// Ops are mapped by their tools op units (Ops/*.swift, `ToolOp.importONNX`)
// through the value helpers here; graph-level nodes (Constant, Identity,
// Dropout, Q/DQ, BatchNormalization, Transpose) and the folds spanning
// several nodes (BatchNorm / constant Add into the producer, Pad into Conv)
// stay in this file.
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
  /// Errors name the node ("unsupported ONNX op 'LSTM' (node 3, 'lstm_1')": its
  /// position in the graph's node list, from 0, and its name);
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

/// One ONNX node being imported, with its name for messages.
struct ONNXNode {
  let proto: ONNXNodeProto
  /// The node's name, or "#k".
  let name: String
  /// "ONNX node 'conv1' (Conv)".
  let ctx: String
  let a: ONNXAttributes
  /// Name of output 0.
  let outName: String

  var opType: String { proto.opType }
  func unsupported(_ m: String) -> FloatGraphError { .unsupported("\(ctx): \(m)") }
  func invalid(_ m: String) -> FloatGraphError { .invalidModel("\(ctx): \(m)") }
  func node(_ kind: FloatGraph.Kind, _ inputs: [Int], _ out: ONNXImporter.Value) -> FloatGraph.Node {
    FloatGraph.Node(kind: kind, inputs: inputs, output: out.tensor, origin: ctx)
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
  /// A channel shuffle in progress (ShuffleNet: Reshape [N,C,H,W] → [N, g,
  /// C/g, H, W] → Transpose(0, 2, 1, 3, 4) → Reshape [N, C, H, W]): the
  /// 4-D input, the group count, whether the Transpose has been seen, and
  /// the rank-5 shape ONNX sees. The last Reshape becomes one channel Gather.
  var pendingShuffle: [String: (value: Value, groups: Int, transposed: Bool, shape: [Int])] = [:]
  /// A QuantizeLinear of a channel shuffle's rank-5 view (ONNX QDQ models
  /// quantize every view): the view and the parameters, until its
  /// DequantizeLinear passes the view on.
  var quantizedShuffle: [String: (view: String, quant: ONNXQuant)] = [:]
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
    for i in nodes.indices where ToolOpTable.unit(nodes[i].kind).acceptsFusedActivation
      && ToolOpTable.unit(nodes[i].kind).calibratesOutput && nodes[i].activation == .none {
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

  /// The fixed quantization a QuantizeLinear → DequantizeLinear pair on an
  /// activation gives it: the pair's parameters must agree, int8 or uint8
  /// (uint8 zero points become int8 ones, − 128).
  static func activationQuantization(_ n: ONNXNode, _ q: ONNXQuant, quantizedWith qq: ONNXQuant) throws
    -> FloatGraph.FixedQuantization {
    guard q.scales == qq.scales, q.zeroPoints == qq.zeroPoints else {
      throw n.unsupported("DequantizeLinear parameters differ from its QuantizeLinear's")
    }
    guard q.dataType == ONNXDataType.int8 || q.dataType == ONNXDataType.uint8 else {
      throw n.unsupported("activations quantized to \(ONNXDataType.name(q.dataType)) (only int8 / uint8)")
    }
    return FloatGraph.FixedQuantization(scales: q.scales, zeroPoints: q.int8ZeroPoints)
  }

  /// For the ops of ONNX Runtime's QOperator format (QLinearConv,
  /// QLinearMatMul, com.microsoft QLinearAdd, …, ConvInteger, MatMulInteger):
  /// what to give cnnrt instead. Empty for other ops.
  static func qOperatorHint(_ opType: String) -> String {
    guard opType.hasPrefix("QLinear") || opType.hasSuffix("Integer") || opType == "DynamicQuantizeLinear" else { return "" }
    return "; this is ONNX Runtime's QOperator (or dynamic) quantization format: give cnnrt quantize the float model, "
      + "or a QDQ model (quantize_static with quant_format=QuantFormat.QDQ, its default)"
  }

  mutating func convert(_ proto: ONNXNodeProto, index k: Int) throws {
    let name = proto.name.isEmpty ? "#\(k)" : proto.name
    let ctx = "ONNX node '\(name.prefix(120))' (\(proto.opType.prefix(60)))"
    let n = ONNXNode(proto: proto, name: name, ctx: ctx, a: ONNXAttributes(proto, ctx: ctx), outName: proto.output.first ?? "")
    guard proto.domain.isEmpty || proto.domain == "ai.onnx" else {
      throw FloatGraphError.unsupported(
        "unsupported ONNX op '\(proto.domain).\(proto.opType)' (node \(k), '\(name)')\(Self.qOperatorHint(proto.opType))")
    }
    let a = n.a
    guard let outName = proto.output.first, !outName.isEmpty else { throw n.invalid("no output") }
    for o in proto.output where !o.isEmpty {
      if values[o] != nil || constants[o] != nil || quantized[o] != nil || pendingPads[o] != nil || pendingShuffle[o] != nil
        || quantizedShuffle[o] != nil {
        throw n.invalid("output '\(o)' is written twice")
      }
    }
    if proto.output.count > 1, proto.opType != "Dropout", proto.opType != "Split" {
      for o in proto.output.dropFirst() where !o.isEmpty && readers[o] != nil { throw n.unsupported("more than one output is used") }
    }

    if try foldShapeArithmetic(n) { return }  // shape: dynamic-batch shape subgraphs

    // Graph-level nodes: constants, aliases, Q/DQ parameters, BatchNorm
    // folding and layout transposes rewrite values and earlier nodes rather
    // than adding an op, so they stay here. Every op is an Ops/ unit.
    switch proto.opType {
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
        throw n.unsupported("Constant without a tensor, float(s) or int(s) value")
      }

    case "Identity", "Dropout":
      let nm = try inputName(n, 0)
      if let c = constants[nm] { constants[outName] = c } else { alias(n, try activation(n, 0)) }
      if n.opType == "Dropout", n.proto.output.count > 1, !n.proto.output[1].isEmpty, readers[n.proto.output[1]] != nil {
        throw n.unsupported("the Dropout mask output is used")
      }

    case "QuantizeLinear":
      let q = try quantParams(n.proto, a, ctx)
      let nm = try inputName(n, 0)
      if let c = constants[nm] {
        // Quantize a float constant (weights kept in float + Q/DQ): store the integers.
        let ints = try Self.quantize(c, q, ctx)
        constants[outName] = ONNXConstant(dims: c.dims, floats: ints.map { Float($0) }, ints: ints, quant: nil, dataType: q.dataType)
      } else if pendingShuffle[nm] != nil {
        guard q.axis == nil else { throw n.unsupported("per-axis quantization of an activation") }
        quantizedShuffle[outName] = (nm, q)
      } else {
        let v = try activation(n, 0)
        guard q.axis == nil else { throw n.unsupported("per-axis quantization of an activation") }
        quantized[outName] = (v, q)
      }

    case "DequantizeLinear":
      let q = try quantParams(n.proto, a, ctx)
      let nm = try inputName(n, 0)
      if let c = constants[nm] {
        guard let ints = c.ints else { throw n.invalid("input '\(nm)' is not an integer tensor") }
        if let axis = q.axis {
          guard axis < c.dims.count, c.dims[axis] == q.scales.count else {
            throw n.invalid("\(q.scales.count) scales along axis \(axis) of shape \(c.dims)")
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
        let fixed = try Self.activationQuantization(n, q, quantizedWith: qq)
        if tensors[v.tensor].fixedQuantization == nil { tensors[v.tensor].fixedQuantization = fixed }
        alias(n, v)
      } else if let (view, qq) = quantizedShuffle[nm], let p = pendingShuffle[view] {
        // A Q/DQ pair inside a channel shuffle: the shuffle is a byte move
        // (one Gather sharing its input's quantization), so the view must
        // carry the input's parameters.
        let fixed = try Self.activationQuantization(n, q, quantizedWith: qq)
        let own = tensors[p.value.tensor].fixedQuantization
        guard own == nil || own == fixed else {
          throw n.unsupported("a channel shuffle's rank-5 view is quantized (\(q.scales[0]), \(q.int8ZeroPoints[0])), "
                                + "its input (\(own!.scales[0]), \(own!.zeroPoints[0])); the shuffle moves bytes, so they must match")
        }
        pendingShuffle[outName] = p
      } else if values[nm] != nil {
        throw n.unsupported("DequantizeLinear of a computed tensor (only of constants or after QuantizeLinear)")
      } else {
        throw n.invalid("input '\(nm)' is not computed before this node")
      }

    case "BatchNormalization":
      let x = try activation(n, 0)
      let xn = try inputName(n, 0)
      if try a.int("training_mode", 0) != 0 { throw n.unsupported("training_mode = 1") }
      let eps = try a.float("epsilon", 1e-5)
      let scale = try constant(n, 1), bias = try constant(n, 2), mean = try constant(n, 3), variance = try constant(n, 4)
      let C = x.onnxShape.count >= 2 ? x.onnxShape[1] : 0
      guard [scale, bias, mean, variance].allSatisfy({ $0.count == C }) else {
        throw n.invalid("parameters do not have \(C) values")
      }
      var k = [Float](repeating: 0, count: C), s = [Float](repeating: 0, count: C)
      for c in 0..<C {
        let d = Double(variance.floats[c]) + Double(eps)
        guard d > 0 else { throw n.invalid("variance + epsilon ≤ 0 for channel \(c)") }
        let kk = Double(scale.floats[c]) / d.squareRoot()
        k[c] = Float(kk)
        s[c] = Float(Double(bias.floats[c]) - Double(mean.floats[c]) * kk)
      }
      guard soleReader(xn), let p = producer[x.tensor], hasWeights(nodes[p]), nodes[p].activation == .none else {
        throw n.unsupported("BatchNormalization that does not follow a Conv/Gemm/MatMul read only by it cannot be folded")
      }
      foldAffine(node: p, multiplier: k, offset: s)
      alias(n, x)

    case "Transpose":
      if let p = pendingShuffle[try inputName(n, 0)], !p.transposed, (try a.ints("perm")) == [0, 2, 1, 3, 4] {
        let q = p.shape
        pendingShuffle[outName] = (p.value, p.groups, true, [q[0], q[2], q[1], q[3], q[4]])
        break
      }
      let x = try activation(n, 0)
      let s = x.onnxShape
      let perm = try a.ints("perm") ?? Array((0..<s.count).reversed())
      guard perm.count == s.count, Set(perm) == Set(0..<s.count) else { throw n.invalid("perm \(perm) for shape \(s)") }
      if perm == Array(0..<s.count) { alias(n, x); break }
      switch (x.layout, perm) {
      case (.plain, [0, 3, 1, 2]) where s.count == 4:
        // NHWC data viewed as NCHW: exactly the FloatGraph's storage of it.
        alias(n, Value(tensor: x.tensor, layout: .nhwc, onnxShape: [s[0], s[3], s[1], s[2]]))
      case (.nhwc, [0, 2, 3, 1]):
        alias(n, Value(tensor: x.tensor, layout: .plain, onnxShape: [s[0], s[2], s[3], s[1]]))
      default:
        try TransposeOp.importONNX(n, x, perm: perm, &self)  // shape
      }

    default:
      guard let unit = ToolOpTable.byONNX[proto.opType] else {
        throw FloatGraphError.unsupported(
          "unsupported ONNX op '\(proto.opType)' (node \(k), '\(name)')\(Self.qOperatorHint(proto.opType))")
      }
      try unit.importONNX(n, &self)
    }
  }

  // MARK: Node helpers (for the op units)

  func inputName(_ n: ONNXNode, _ i: Int) throws -> String {
    guard i < n.proto.input.count, !n.proto.input[i].isEmpty else { throw n.invalid("missing input \(i)") }
    return n.proto.input[i]
  }

  func optionalName(_ n: ONNXNode, _ i: Int) -> String? {
    i < n.proto.input.count && !n.proto.input[i].isEmpty ? n.proto.input[i] : nil
  }

  /// Input `i` as an activation (an earlier node's output or a graph input).
  func activation(_ n: ONNXNode, _ i: Int) throws -> Value {
    let nm = try inputName(n, i)
    if let v = values[nm] { return v }
    if constants[nm] != nil { throw n.unsupported("input '\(nm)' is a constant (only activations are supported here)") }
    if quantized[nm] != nil { throw n.unsupported("input '\(nm)' is quantized (QuantizeLinear not followed by DequantizeLinear)") }
    if pendingShuffle[nm] != nil {
      throw n.unsupported("input '\(nm)' is a rank-5 view of an NCHW tensor (supported only as a channel shuffle: Reshape [N, g, C/g, H, W], Transpose(0, 2, 1, 3, 4), Reshape [N, C, H, W])")
    }
    throw n.invalid("input '\(nm)' is not computed before this node")
  }

  func constant(_ n: ONNXNode, _ i: Int) throws -> ONNXConstant {
    let nm = try inputName(n, i)
    if let c = constants[nm] { return c }
    if values[nm] != nil { throw n.unsupported("input \(i) '\(nm)' must be a constant") }
    throw n.invalid("input '\(nm)' is not computed before this node")
  }

  func optionalConstant(_ n: ONNXNode, _ i: Int) throws -> ONNXConstant? {
    guard optionalName(n, i) != nil else { return nil }
    return try constant(n, i)
  }

  /// The node's output value (a new FloatGraph tensor; NHWC-stored when `layout` is `.nhwc`).
  mutating func output(_ n: ONNXNode, _ shape: [Int], _ layout: Layout, fixed: FloatGraph.FixedQuantization? = nil) throws -> Value {
    guard onnxElementCount(shape) != nil else { throw n.invalid("output shape \(shape) is too large") }
    let t = addTensor(n.outName, layout == .nhwc ? Self.toNHWC(shape) : shape, fixed: fixed)
    let v = Value(tensor: t, layout: layout, onnxShape: shape)
    values[n.outName] = v
    return v
  }

  /// The node's output is `v` (no computation).
  mutating func alias(_ n: ONNXNode, _ v: Value) { values[n.outName] = v }

  func require4D(_ n: ONNXNode, _ v: Value) throws {
    guard v.layout == .nhwc, v.onnxShape.count == 4 else {
      throw n.unsupported("input must be a 4-D NCHW activation, got shape \(v.onnxShape)")
    }
  }

  /// Consumed only by the next op (so it can be folded away).
  func soleReader(_ valueName: String) -> Bool { readers[valueName] == 1 && !graphOutputs.contains(valueName) }

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
  /// A 2-D op's `strides` and `dilations` (default 1), each value 1 to
  /// ModelBuilder.maxSpatialParameter.
  static func stridesAndDilations(_ a: ONNXAttributes, _ ctx: String) throws -> (s: [Int], d: [Int]) {
    let s = try a.ints("strides") ?? [1, 1]
    let d = try a.ints("dilations") ?? [1, 1]
    let inRange = { (v: Int) in v >= 1 && v <= ModelBuilder.maxSpatialParameter }
    guard s.count == 2, d.count == 2, s.allSatisfy(inRange), d.allSatisfy(inRange) else {
      throw FloatGraphError.unsupported("\(ctx): strides \(s) / dilations \(d) (2-D, positive)")
    }
    return (s, d)
  }

  func spatial(_ a: ONNXAttributes, _ ctx: String, h: Int, w: Int, kh: Int, kw: Int, allowDilation: Bool,
               extraPads: [Int]) throws -> Geometry {
    var g = Geometry()
    let (s, d) = try Self.stridesAndDilations(a, ctx)
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

  /// Whether node `nd` has weights with output channels (conv, depthwise
  /// conv, fully connected), into which BatchNorm and a constant Add fold.
  func hasWeights(_ nd: FloatGraph.Node) -> Bool { ToolOpTable.unit(nd.kind).weightChannelAxis(nd.kind) != nil }

  /// BatchNormalization folded into node `p`: y = x·k[c] + s[c] per output channel.
  mutating func foldAffine(node p: Int, multiplier k: [Float], offset s: [Float]) {
    let nd = nodes[p]
    let wIdx = nd.inputs[1]
    var w = tensors[wIdx]
    let C = k.count
    var data = w.data!
    // Output channels along the unit's weight axis: conv [O, ...] and fully
    // connected [units, depth] axis 0, depthwise [1, KH, KW, C·m] axis 3.
    let axis = ToolOpTable.unit(nd.kind).weightChannelAxis(nd.kind) ?? 0
    let inner = w.shape[(axis + 1)...].reduce(1, *)
    for i in data.indices { data[i] *= k[(i / inner) % C] }
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
    guard sole, let p = producer[v.tensor], hasWeights(nodes[p]), nodes[p].activation == .none else {
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
