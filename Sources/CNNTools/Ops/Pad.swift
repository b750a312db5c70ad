// Pad, tools side: TFLite PAD / PADV2 of H, W and C (int8: the constant
// must be in the input's quantization; float), ONNX Pad (constant mode; a
// zero Pad read only by Convs folds into their padding instead), float
// evaluation, quantization (the output shares the input's, whose range the
// quantizer widens to hold the constant; PADV2's value quantized with it)
// and the builder's rules and record fields (channel pads in
// filterH/filterW, the constant in `extra`).

import CNNRuntime

extension FloatGraph.Kind {
  /// Constant pad of H, W and C (`Node.pads`: top, bottom, left, right, channel before, channel after).
  public static let pad = Self("pad")
}

enum PadOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.pad]
  static let opCodes: [OpCode] = [.pad]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.pad, TFLiteBuiltinOperator.padV2]
  static let onnxOpTypes = ["Pad"]
  static let acceptsPadValue = true
  static let sharesInputQuantization = true

  // MARK: TFLite

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: op.code == TFLiteBuiltinOperator.pad ? 2...2 : 2...3)
    let x = try im.activationInput(try op.input(0), op.ctx)
    let xshape = im.builder.tensors[x.index].shape
    let pads = try im.intConstant(try op.input(1), "paddings", op.ctx)
    guard xshape.count == 4, pads.count == 8 else {
      throw TFLiteError.unsupported(
        "\(op.ctx): only 4-D padding of H, W and C is supported (input \(xshape), \(pads.count / 2) padding pairs)")
    }
    guard pads[0] == 0, pads[1] == 0 else {
      throw TFLiteError.unsupported("\(op.ctx): padding of the batch dimension (paddings \(pads)) is not supported")
    }
    guard pads.allSatisfy({ $0 >= 0 }) else { throw TFLiteError.invalidModel("\(op.ctx): negative paddings \(pads)") }
    var value: Int8? = nil
    if let v = op.optionalInput(2) {
      let t = im.graph.tensors[v]
      guard t.type == .int8, let d = try im.model.constantData(of: t), d.count == 1 else {
        throw TFLiteError.unsupported("\(op.ctx): constant_values \(im.describe(v)) must be a constant int8 scalar")
      }
      // TFLite requires the constant in the input's quantization (the value is stored as is).
      let q = im.builder.tensors[x.index]
      if let cq = t.quantization, !cq.scale.isEmpty,
         cq.scale[0] != q.scales[0] || (cq.zeroPoint.first ?? 0) != Int64(q.zeroPoint) {
        throw TFLiteError.unsupported("\(op.ctx): constant_values \(im.describe(v)) has quantization (\(cq.scale[0]), "
                                        + "\(cq.zeroPoint.first ?? 0)), the input has (\(q.scales[0]), \(q.zeroPoint))")
      }
      value = Int8(bitPattern: d[d.startIndex])
    }
    let out = try im.outputActivation(op.op, op.ctx)
    let o = OpOptions(padding: .explicit(top: pads[2], left: pads[4], bottom: pads[3], right: pads[5]), padValue: value,
                      padChannelsBefore: pads[6], padChannelsAfter: pads[7])
    try im.addOp(op, .pad, [x], out, o)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    let x = try im.input(op, 0)
    let p = try im.intValues(op.op.inputs[1], op.ctx)
    guard im.tensors[x].shape.count == 4, p.count == 8, p[0] == 0, p[1] == 0 else {
      throw FloatGraphError.unsupported("\(op.ctx): only 4-D padding of H, W and C (paddings \(p))")
    }
    var node = try im.node(op, .pad, [x])
    node.pads = [p[2], p[3], p[4], p[5], p[6], p[7]]
    if op.code == TFLiteBuiltinOperator.padV2, op.op.inputs.count > 2, op.op.inputs[2] >= 0 {
      guard let v = try im.floatValues(op.op.inputs[2], op.ctx), v.count == 1 else {
        throw FloatGraphError.unsupported("\(op.ctx): constant_values must be a float scalar constant")
      }
      node.padValue = v[0]
    }
    return node
  }

  // MARK: ONNX

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    try im.require4D(n, x)
    let mode = n.a.string("mode", "constant")
    guard mode == "constant" else { throw n.unsupported("pad mode '\(mode)' (only constant)") }
    var pads: [Int]
    var value: Float = 0
    if im.opset >= 11 {
      pads = try im.constant(n, 1).integers(n.ctx)
      if let v = try im.optionalConstant(n, 2) { guard v.count == 1 else { throw n.invalid("constant_value is not a scalar") }; value = v.floats[0] }
      if im.optionalName(n, 3) != nil { throw n.unsupported("Pad with axes") }
    } else {
      guard let p = try n.a.ints("pads") else { throw n.invalid("no pads") }
      pads = p
      value = try n.a.float("value", 0)
    }
    guard pads.count == 8, pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 16 }) else {
      throw n.unsupported("pads \(pads) (4-D, non-negative only)")
    }
    guard pads[0] == 0, pads[4] == 0 else { throw n.unsupported("padding of the batch dimension") }
    // ONNX order: [N, C, H, W] begins, then ends.
    let (cb, hb, wb, ce, he, we) = (pads[1], pads[2], pads[3], pads[5], pads[6], pads[7])
    let s = x.onnxShape
    let consumersAreConv = im.graph.node.filter { $0.input.contains(n.outName) }.allSatisfy { $0.opType == "Conv" }
    if value == 0, cb == 0, ce == 0, im.soleReader(n.outName), consumersAreConv {
      im.pendingPads[n.outName] = (x, [hb, he, wb, we])
      return
    }
    let out = try im.output(n, [s[0], s[1] + cb + ce, s[2] + hb + he, s[3] + wb + we], .nhwc)
    var nd = n.node(.pad, [x.tensor], out)
    nd.pads = [hb, he, wb, we, cb, ce]
    nd.padValue = value
    im.emit(nd)
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    let x = c.x, out = c.out, p = c.node.pads
    guard x.count == 4, out.count == 4, p.count == 6, p.allSatisfy({ $0 >= 0 }) else { throw c.fail("pad \(p) of \(x) to \(out)") }
    let h: Int = x[1] + p[0] + p[1]
    let w: Int = x[2] + p[2] + p[3]
    let ch: Int = x[3] + p[4] + p[5]
    guard out == [x[0], h, w, ch] else {
      throw c.fail("pad \(p) of \(x) to \(out)")
    }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    pad(e.x, e.xShape, e.out, e.oShape, e.node)
  }

  static func pad(_ x: UnsafeBufferPointer<Float>, _ xs: [Int], _ out: UnsafeMutableBufferPointer<Float>, _ os: [Int],
                  _ n: FloatGraph.Node) {
    let p = n.pads
    for k in 0..<out.count { out[k] = n.padValue }
    for bi in 0..<xs[0] {
      for y in 0..<xs[1] {
        for xx in 0..<xs[2] {
          let src = ((bi * xs[1] + y) * xs[2] + xx) * xs[3]
          let dst = ((bi * os[1] + y + p[0]) * os[2] + xx + p[2]) * os[3] + p[4]
          for ch in 0..<xs[3] { out[dst + ch] = x[src + ch] }
        }
      }
    }
  }

  // MARK: Quantization

  /// The constant, unless it is 0 (every range holds it) or the −FLT_MAX the
  /// ONNX importer pads a max pool's input with, which stands for −∞ and
  /// becomes −128.
  static func constantsInInputQuantization(_ n: FloatGraph.Node) -> [Float] {
    n.padValue != 0 && n.padValue.magnitude < Float.greatestFiniteMagnitude / 2 ? [n.padValue] : []
  }

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, xq) = q.input(n)
    let p = n.pads
    let v: Int8? = n.padValue == 0 ? nil : xq.quantize(n.padValue)
    let name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      try q.b.pad(x, top: p[0], left: p[2], bottom: p[1], right: p[3], channelsBefore: p[4], channelsAfter: p[5],
                  value: v, name: name)
    }
    return (out, xq)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    let o = c.o, opName = c.opName
    try c.expectInputs(1)
    try c.noActivation()
    guard o.strideH == 1, o.strideW == 1, o.dilationH == 1, o.dilationW == 1, o.filterH == 0, o.filterW == 0 else {
      throw ModelBuilderError.invalidOp("\(opName): stride/dilation/filter options do not apply to pad")
    }
    guard case .explicit(let t, let l, let b, let r) = o.padding else {
      throw ModelBuilderError.invalidOp("\(opName): pad needs explicit pads (top, left, bottom, right)")
    }
    let cb = o.padChannelsBefore, ca = o.padChannelsAfter
    let maxDimension = ModelBuilder.maxDimension
    guard [t, l, b, r, cb, ca].allSatisfy({ $0 >= 0 && $0 <= maxDimension }) else {
      throw ModelBuilderError.invalidOp("\(opName): pads (\(t), \(l), \(b), \(r), channels \(cb), \(ca)) must be in 0...\(maxDimension)")
    }
    let x = try c.int8Activation(0, "input")
    try c.checkNHWC(x, " (H, W and C can be padded)")
    return [x.shape[0], x.shape[1] + t + b, x.shape[2] + l + r, x.shape[3] + cb + ca]
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
    try c.sameQuant(output)
  }

  /// Channel pads in the record's filter H / W; the PADV2 constant in `extra`.
  static func encode(_ o: OpOptions, _ code: OpCode, into r: inout OpRecord) {
    r.filterH = Int32(o.padChannelsBefore); r.filterW = Int32(o.padChannelsAfter)
    r.extra = o.padValue.map { OpRecord.padConstantFlag | UInt32(UInt8(bitPattern: $0)) } ?? 0
  }
}

extension ModelBuilder {
  /// TFLite PAD of H and W: [N,H,W,C] → [N, H+top+bottom, W+left+right, C] with
  /// the input's quantization, filled with the zero point (real 0), or with
  /// `value` (TFLite PADV2's constant, already in the input's quantization).
  @discardableResult
  public mutating func pad(_ input: TensorID, top: Int, left: Int, bottom: Int, right: Int,
                           channelsBefore: Int = 0, channelsAfter: Int = 0, value: Int8? = nil,
                           name: String? = nil) throws -> TensorID {
    let x = try tensor(input)
    let o = OpOptions(padding: .explicit(top: top, left: left, bottom: bottom, right: right), padValue: value,
                      padChannelsBefore: channelsBefore, padChannelsAfter: channelsAfter)
    return try addWithNewOutput(.pad, [input], o, scale: x.scales.first ?? 0, zeroPoint: x.zeroPoint, name: name)
  }
}
