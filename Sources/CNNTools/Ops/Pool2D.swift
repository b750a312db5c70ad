// MaxPool2D and AveragePool2D, tools side: TFLite MAX_POOL_2D /
// AVERAGE_POOL_2D (int8 and float), ONNX MaxPool / AveragePool (pads that
// are not SAME/VALID become a pad node first; ceil_mode = 1 of max pooling,
// of average pooling only where it does not change the size) and
// GlobalMaxPool, float evaluation, quantization (the
// output shares the input's), and the builder's rules for max / average /
// global-average pooling.

import CNNRuntime

extension FloatGraph.Kind {
  public static let maxPool2D = Self("maxPool2D")
  public static let averagePool2D = Self("averagePool2D")
}

enum Pool2DOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.maxPool2D, .averagePool2D]
  static let opCodes: [OpCode] = [.maxPool2D, .averagePool2D, .globalAveragePool]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.maxPool2D, TFLiteBuiltinOperator.averagePool2D]
  static let onnxOpTypes = ["MaxPool", "AveragePool", "GlobalMaxPool"]
  static let acceptsFusedActivation = true
  static let sharesInputQuantization = true

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 1...1)
    guard case .pool2D(let p) = op.options else { throw op.wrongOptions() }
    let o = OpOptions(strideH: p.strideH, strideW: p.strideW, filterH: p.filterHeight, filterW: p.filterWidth,
                      padding: try im.padding(p.padding), activation: try im.activation(p.activation, op.ctx))
    try im.checkStrides(o, op.ctx)
    guard p.filterWidth >= 1, p.filterHeight >= 1 else {
      throw TFLiteError.invalidModel("\(op.ctx): filter size \(p.filterHeight)x\(p.filterWidth) must be at least 1x1")
    }
    try im.addUnaryOp(op, op.code == TFLiteBuiltinOperator.maxPool2D ? .maxPool2D : .averagePool2D, o)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    guard case .pool2D(let p) = op.options else { throw FloatGraphError.invalidModel("\(op.ctx): missing options") }
    var node = try im.node(op, op.code == TFLiteBuiltinOperator.maxPool2D ? .maxPool2D : .averagePool2D, [try im.input(op, 0)])
    node.strideH = p.strideH; node.strideW = p.strideW; node.filterH = p.filterHeight; node.filterW = p.filterWidth
    node.padding = p.padding == .same ? .same : .valid; node.activation = try im.act(p.activation, op.ctx)
    return node
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    if n.opType == "GlobalMaxPool" {
      let x = try im.activation(n, 0)
      try im.require4D(n, x)
      let (N, C, H, W) = (x.onnxShape[0], x.onnxShape[1], x.onnxShape[2], x.onnxShape[3])
      var nd = n.node(.maxPool2D, [x.tensor], try im.output(n, [N, C, 1, 1], .nhwc))
      nd.filterH = H; nd.filterW = W
      im.emit(nd)
      return
    }
    let x = try im.activation(n, 0)
    try im.require4D(n, x)
    guard let ks = try n.a.ints("kernel_shape"), ks.count == 2, ks[0] >= 1, ks[1] >= 1 else {
      throw n.unsupported("kernel_shape must be 2-D")
    }
    if let d = try n.a.ints("dilations"), d.contains(where: { $0 != 1 }) { throw n.unsupported("dilated pooling") }
    if n.proto.output.count > 1, im.readers[n.proto.output[1]] != nil { throw n.unsupported("MaxPool indices output") }
    let (N, C, H, W) = (x.onnxShape[0], x.onnxShape[1], x.onnxShape[2], x.onnxShape[3])
    var geo = try im.spatial(n.a, n.ctx, h: H, w: W, kh: ks[0], kw: ks[1], allowDilation: false, extraPads: [0, 0, 0, 0])
    let isMax = n.opType == "MaxPool"
    if try n.a.int("ceil_mode", 0) != 0 {
      // Same result as floor mode when the division is exact. Otherwise (max
      // pooling) the output gains a row/column whose window hangs over the
      // end: extra bottom/right padding with the max-pool fill gives it, the
      // window seeing only what lies inside. As ONNX Runtime and PyTorch, a
      // window that would start in the trailing padding is dropped.
      let eh = H + geo.explicit[0] + geo.explicit[1] - ks[0], ew = W + geo.explicit[2] + geo.explicit[3] - ks[1]
      if eh % geo.sh != 0 || ew % geo.sw != 0 {
        guard isMax else { throw n.unsupported("ceil_mode = 1 of an average pool whose windows do not tile the input") }
        func ceilExtra(_ size: Int, _ before: Int, _ span: Int, _ k: Int, _ s: Int) -> Int {
          var out = (span + s - 1) / s + 1
          if (out - 1) * s >= size + before { out -= 1 }
          return max(0, (out - 1) * s + k - (span + k))
        }
        geo.explicit[1] += ceilExtra(H, geo.explicit[0], eh, ks[0], geo.sh)
        geo.explicit[3] += ceilExtra(W, geo.explicit[2], ew, ks[1], geo.sw)
        geo.outH = (H + geo.explicit[0] + geo.explicit[1] - ks[0]) / geo.sh + 1
        geo.outW = (W + geo.explicit[2] + geo.explicit[3] - ks[1]) / geo.sw + 1
        geo.needsPadNode = true
        geo.padding = .valid
      }
    }
    let includePad = try n.a.int("count_include_pad", 0) != 0
    if !isMax, geo.needsPadNode, !includePad {
      throw n.unsupported("average pooling with pads \(geo.explicit) that are not TFLite SAME padding (count_include_pad = 0)")
    }
    if !isMax, includePad, geo.padding == .same, geo.explicit != [0, 0, 0, 0] {
      // TFLite SAME averaging excludes the padding; count_include_pad needs explicit zeros.
      geo.needsPadNode = true; geo.padding = .valid
    }
    let src = try im.padIfNeeded(x, geo, value: isMax ? -Float.greatestFiniteMagnitude : 0, ctx: n.ctx)
    guard geo.outH >= 1, geo.outW >= 1 else { throw n.invalid("empty output") }
    let out = try im.output(n, [N, C, geo.outH, geo.outW], .nhwc)
    var nd = n.node(isMax ? .maxPool2D : .averagePool2D, [src.tensor], out)
    nd.filterH = ks[0]; nd.filterW = ks[1]; nd.strideH = geo.sh; nd.strideW = geo.sw; nd.padding = geo.padding
    im.emit(nd)
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    try c.spatial(kh: c.node.filterH, kw: c.node.filterW)
    guard c.x[3] == c.out[3] else { throw c.fail("pooling changes the channel count") }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    pool(e.x, e.xShape, e.out, e.oShape, e.node)
  }

  @_optimize(speed)
  static func pool(_ x: UnsafeBufferPointer<Float>, _ xs: [Int], _ out: UnsafeMutableBufferPointer<Float>, _ os: [Int],
                   _ n: FloatGraph.Node) {
    let (batches, ih, iw, c) = (xs[0], xs[1], xs[2], xs[3])
    let (oh, ow) = (os[1], os[2])
    let padT = FloatGraph.padding(n.padding, input: ih, filter: n.filterH, stride: n.strideH, dilation: 1).0
    let padL = FloatGraph.padding(n.padding, input: iw, filter: n.filterW, stride: n.strideW, dilation: 1).0
    let isMax = n.kind == .maxPool2D
    for bi in 0..<batches {
      for oy in 0..<oh {
        for ox in 0..<ow {
          let y0 = max(oy * n.strideH - padT, 0), y1 = min(oy * n.strideH - padT + n.filterH, ih)
          let x0 = max(ox * n.strideW - padL, 0), x1 = min(ox * n.strideW - padL + n.filterW, iw)
          let o = ((bi * oh + oy) * ow + ox) * c
          for ch in 0..<c { out[o + ch] = isMax ? -Float.infinity : 0 }
          for iy in y0..<max(y0, y1) {
            for ix in x0..<max(x0, x1) {
              let p = ((bi * ih + iy) * iw + ix) * c
              if isMax {
                for ch in 0..<c { out[o + ch] = max(out[o + ch], x[p + ch]) }
              } else {
                for ch in 0..<c { out[o + ch] += x[p + ch] }
              }
            }
          }
          let count = Float(max((y1 - y0) * (x1 - x0), 1))
          for ch in 0..<c { out[o + ch] = FloatExecutor.activate(isMax ? out[o + ch] : out[o + ch] / count, n.activation) }
        }
      }
    }
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, xq) = q.input(n)
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      n.kind == .maxPool2D
        ? try q.b.maxPool2D(x, filter: (n.filterH, n.filterW), stride: (n.strideH, n.strideW), padding: n.builderPadding,
                            activation: n.fusedActivation, name: name)
        : try q.b.averagePool2D(x, filter: (n.filterH, n.filterW), stride: (n.strideH, n.strideW), padding: n.builderPadding,
                                activation: n.fusedActivation, name: name)
    }
    return (out, xq)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.expectInputs(1)
    if c.code == .globalAveragePool {
      try c.checkPlain()
      let x = try c.int8Activation(0, "input")
      try c.checkNHWC(x)
      return [x.shape[0], 1, 1, x.shape[3]]
    }
    try c.checkSpatial(window: true)
    let x = try c.int8Activation(0, "input")
    try c.checkNHWC(x)
    let (oh, ow) = try c.spatialOutput(x.shape, kh: c.o.filterH, kw: c.o.filterW, dilationH: 1, dilationW: 1)
    return [x.shape[0], oh, ow, x.shape[3]]
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
    try c.sameQuant(output)
  }
}

extension ModelBuilder {
  /// Output shares the input's quantization. `stride` defaults to the window size.
  @discardableResult
  public mutating func maxPool2D(_ input: TensorID, filter: (Int, Int), stride: (Int, Int)? = nil,
                                 padding: Padding = .valid, activation: FusedActivation = .none,
                                 name: String? = nil) throws -> TensorID {
    try pool(.maxPool2D, input, filter: filter, stride: stride, padding: padding, activation: activation, name: name)
  }

  /// Output shares the input's quantization. `stride` defaults to the window size.
  @discardableResult
  public mutating func averagePool2D(_ input: TensorID, filter: (Int, Int), stride: (Int, Int)? = nil,
                                     padding: Padding = .valid, activation: FusedActivation = .none,
                                     name: String? = nil) throws -> TensorID {
    try pool(.averagePool2D, input, filter: filter, stride: stride, padding: padding, activation: activation, name: name)
  }

  /// [N,H,W,C] → [N,1,1,C]; output shares the input's quantization.
  @discardableResult
  public mutating func globalAveragePool(_ input: TensorID, activation: FusedActivation = .none,
                                         name: String? = nil) throws -> TensorID {
    let x = try tensor(input)
    return try addWithNewOutput(.globalAveragePool, [input], OpOptions(activation: activation),
                                scale: x.scales.first ?? 0, zeroPoint: x.zeroPoint, name: name)
  }

  private mutating func pool(_ code: OpCode, _ input: TensorID, filter: (Int, Int), stride: (Int, Int)?,
                             padding: Padding, activation: FusedActivation, name: String?) throws -> TensorID {
    let s = stride ?? filter
    let x = try tensor(input)
    let o = OpOptions(strideH: s.0, strideW: s.1, filterH: filter.0, filterW: filter.1, padding: padding,
                      activation: activation)
    return try addWithNewOutput(code, [input], o, scale: x.scales.first ?? 0, zeroPoint: x.zeroPoint, name: name)
  }
}
