// FloatGraph: a small float32 CNN graph IR (NHWC activations), the input of
// the quantizer. Built from a float TFLite model (`init(tflite:)`,
// TFLite/TFLiteFloatImporter.swift) or an ONNX model (`init(onnx:)`,
// ONNX/ONNXImporter.swift; NCHW converted to NHWC). Node kinds and their
// shape rules belong to the tools op units (Ops/*.swift); this file keeps the
// tensors, the graph checks and the activation fusing.
//
// Layouts are TFLite's (and cnnrt's): conv filters [Cout, KH, KW, Cin/groups],
// depthwise filters [1, KH, KW, C·multiplier], fully-connected weights
// [units, depth]. Every constant is stored as [Float].

import CNNRuntime

/// Errors building, validating or running a float graph.
public enum FloatGraphError: Error, Equatable, CustomStringConvertible {
  case unsupported(String)
  case invalidModel(String)
  case invalidInput(String)

  public var description: String {
    switch self {
    case .unsupported(let m): return "unsupported float model: \(m)"
    case .invalidModel(let m): return "invalid float model: \(m)"
    case .invalidInput(let m): return "invalid input: \(m)"
    }
  }
}

public struct FloatGraph: Sendable {
  public struct Tensor: Sendable {
    public var name: String
    public var shape: [Int]
    /// Constant values (row-major), nil for activations.
    public var data: [Float]?
    /// Quantization fixed by the source model (an ONNX QDQ model), used by
    /// the quantizer instead of calibrated ranges / computed weight scales.
    public var fixedQuantization: FixedQuantization?
    public var elementCount: Int { shape.reduce(1, *) }
    public var isConstant: Bool { data != nil }

    public init(name: String, shape: [Int], data: [Float]? = nil, fixedQuantization: FixedQuantization? = nil) {
      self.name = name; self.shape = shape; self.data = data; self.fixedQuantization = fixedQuantization
    }
  }

  /// Affine int8 quantization given by the source model: real = scale × (q − zeroPoint),
  /// per tensor (one scale, `axis` nil) or per channel along `axis` of the
  /// tensor's FloatGraph layout. Zero points are int8 (uint8 sources are
  /// stored shifted by −128, which is exact). int32 biases keep their scales
  /// here for reference; the quantizer derives bias scales as TFLite does.
  public struct FixedQuantization: Sendable, Equatable {
    public var scales: [Float]
    public var zeroPoints: [Int32]
    public var axis: Int?

    public init(scales: [Float], zeroPoints: [Int32], axis: Int? = nil) {
      self.scales = scales; self.zeroPoints = zeroPoints; self.axis = axis
    }

    /// The per-tensor activation parameters (nil when per channel).
    public var activation: ActivationQuant? {
      guard axis == nil, scales.count == 1, zeroPoints.count == 1 else { return nil }
      return ActivationQuant(scale: scales[0], zeroPoint: zeroPoints[0])
    }
  }

  public enum Activation: Sendable, Equatable {
    case none, relu, relu6
  }

  /// What a node computes. The kinds are declared by the tools op units
  /// (Ops/*.swift, `extension FloatGraph.Kind`), each unit listing its own.
  public struct Kind: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    init(_ name: String) { self.name = name }
    public var description: String { name }
  }

  public struct Node: Sendable {
    public var kind: Kind
    public var inputs: [Int]
    public var output: Int
    public var strideH = 1, strideW = 1
    public var dilationH = 1, dilationW = 1
    public var filterH = 0, filterW = 0
    public var padding: PaddingKind = .valid
    public var activation: Activation = .none
    public var beta: Float = 1
    /// Pad: [top, bottom, left, right, channelsBefore, channelsAfter].
    public var pads: [Int] = []
    public var padValue: Float = 0
    /// Strided slice: [first index, step, count] per input axis; transpose:
    /// the permutation (FloatGraph layout).
    public var ints: [Int] = []
    /// LeakyReLU's slope; HardSigmoid's alpha (with `beta`).
    public var alpha: Float = 0
    // join
    /// Concatenation: the axis in this graph's layout (NHWC for 4-D), >= 0.
    public var axis = 0
    /// Resize: TFLite align_corners / half_pixel_centers (the output shape gives the size).
    public var alignCorners = false
    public var halfPixelCenters = false
    /// Where the node came from ("operator 3 (CONV_2D)").
    public var origin: String

    public init(kind: Kind, inputs: [Int], output: Int, origin: String) {
      self.kind = kind; self.inputs = inputs; self.output = output; self.origin = origin
    }
  }

  public var tensors: [Tensor]
  public var nodes: [Node]
  public var inputs: [Int]
  public var outputs: [Int]

  public init(tensors: [Tensor], nodes: [Node], inputs: [Int], outputs: [Int]) throws {
    self.tensors = tensors; self.nodes = nodes; self.inputs = inputs; self.outputs = outputs
    try validate()
  }

  /// Checks indices, topological order and shapes (as the executor needs them).
  public func validate() throws {
    var written = Set<Int>()
    for t in inputs {
      guard t >= 0, t < tensors.count, !tensors[t].isConstant else {
        throw FloatGraphError.invalidModel("model input \(t) is not an activation tensor")
      }
      written.insert(t)
    }
    for n in nodes {
      for i in n.inputs {
        guard i >= 0, i < tensors.count else { throw FloatGraphError.invalidModel("\(n.origin): input tensor \(i) out of range") }
        guard tensors[i].isConstant || written.contains(i) else {
          throw FloatGraphError.invalidModel("\(n.origin): input \(tensors[i].name) is read before it is written")
        }
      }
      guard n.output >= 0, n.output < tensors.count, !tensors[n.output].isConstant, !written.contains(n.output) else {
        throw FloatGraphError.invalidModel("\(n.origin): bad output tensor \(n.output)")
      }
      try checkShapes(n)
      written.insert(n.output)
    }
    for t in outputs where !written.contains(t) {
      throw FloatGraphError.invalidModel("model output \(t) is never written")
    }
  }

  private func checkShapes(_ n: Node) throws {
    try ToolOpTable.unit(n.kind).checkShapes(FloatNodeCheck(graph: self, node: n))
  }

  /// TFLite padding: (before, after) along one axis.
  static func padding(_ kind: PaddingKind, input: Int, filter: Int, stride: Int, dilation: Int) -> (Int, Int) {
    guard kind == .same else { return (0, 0) }
    let out = (input + stride - 1) / stride
    let eff = (filter - 1) * dilation + 1
    let total = max((out - 1) * stride + eff - input, 0)
    return (total / 2, total - total / 2)
  }

  /// Indices of the nodes reading tensor `t`.
  public func consumers(of t: Int) -> [Int] {
    nodes.indices.filter { nodes[$0].inputs.contains(t) }
  }

  /// A copy where each standalone ReLU/ReLU6 whose input is written by a conv,
  /// depthwise conv, fully connected, add or pool with no fused activation
  /// and read by nothing else is fused into that producer (as TFLite's
  /// converter does); the others stay standalone RELU / RELU6 ops.
  public func fusingActivations() -> FloatGraph {
    var g = self
    var i = 0
    while i < g.nodes.count {
      let n = g.nodes[i]
      if n.kind == .activation, let p = g.nodes.firstIndex(where: { $0.output == n.inputs[0] }),
         ToolOpTable.unit(g.nodes[p].kind).acceptsFusedActivation,
         g.nodes[p].activation == .none, g.consumers(of: n.inputs[0]) == [i], !g.outputs.contains(n.inputs[0]) {
        g.nodes[p].activation = n.activation
        g.nodes[p].output = n.output
        g.nodes.remove(at: i)
        continue
      }
      i += 1
    }
    return g
  }

  /// A copy where each x · HardSigmoid(x) with alpha 1/6 and beta 1/2 (how
  /// PyTorch exports hardswish below ONNX opset 14) is one HardSwish node:
  /// quantized as two ops it is rounded twice, and the product reads the
  /// gate at the 1/256 step of the sigmoid's output. The gate must be read
  /// by that product only and not be a model output; the product must have
  /// no fused activation. The product's output tensor is kept.
  public func fusingHardSwish() -> FloatGraph {
    fusingGatedProducts(gate: { $0.kind == .hardSigmoid && abs($0.alpha * 6 - 1) < 1e-6 && $0.beta == 0.5 }) { x, n in
      FloatGraph.Node(kind: .hardSwish, inputs: [x], output: n.output,
                      origin: "\(n.origin) (x · HardSigmoid(x) as HardSwish)")
    }
  }

  /// A copy where each x · Sigmoid(x) (SiLU: how PyTorch exports nn.SiLU,
  /// as in torchvision's EfficientNet, and Keras its swish) is one Swish
  /// node, quantized as one lookup table: one rounding of the product
  /// instead of the sigmoid's 1/256 step, a rounded product and two ops.
  /// Same conditions as `fusingHardSwish`.
  public func fusingSwish() -> FloatGraph {
    fusingGatedProducts(gate: { $0.kind == .logistic }) { x, n in
      var m = FloatGraph.Node(kind: .unaryFunction, inputs: [x], output: n.output,
                              origin: "\(n.origin) (x · Sigmoid(x) as Swish)")
      m.ints = [UnaryFunction.swish.rawValue]
      m.alpha = 1
      return m
    }
  }

  /// Replaces each product x · gate(x), where `gate` accepts the node that
  /// computes the gate from x alone, by `fused(x, product)`; the gate node goes.
  private func fusingGatedProducts(gate: (Node) -> Bool, _ fused: (Int, Node) -> Node) -> FloatGraph {
    var g = self
    var i = 0
    while i < g.nodes.count {
      let n = g.nodes[i]
      i += 1
      guard n.kind == .mul, n.activation == .none, n.inputs.count == 2 else { continue }
      for k in 0..<2 {
        guard let p = g.nodes.firstIndex(where: { $0.output == n.inputs[k] }) else { continue }
        let h = g.nodes[p]
        guard gate(h), h.inputs.count == 1, h.inputs[0] == n.inputs[1 - k],
              g.consumers(of: h.output) == [i - 1], !g.outputs.contains(h.output) else { continue }
        g.nodes[i - 1] = fused(n.inputs[1 - k], n)
        g.nodes.remove(at: p)  // the gate's producer precedes the product: the next node is now at i - 1
        i -= 1
        break
      }
    }
    return g
  }
}

/// A node's shape check (`ToolOp.checkShapes`): the node, its first input's
/// and its output's shapes, and the checks several ops share.
struct FloatNodeCheck {
  let graph: FloatGraph
  let node: FloatGraph.Node

  /// Shape of the first input (of the output when the node has no input).
  var x: [Int] { graph.tensors[node.inputs.first ?? node.output].shape }
  var out: [Int] { graph.tensors[node.output].shape }
  func tensor(_ i: Int) -> FloatGraph.Tensor { graph.tensors[node.inputs[i]] }

  func fail(_ m: String) -> FloatGraphError { .invalidModel("\(node.origin): \(m)") }

  /// A 4-D NHWC window op (conv, pool): the output height and width follow
  /// from the input, a `kh` × `kw` window, the strides, dilations and padding.
  func spatial(kh: Int, kw: Int) throws {
    let n = node, x = self.x, out = self.out
    guard x.count == 4, out.count == 4, x[0] == out[0] else { throw fail("input \(x) / output \(out) must be 4-D NHWC") }
    let (ph, _) = FloatGraph.padding(n.padding, input: x[1], filter: kh, stride: n.strideH, dilation: n.dilationH)
    let (pw, _) = FloatGraph.padding(n.padding, input: x[2], filter: kw, stride: n.strideW, dilation: n.dilationW)
    _ = ph; _ = pw
    let oh = ModelBuilder.outputSize(input: x[1], filter: kh, stride: n.strideH, dilation: n.dilationH, padding: n.padding)
    let ow = ModelBuilder.outputSize(input: x[2], filter: kw, stride: n.strideW, dilation: n.dilationW, padding: n.padding)
    guard oh == out[1], ow == out[2] else { throw fail("output \(out) does not match input \(x), filter \(kh)x\(kw)") }
  }

  /// Same element count (reshape) and, unless `reshapes`, the same shape.
  func sameElements(reshapes: Bool) throws {
    guard out.reduce(1, *) == x.reduce(1, *) else { throw fail("element counts of \(x) and \(out) differ") }
    if !reshapes { guard x == out else { throw fail("shape \(x) changes to \(out)") } }
  }
}
