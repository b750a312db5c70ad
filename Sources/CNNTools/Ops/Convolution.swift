// Conv2D and DepthwiseConv2D, tools side: TFLite CONV_2D / DEPTHWISE_CONV_2D
// (int8 and float), ONNX Conv (a depthwise conv when group = C and one input
// channel per group, else a grouped conv), float evaluation, quantization
// (per-channel weights: conv axis 0, depthwise axis 3) and the builder's
// shape rules. One unit: the two share their options, geometry and mappings.

import CNNRuntime

extension FloatGraph.Kind {
  /// inputs: x [N,H,W,Cin], filter [Cout,KH,KW,Cin/groups], bias [Cout]?
  public static let conv2D = Self("conv2D")
  /// inputs: x [N,H,W,C], filter [1,KH,KW,C·m], bias [C·m]?
  public static let depthwiseConv2D = Self("depthwiseConv2D")
}

enum ConvolutionOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.conv2D, .depthwiseConv2D]
  static let opCodes: [OpCode] = [.conv2D, .depthwiseConv2D]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.conv2D, TFLiteBuiltinOperator.depthwiseConv2D]
  static let onnxOpTypes = ["Conv"]
  static let acceptsFusedActivation = true
  static let calibratesOutput = true

  static func weightChannelAxis(_ kind: FloatGraph.Kind) -> Int? { kind == .depthwiseConv2D ? 3 : 0 }

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 2...3)
    let isConv = op.code == TFLiteBuiltinOperator.conv2D
    var o = OpOptions()
    switch op.options {
    case .conv2D(let c) where isConv:
      o = OpOptions(strideH: c.strideH, strideW: c.strideW, dilationH: c.dilationH, dilationW: c.dilationW,
                    padding: try im.padding(c.padding), activation: try im.activation(c.activation, op.ctx))
    case .depthwiseConv2D(let c) where !isConv:
      o = OpOptions(strideH: c.strideH, strideW: c.strideW, dilationH: c.dilationH, dilationW: c.dilationW,
                    padding: try im.padding(c.padding), activation: try im.activation(c.activation, op.ctx))
    default:
      throw op.wrongOptions()
    }
    try im.checkStrides(o, op.ctx)
    let x = try im.activationInput(try op.input(0), op.ctx)
    let filterIndex = try op.input(1)
    let fshape = im.graph.tensors[filterIndex].shape
    guard fshape.count == 4 else {
      throw TFLiteError.invalidModel("\(op.ctx): filter \(im.describe(filterIndex)) has shape \(fshape), expected rank 4")
    }
    let cout = isConv ? fshape[0] : fshape[3]
    let f = try im.weights(filterIndex, channelAxis: isConv ? 0 : 3, op.ctx)
    let b = try op.optionalInput(2).map { try im.bias($0, count: cout, op.ctx) }
    let out = try im.outputActivation(op.op, op.ctx)
    try im.addOp(op, isConv ? .conv2D : .depthwiseConv2D, [x, f] + (b.map { [$0] } ?? []), out, o)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    let kind: FloatGraph.Kind = op.code == TFLiteBuiltinOperator.conv2D ? .conv2D : .depthwiseConv2D
    let ins = [try im.input(op, 0), try im.input(op, 1)] + (try im.optionalInput(op, 2).map { [$0] } ?? [])
    guard im.tensors[ins[1]].isConstant else { throw FloatGraphError.unsupported("\(op.ctx): non-constant filter") }
    var node = try im.node(op, kind, ins)
    switch op.options {
    case .conv2D(let c) where kind == .conv2D:
      node.strideH = c.strideH; node.strideW = c.strideW; node.dilationH = c.dilationH; node.dilationW = c.dilationW
      node.padding = c.padding == .same ? .same : .valid; node.activation = try im.act(c.activation, op.ctx)
    case .depthwiseConv2D(let c) where kind == .depthwiseConv2D:
      node.strideH = c.strideH; node.strideW = c.strideW; node.dilationH = c.dilationH; node.dilationW = c.dilationW
      node.padding = c.padding == .same ? .same : .valid; node.activation = try im.act(c.activation, op.ctx)
    default: throw FloatGraphError.invalidModel("\(op.ctx): missing or wrong builtin options")
    }
    return node
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    var pre: [Int] = [0, 0, 0, 0]  // folded Pad: top, bottom, left, right
    var x: ONNXImporter.Value
    let xn = try im.inputName(n, 0)
    if let p = im.pendingPads[xn] { x = p.value; pre = p.pads } else { x = try im.activation(n, 0) }
    try im.require4D(n, x)
    let w = try im.constant(n, 1)
    guard w.dims.count == 4 else { throw n.unsupported("only 2-D convolutions (weights \(w.dims))") }
    let (N, C, H, W) = (x.onnxShape[0], x.onnxShape[1], x.onnxShape[2], x.onnxShape[3])
    let (O, Ig, KH, KW) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3])
    let group = try n.a.int("group", 1)
    guard group >= 1, C % group == 0, O % group == 0, C / group == Ig, O >= 1, KH >= 1, KW >= 1 else {
      throw n.invalid("weights \(w.dims) and group \(group) do not match input channels \(C)")
    }
    if let ks = try n.a.ints("kernel_shape"), ks != [KH, KW] { throw n.invalid("kernel_shape \(ks) != weights \(w.dims)") }
    let geo = try im.spatial(n.a, n.ctx, h: H, w: W, kh: KH, kw: KW, allowDilation: true, extraPads: pre)
    let oh = geo.outH, ow = geo.outW
    guard oh >= 1, ow >= 1 else { throw n.invalid("empty output") }
    let src = try im.padIfNeeded(x, geo, value: 0, ctx: n.ctx)
    let bias = try im.optionalConstant(n, 2)
    if let bias { guard bias.count == O else { throw n.invalid("bias has \(bias.count) values for \(O) channels") } }
    let out = try im.output(n, [N, O, oh, ow], .nhwc)
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
    let wt = im.addTensor(try im.inputName(n, 1), fshape, data: filter, fixed: fixed)
    var ins = [src.tensor, wt]
    if let bias { ins.append(im.addTensor(try im.inputName(n, 2), [O], data: bias.floats, fixed: im.biasFixed(bias))) }
    var nd = n.node(kind, ins, out)
    nd.strideH = geo.sh; nd.strideW = geo.sw; nd.dilationH = geo.dh; nd.dilationW = geo.dw
    nd.padding = geo.padding
    im.emit(nd)
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    let n = c.node, x = c.x, out = c.out
    guard n.inputs.count >= 2 else { throw c.fail("needs input and filter") }
    let f = c.tensor(1)
    guard f.isConstant, f.shape.count == 4 else { throw c.fail("filter must be a constant 4-D tensor") }
    try c.spatial(kh: f.shape[1], kw: f.shape[2])
    let cout = n.kind == .conv2D ? f.shape[0] : f.shape[3]
    guard out[3] == cout else { throw c.fail("output channels \(out[3]) != filter's \(cout)") }
    if n.kind == .conv2D {
      guard f.shape[3] > 0, x[3] % f.shape[3] == 0, cout % (x[3] / f.shape[3]) == 0 else {
        throw c.fail("input channels \(x[3]) not a multiple of the filter's \(f.shape[3]) (groups)")
      }
    } else {
      guard f.shape[0] == 1, cout % x[3] == 0 else { throw c.fail("depthwise filter \(f.shape) vs input \(x)") }
    }
    if n.inputs.count > 2 {
      guard let b = c.tensor(2).data, b.count == cout else { throw c.fail("bias must be \(cout) constants") }
    }
  }

  /// Conv filters packed as [group][KH][KW][Cin/g][Cout/g] (the inner loop is
  /// an axpy over output channels); depthwise filters are used as stored.
  static func prepareFloat(_ n: FloatGraph.Node, _ graph: FloatGraph) -> (packed: [Float], bias: [Float]) {
    let f = graph.tensors[n.inputs[1]]
    var p: [Float] = []
    var b: [Float] = []
    if n.kind == .depthwiseConv2D {
      p = f.data!
      b = n.inputs.count > 2 ? graph.tensors[n.inputs[2]].data! : [Float](repeating: 0, count: f.shape[3])
      return (p, b)
    }
    let (cout, kh, kw, cinG) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
    let groups = graph.tensors[n.inputs[0]].shape[3] / cinG
    let coutG = cout / groups
    let w = f.data!
    p = [Float](repeating: 0, count: w.count)
    for g in 0..<groups {
      for o in 0..<coutG {
        for y in 0..<kh {
          for x in 0..<kw {
            for i in 0..<cinG {
              let src = (((g * coutG + o) * kh + y) * kw + x) * cinG + i
              let dst = ((((g * kh + y) * kw + x) * cinG + i) * coutG) + o
              p[dst] = w[src]
            }
          }
        }
      }
    }
    b = n.inputs.count > 2 ? graph.tensors[n.inputs[2]].data! : [Float](repeating: 0, count: cout)
    return (p, b)
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let f = e.graph.tensors[e.node.inputs[1]].shape
    if e.node.kind == .conv2D {
      conv(e.x, e.xShape, e.packed, e.bias, kh: f[1], kw: f[2], cinG: f[3], e.out, e.oShape, e.node)
    } else {
      depthwise(e.x, e.xShape, e.packed, e.bias, kh: f[1], kw: f[2], e.out, e.oShape, e.node)
    }
  }

  @_optimize(speed)
  static func conv(_ x: UnsafeBufferPointer<Float>, _ xs: [Int], _ w: UnsafeBufferPointer<Float>,
                   _ b: UnsafeBufferPointer<Float>, kh: Int, kw: Int, cinG: Int,
                   _ out: UnsafeMutableBufferPointer<Float>, _ os: [Int], _ n: FloatGraph.Node) {
    let (batches, ih, iw, cin) = (xs[0], xs[1], xs[2], xs[3])
    let (oh, ow, cout) = (os[1], os[2], os[3])
    let groups = cin / cinG
    let coutG = cout / groups
    let padT = FloatGraph.padding(n.padding, input: ih, filter: kh, stride: n.strideH, dilation: n.dilationH).0
    let padL = FloatGraph.padding(n.padding, input: iw, filter: kw, stride: n.strideW, dilation: n.dilationW).0
    let xp = x.baseAddress!, wp = w.baseAddress!, bp = b.baseAddress!, op = out.baseAddress!
    for bi in 0..<batches {
      for oy in 0..<oh {
        for ox in 0..<ow {
          let acc = op + ((bi * oh + oy) * ow + ox) * cout
          for c in 0..<cout { acc[c] = bp[c] }
          for g in 0..<groups {
            let accG = acc + g * coutG
            for ky in 0..<kh {
              let iy = oy * n.strideH - padT + ky * n.dilationH
              if iy < 0 || iy >= ih { continue }
              for kx in 0..<kw {
                let ix = ox * n.strideW - padL + kx * n.dilationW
                if ix < 0 || ix >= iw { continue }
                let xrow = xp + ((bi * ih + iy) * iw + ix) * cin + g * cinG
                var wrow = wp + (((g * kh + ky) * kw + kx) * cinG) * coutG
                for ic in 0..<cinG {
                  let v = xrow[ic]
                  for o in 0..<coutG { accG[o] += v * wrow[o] }
                  wrow += coutG
                }
              }
            }
          }
          if n.activation != .none {
            for c in 0..<cout { acc[c] = FloatExecutor.activate(acc[c], n.activation) }
          }
        }
      }
    }
  }

  @_optimize(speed)
  static func depthwise(_ x: UnsafeBufferPointer<Float>, _ xs: [Int], _ w: UnsafeBufferPointer<Float>,
                        _ b: UnsafeBufferPointer<Float>, kh: Int, kw: Int,
                        _ out: UnsafeMutableBufferPointer<Float>, _ os: [Int], _ n: FloatGraph.Node) {
    let (batches, ih, iw, cin) = (xs[0], xs[1], xs[2], xs[3])
    let (oh, ow, cout) = (os[1], os[2], os[3])
    let m = cout / cin
    let padT = FloatGraph.padding(n.padding, input: ih, filter: kh, stride: n.strideH, dilation: n.dilationH).0
    let padL = FloatGraph.padding(n.padding, input: iw, filter: kw, stride: n.strideW, dilation: n.dilationW).0
    let xp = x.baseAddress!, wp = w.baseAddress!, bp = b.baseAddress!, op = out.baseAddress!
    for bi in 0..<batches {
      for oy in 0..<oh {
        for ox in 0..<ow {
          let acc = op + ((bi * oh + oy) * ow + ox) * cout
          for c in 0..<cout { acc[c] = bp[c] }
          for ky in 0..<kh {
            let iy = oy * n.strideH - padT + ky * n.dilationH
            if iy < 0 || iy >= ih { continue }
            for kx in 0..<kw {
              let ix = ox * n.strideW - padL + kx * n.dilationW
              if ix < 0 || ix >= iw { continue }
              let xrow = xp + ((bi * ih + iy) * iw + ix) * cin
              let wrow = wp + (ky * kw + kx) * cout
              if m == 1 {
                for c in 0..<cout { acc[c] += xrow[c] * wrow[c] }
              } else {
                for c in 0..<cout { acc[c] += xrow[c / m] * wrow[c] }
              }
            }
          }
          if n.activation != .none {
            for c in 0..<cout { acc[c] = FloatExecutor.activate(acc[c], n.activation) }
          }
        }
      }
    }
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    try q.weightedOp(n, n.kind == .conv2D ? .conv2D : .depthwiseConv2D, padding: n.builderPadding)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    let opName = c.opName, code = c.code, o = c.o
    guard c.inputs.count == 2 || c.inputs.count == 3 else {
      throw ModelBuilderError.invalidOp("\(opName): expects input, filter and optional bias")
    }
    try c.checkSpatial(window: false)
    let x = try c.int8Activation(0, "input")
    let f = try c.required(1, "filter")
    try c.checkNHWC(x)
    guard f.isConstant, f.elementType == .int8, f.shape.count == 4, f.zeroPoint == 0 else {
      throw ModelBuilderError.invalidOp("\(opName): filter must be a constant int8 rank-4 tensor with zero point 0")
    }
    let cin = x.shape[3]
    let cout = code == .conv2D ? f.shape[0] : f.shape[3]
    if code == .conv2D {
      guard cin % f.shape[3] == 0, cout % (cin / f.shape[3]) == 0 else {
        throw ModelBuilderError.shapeMismatch(
          "\(opName): filter \(f.shape) does not fit \(cin) input channels (groups = Cin / filter depth must divide Cout)")
      }
      if f.quantKind == .perChannel, f.quantAxis != 0 {
        throw ModelBuilderError.invalidQuantization("\(opName): per-channel filter scales must be on axis 0 (Cout)")
      }
    } else {
      guard f.shape[0] == 1, cout % cin == 0 else {
        throw ModelBuilderError.shapeMismatch(
          "\(opName): depthwise filter \(f.shape) must be [1, KH, KW, Cin × multiplier] for \(cin) input channels")
      }
      if f.quantKind == .perChannel, f.quantAxis != 3 {
        throw ModelBuilderError.invalidQuantization("\(opName): per-channel depthwise scales must be on axis 3")
      }
    }
    guard f.quantKind != .none else { throw ModelBuilderError.invalidQuantization("\(opName): filter has no scale") }
    try c.checkBias(count: cout)
    let (oh, ow) = try c.spatialOutput(x.shape, kh: f.shape[1], kw: f.shape[2], dilationH: o.dilationH, dilationW: o.dilationW)
    return [x.shape[0], oh, ow, cout]
  }
}

extension ModelBuilder {
  @discardableResult
  public mutating func conv2D(_ input: TensorID, filter: TensorID, bias: TensorID?, stride: (Int, Int) = (1, 1),
                              dilation: (Int, Int) = (1, 1), padding: Padding = .valid,
                              activation: FusedActivation = .none, outputScale: Float, outputZeroPoint: Int32,
                              name: String? = nil) throws -> TensorID {
    let o = OpOptions(strideH: stride.0, strideW: stride.1, dilationH: dilation.0, dilationW: dilation.1,
                      padding: padding, activation: activation)
    return try addWithNewOutput(.conv2D, [input, filter, bias], o, scale: outputScale, zeroPoint: outputZeroPoint, name: name)
  }

  @discardableResult
  public mutating func depthwiseConv2D(_ input: TensorID, filter: TensorID, bias: TensorID?, stride: (Int, Int) = (1, 1),
                                       dilation: (Int, Int) = (1, 1), padding: Padding = .valid,
                                       activation: FusedActivation = .none, outputScale: Float, outputZeroPoint: Int32,
                                       name: String? = nil) throws -> TensorID {
    let o = OpOptions(strideH: stride.0, strideW: stride.1, dilationH: dilation.0, dilationW: dilation.1,
                      padding: padding, activation: activation)
    return try addWithNewOutput(.depthwiseConv2D, [input, filter, bias], o, scale: outputScale,
                                zeroPoint: outputZeroPoint, name: name)
  }
}
