// TransposeConv, tools side: TFLite TRANSPOSE_CONV (Keras Conv2DTranspose:
// inputs output_shape, weights, input, optional bias; int8 and float), ONNX
// ConvTranspose (pads, output_padding, output_shape and auto_pad mapped to
// SAME / VALID when they coincide, else explicit pads; groups and dilation as
// a filter with zeros),
// float evaluation, quantization (per-channel weights on axis 0) and the
// builder's rules. The output size is the one the model names; it must be a
// size whose forward convolution gives the input size.

import CNNRuntime

extension FloatGraph.Kind {
  /// inputs: x [N,H,W,Cin], filter [Cout,KH,KW,Cin], bias [Cout]?; the
  /// output's H and W are the model's; `pads` [top, bottom, left, right]
  /// when explicit, else `padding` SAME / VALID (TFLM's rule).
  public static let transposeConv = Self("transposeConv")
}

enum TransposeConvOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.transposeConv]
  static let opCodes: [OpCode] = [.transposeConv]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.transposeConv]
  static let onnxOpTypes = ["ConvTranspose"]
  static let acceptsFusedActivation = true
  static let calibratesOutput = true

  static func weightChannelAxis(_ kind: FloatGraph.Kind) -> Int? { 0 }

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 3...4)
    guard case .transposeConv(let c) = op.options else { throw op.wrongOptions() }
    let o = OpOptions(strideH: c.strideH, strideW: c.strideW, padding: try im.padding(c.padding),
                      activation: try im.activation(c.activation, op.ctx))
    try im.checkStrides(o, op.ctx)
    let x = try im.activationInput(try op.input(2), op.ctx)
    let filterIndex = try op.input(1)
    let fshape = im.graph.tensors[filterIndex].shape
    guard fshape.count == 4 else {
      throw TFLiteError.invalidModel("\(op.ctx): filter \(im.describe(filterIndex)) has shape \(fshape), expected rank 4")
    }
    let f = try im.weights(filterIndex, channelAxis: 0, op.ctx)
    let b = try op.optionalInput(3).map { try im.bias($0, count: fshape[0], op.ctx) }
    let out = try im.outputActivation(op.op, op.ctx)
    // The output_shape input must agree with the output tensor.
    let sizes = try im.intConstant(try op.input(0), "output_shape", op.ctx)
    let oshape = im.builder.tensors[out.index].shape
    guard sizes == oshape else {
      throw TFLiteError.invalidModel("\(op.ctx): output_shape \(sizes) differs from the output tensor's shape \(oshape)")
    }
    try im.addOp(op, .transposeConv, [x, f] + (b.map { [$0] } ?? []), out, o)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    guard case .transposeConv(let c) = op.options else { throw FloatGraphError.invalidModel("\(op.ctx): missing or wrong builtin options") }
    let ins = [try im.input(op, 2), try im.input(op, 1)] + (try im.optionalInput(op, 3).map { [$0] } ?? [])
    guard im.tensors[ins[1]].isConstant else { throw FloatGraphError.unsupported("\(op.ctx): non-constant filter") }
    var node = try im.node(op, .transposeConv, ins)
    node.strideH = c.strideH; node.strideW = c.strideW
    node.padding = c.padding == .same ? .same : .valid
    node.activation = try im.act(c.activation, op.ctx)
    return node
  }

  // MARK: ONNX

  /// ONNX ConvTranspose: y[o] gathers x[i]·w[k] over o = i·s − pad_begin + k·d.
  /// Groups and dilation become one TRANSPOSE_CONV with a larger filter that
  /// holds zeros: taps between dilated ones, and the input channels of other
  /// groups (block-diagonal). Zero weights add nothing to TFLM's int32 sums,
  /// so the result is the grouped, dilated operator exactly, at g× the MACs
  /// and filter bytes of the grouped form.
  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    try im.require4D(n, x)
    let w = try im.constant(n, 1)
    guard w.dims.count == 4 else { throw n.unsupported("only 2-D transposed convolutions (weights \(w.dims))") }
    let (N, C, H, W) = (x.onnxShape[0], x.onnxShape[1], x.onnxShape[2], x.onnxShape[3])
    let (Ci, Og, KH, KW) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3])
    let groups = try n.a.int("group", 1)
    guard groups >= 1, C % groups == 0 else { throw n.invalid("group \(groups) does not divide the \(C) input channels") }
    guard Ci == C, Og >= 1, KH >= 1, KW >= 1 else { throw n.invalid("weights \(w.dims) do not match input channels \(C)") }
    let O = Og * groups
    if let ks = try n.a.ints("kernel_shape"), ks != [KH, KW] { throw n.invalid("kernel_shape \(ks) != weights \(w.dims)") }
    let (s, d) = try ONNXImporter.stridesAndDilations(n.a, n.ctx)
    // The dilated kernel's extent: the filter the runtime runs.
    let (KHd, KWd) = (d[0] * (KH - 1) + 1, d[1] * (KW - 1) + 1)
    guard KHd <= ModelBuilder.maxSpatialParameter, KWd <= ModelBuilder.maxSpatialParameter,
          O * KHd * KWd * C <= 1 << 26 else {
      throw n.unsupported("group \(groups) and dilations \(d): the filter with zeros would be \(O)×\(KHd)×\(KWd)×\(C)")
    }
    let op = try n.a.ints("output_padding") ?? [0, 0]
    guard op.count == 2, op[0] >= 0, op[0] < s[0], op[1] >= 0, op[1] < s[1] else {
      throw n.invalid("output_padding \(op) (each 0 to stride - 1)")
    }
    // Pads [top, bottom, left, right] and the output size, by the operator's definition.
    let full = [s[0] * (H - 1) + op[0] + KHd, s[1] * (W - 1) + op[1] + KWd]
    let autoPad = n.a.string("auto_pad", "NOTSET")
    var p: [Int]
    if let shape = try n.a.ints("output_shape") {
      let os = Array(shape.suffix(2))
      guard os.count == 2 else { throw n.invalid("output_shape \(shape)") }
      let total = [full[0] - os[0], full[1] - os[1]]
      guard total.allSatisfy({ $0 >= 0 }) else { throw n.unsupported("output_shape \(shape) larger than the full transposed convolution") }
      let upper = autoPad == "SAME_UPPER"
      p = []
      for t in total { p += upper ? [t / 2, t - t / 2] : [t - t / 2, t / 2] }
    } else {
      switch autoPad {
      case "NOTSET", "":
        let q = try n.a.ints("pads") ?? [0, 0, 0, 0]
        guard q.count == 4, q.allSatisfy({ $0 >= 0 }) else { throw n.unsupported("pads \(q) (2-D, non-negative)") }
        p = [q[0], q[2], q[1], q[3]]  // ONNX: [top, left, bottom, right]
      case "VALID":
        p = [0, 0, 0, 0]
      case "SAME_UPPER", "SAME_LOWER":
        let total = [full[0] - H * s[0], full[1] - W * s[1]]
        guard total.allSatisfy({ $0 >= 0 }) else { throw n.unsupported("auto_pad \(autoPad) with a kernel smaller than the stride") }
        let upper = autoPad == "SAME_UPPER"
        p = []
        for t in total { p += upper ? [t / 2, t - t / 2] : [t - t / 2, t / 2] }
      default:
        throw n.unsupported("auto_pad '\(autoPad)'")
      }
    }
    guard p[0] < KHd, p[1] < KHd, p[2] < KWd, p[3] < KWd else { throw n.unsupported("pads \(p) not smaller than the (dilated) kernel") }
    let oh = full[0] - p[0] - p[1], ow = full[1] - p[2] - p[3]
    guard oh >= 1, ow >= 1 else { throw n.invalid("empty output") }
    let bias = try im.optionalConstant(n, 2)
    if let bias { guard bias.count == O else { throw n.invalid("bias has \(bias.count) values for \(O) channels") } }
    let out = try im.output(n, [N, O, oh, ow], .nhwc)
    // [O, KHd, KWd, C] from ONNX [C, O / group, KH, KW]: input channel i of
    // group i / (C / group) feeds that group's outputs only; tap (y, x) sits
    // at (y·d_h, x·d_w).
    let perGroup = C / groups
    var filter = [Float](repeating: 0, count: O * KHd * KWd * C)
    for i in 0..<Ci { for og in 0..<Og { for y in 0..<KH { for xx in 0..<KW {
      let o = (i / perGroup) * Og + og
      filter[((o * KHd + y * d[0]) * KWd + xx * d[1]) * C + i] = w.floats[((i * Og + og) * KH + y) * KW + xx]
    } } } }
    var fixed: FloatGraph.FixedQuantization? = nil
    if let q = w.quant {
      guard q.axis == nil || q.axis == 1 else { throw n.unsupported("weight scales along axis \(q.axis!) (per-tensor or axis 1)") }
      // Per output channel: group gi's channel og has the weights' scale og.
      let rep = { (v: [Float]) in q.axis == nil ? v : (0..<groups).flatMap { _ in v } }
      let zps = q.axis == nil ? q.int8ZeroPoints : (0..<groups).flatMap { _ in q.int8ZeroPoints }
      fixed = .init(scales: rep(q.scales), zeroPoints: zps, axis: q.axis == nil ? nil : 0)
    }
    var ins = [x.tensor, im.addTensor(try im.inputName(n, 1), [O, KHd, KWd, C], data: filter, fixed: fixed)]
    if let bias { ins.append(im.addTensor(try im.inputName(n, 2), [O], data: bias.floats, fixed: im.biasFixed(bias))) }
    var nd = n.node(.transposeConv, ins, out)
    nd.strideH = s[0]; nd.strideW = s[1]
    // SAME / VALID where TFLM's rule gives these pads for this output size.
    let same = [FloatGraph.padding(.same, input: oh, filter: KHd, stride: s[0], dilation: 1),
                FloatGraph.padding(.same, input: ow, filter: KWd, stride: s[1], dilation: 1)]
    if p[0] == 0 && p[2] == 0 && forwardSize(oh, KHd, s[0], .valid, 0, 0) == H && forwardSize(ow, KWd, s[1], .valid, 0, 0) == W {
      nd.padding = .valid
    } else if p[0] == same[0].0 && p[2] == same[1].0 && (oh + s[0] - 1) / s[0] == H && (ow + s[1] - 1) / s[1] == W {
      nd.padding = .same
    } else {
      nd.pads = p
    }
    im.emit(nd)
  }

  // MARK: Float graph

  /// The forward convolution's output size from the transposed one's output.
  static func forwardSize(_ out: Int, _ k: Int, _ s: Int, _ kind: PaddingKind, _ before: Int, _ after: Int) -> Int? {
    ModelBuilder.outputSize(input: out, filter: k, stride: s, dilation: 1, padding: kind, padBefore: before, padAfter: after)
  }

  /// Leading pads (top, left) of node `n` for output size `oh`×`ow`.
  static func leadingPads(_ n: FloatGraph.Node, kh: Int, kw: Int, oh: Int, ow: Int) -> (Int, Int) {
    if n.pads.count == 4 { return (n.pads[0], n.pads[2]) }
    return (FloatGraph.padding(n.padding, input: oh, filter: kh, stride: n.strideH, dilation: 1).0,
            FloatGraph.padding(n.padding, input: ow, filter: kw, stride: n.strideW, dilation: 1).0)
  }

  static func checkShapes(_ c: FloatNodeCheck) throws {
    let n = c.node, x = c.x, out = c.out
    guard n.inputs.count >= 2 else { throw c.fail("needs input and filter") }
    let f = c.tensor(1)
    guard f.isConstant, f.shape.count == 4, x.count == 4, out.count == 4 else { throw c.fail("filter must be a constant 4-D tensor") }
    guard f.shape[3] == x[3], out[3] == f.shape[0], out[0] == x[0] else { throw c.fail("filter \(f.shape) vs input \(x) / output \(out)") }
    let explicit = n.pads.count == 4
    let kind: PaddingKind = explicit ? .explicit : n.padding
    guard forwardSize(out[1], f.shape[1], n.strideH, kind, explicit ? n.pads[0] : 0, explicit ? n.pads[1] : 0) == x[1],
          forwardSize(out[2], f.shape[2], n.strideW, kind, explicit ? n.pads[2] : 0, explicit ? n.pads[3] : 0) == x[2] else {
      throw c.fail("output \(out)'s forward convolution does not give the input \(x)")
    }
    if n.inputs.count > 2 {
      guard let b = c.tensor(2).data, b.count == f.shape[0] else { throw c.fail("bias must be \(f.shape[0]) constants") }
    }
  }

  static func prepareFloat(_ n: FloatGraph.Node, _ graph: FloatGraph) -> (packed: [Float], bias: [Float]) {
    let f = graph.tensors[n.inputs[1]]
    return (f.data!, n.inputs.count > 2 ? graph.tensors[n.inputs[2]].data! : [Float](repeating: 0, count: f.shape[0]))
  }

  /// Output element (oy, ox, oc) sums x[iy, ix, :]·w[oc, ky, kx, :] over
  /// iy·s + ky = oy + padTop (columns alike), as the int8 kernel gathers.
  static func evaluateFloat(_ e: FloatEvaluation) {
    let f = e.graph.tensors[e.node.inputs[1]].shape
    let (kh, kw, cin) = (f[1], f[2], f[3])
    let (batches, ih, iw) = (e.xShape[0], e.xShape[1], e.xShape[2])
    let (oh, ow, cout) = (e.oShape[1], e.oShape[2], e.oShape[3])
    let (sh, sw) = (e.node.strideH, e.node.strideW)
    let (pt, pl) = leadingPads(e.node, kh: kh, kw: kw, oh: oh, ow: ow)
    var o = 0
    for b in 0..<batches { for oy in 0..<oh { for ox in 0..<ow { for oc in 0..<cout {
      var acc = e.bias[oc]
      for ky in 0..<kh {
        let ry = oy + pt - ky
        guard ry >= 0, ry % sh == 0, ry / sh < ih else { continue }
        for kx in 0..<kw {
          let rx = ox + pl - kx
          guard rx >= 0, rx % sw == 0, rx / sw < iw else { continue }
          let xb = ((b * ih + ry / sh) * iw + rx / sw) * cin, wb = ((oc * kh + ky) * kw + kx) * cin
          for i in 0..<cin { acc += e.x[xb + i] * e.packed[wb + i] }
        }
      }
      e.out[o] = FloatExecutor.activate(acc, e.node.activation)
      o += 1
    } } } }
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let p = n.pads
    let padding: Padding = p.count == 4 ? .explicit(top: p[0], left: p[2], bottom: p[1], right: p[3]) : n.builderPadding
    return try q.weightedOp(n, .transposeConv, padding: padding, outputShape: q.g.tensors[n.output].shape)
  }

  // MARK: Model builder

  /// The smallest output: SAME in × stride, VALID (in − 1) × stride + k.
  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    let (x, f) = try operands(c)
    let o = c.o
    let same = o.padding.kind == .same
    let (pt, pl, pb, pr) = explicitPads(o.padding)
    let oh = same ? x.shape[1] * o.strideH : (x.shape[1] - 1) * o.strideH + f.shape[1] - pt - pb
    let ow = same ? x.shape[2] * o.strideW : (x.shape[2] - 1) * o.strideW + f.shape[2] - pl - pr
    return [x.shape[0], oh, ow, f.shape[0]]
  }

  /// Any [N, OH, OW, Cout] whose forward convolution gives the input's H and W.
  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    let (x, f) = try operands(c)
    let out = c.tensor(output).shape
    let o = c.o
    let (pt, pl, pb, pr) = explicitPads(o.padding)
    guard out.count == 4, out[0] == expected[0], out[3] == expected[3],
          forwardSize(out[1], f.shape[1], o.strideH, o.padding.kind, pt, pb) == x.shape[1],
          forwardSize(out[2], f.shape[2], o.strideW, o.padding.kind, pl, pr) == x.shape[2] else {
      throw ModelBuilderError.shapeMismatch(
        "\(c.opName): output \(c.label(output)) is \(out); its forward convolution must give the input's \(x.shape[1])×\(x.shape[2]) (e.g. \(expected))")
    }
  }

  /// (top, left, bottom, right) of explicit padding, else zeros.
  static func explicitPads(_ p: Padding) -> (Int, Int, Int, Int) {
    if case .explicit(let t, let l, let b, let r) = p { return (t, l, b, r) }
    return (0, 0, 0, 0)
  }

  private static func operands(_ c: BuilderOpCheck) throws -> (ModelBuilder.Tensor, ModelBuilder.Tensor) {
    guard c.inputs.count == 2 || c.inputs.count == 3 else {
      throw ModelBuilderError.invalidOp("\(c.opName): expects input, filter and optional bias")
    }
    try c.checkSpatial(window: false)
    guard c.o.dilationH == 1, c.o.dilationW == 1 else { throw ModelBuilderError.invalidOp("\(c.opName): no dilation") }
    let x = try c.int8Activation(0, "input")
    let f = try c.required(1, "filter")
    try c.checkNHWC(x)
    guard f.isConstant, f.elementType == .int8, f.shape.count == 4, f.zeroPoint == 0, f.shape[3] == x.shape[3] else {
      throw ModelBuilderError.invalidOp(
        "\(c.opName): filter must be a constant int8 [Cout, KH, KW, \(x.shape[3])] tensor with zero point 0")
    }
    guard f.quantKind != .none else { throw ModelBuilderError.invalidQuantization("\(c.opName): filter has no scale") }
    if f.quantKind == .perChannel, f.quantAxis != 0 {
      throw ModelBuilderError.invalidQuantization("\(c.opName): per-channel filter scales must be on axis 0 (Cout)")
    }
    try c.checkBias(count: f.shape[0])
    return (x, f)
  }
}

extension ModelBuilder {
  /// Transposed convolution (TFLite TRANSPOSE_CONV): input [N,H,W,Cin],
  /// filter [Cout,KH,KW,Cin], optional int32 bias; the output is the
  /// smallest size unless `outputSize` (H, W) names another valid one.
  @discardableResult
  public mutating func transposeConv(_ input: TensorID, filter: TensorID, bias: TensorID?, stride: (Int, Int),
                                     padding: Padding, activation: FusedActivation = .none,
                                     outputSize: (Int, Int)? = nil, outputScale: Float, outputZeroPoint: Int32,
                                     name: String? = nil) throws -> TensorID {
    let o = OpOptions(strideH: stride.0, strideW: stride.1, padding: padding, activation: activation)
    var shape = try inferOutputShape(.transposeConv, inputs: [input, filter] + (bias.map { [$0] } ?? []), options: o)
    if let s = outputSize { shape[1] = s.0; shape[2] = s.1 }
    return try addWithNewOutput(.transposeConv, [input, filter] + (bias.map { [$0] } ?? []), o, scale: outputScale,
                                zeroPoint: outputZeroPoint, name: name, shape: shape)
  }
}
