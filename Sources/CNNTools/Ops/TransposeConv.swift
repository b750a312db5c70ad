// TransposeConv, tools side: int8 TFLite TRANSPOSE_CONV (Keras
// Conv2DTranspose: inputs output_shape, weights, input, optional bias) and
// the builder's rules. The output size is the one the TFLite op names; it
// must be a size whose forward convolution gives the input size.

import CNNRuntime

enum TransposeConvOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = []
  static let opCodes: [OpCode] = [.transposeConv]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.transposeConv]

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

  // No float graph kind yet (float TFLite and ONNX ConvTranspose are not
  // imported): never called.
  static func checkShapes(_ c: FloatNodeCheck) throws { throw c.fail("transpose conv has no float form") }
  static func evaluateFloat(_ e: FloatEvaluation) {}

  // MARK: Model builder

  /// The smallest output: SAME in × stride, VALID (in − 1) × stride + k.
  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    let (x, f) = try operands(c)
    let o = c.o
    let same = o.padding.kind == .same
    let oh = same ? x.shape[1] * o.strideH : (x.shape[1] - 1) * o.strideH + f.shape[1]
    let ow = same ? x.shape[2] * o.strideW : (x.shape[2] - 1) * o.strideW + f.shape[2]
    return [x.shape[0], oh, ow, f.shape[0]]
  }

  /// Any [N, OH, OW, Cout] whose forward convolution gives the input's H and W.
  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    let (x, f) = try operands(c)
    let out = c.tensor(output).shape
    let o = c.o
    guard out.count == 4, out[0] == expected[0], out[3] == expected[3],
          ModelBuilder.outputSize(input: out[1], filter: f.shape[1], stride: o.strideH, dilation: 1,
                                  padding: o.padding.kind, padBefore: 0, padAfter: 0) == x.shape[1],
          ModelBuilder.outputSize(input: out[2], filter: f.shape[2], stride: o.strideW, dilation: 1,
                                  padding: o.padding.kind, padBefore: 0, padAfter: 0) == x.shape[2] else {
      throw ModelBuilderError.shapeMismatch(
        "\(c.opName): output \(c.label(output)) is \(out); its forward convolution must give the input's \(x.shape[1])×\(x.shape[2]) (e.g. \(expected))")
    }
  }

  private static func operands(_ c: BuilderOpCheck) throws -> (ModelBuilder.Tensor, ModelBuilder.Tensor) {
    guard c.inputs.count == 2 || c.inputs.count == 3 else {
      throw ModelBuilderError.invalidOp("\(c.opName): expects input, filter and optional bias")
    }
    try c.checkSpatial(window: false)
    guard c.o.dilationH == 1, c.o.dilationW == 1 else { throw ModelBuilderError.invalidOp("\(c.opName): no dilation") }
    guard c.o.padding.kind != .explicit else {
      throw ModelBuilderError.invalidOp("\(c.opName): padding must be SAME or VALID")
    }
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
