// Resize of H and W, tools side: TFLite RESIZE_NEAREST_NEIGHBOR and
// RESIZE_BILINEAR (int8: the size a constant int32 [2]; float), ONNX Resize
// (nearest / linear; scales or sizes constants; the coordinate transformation
// and nearest rounding mapped onto TFLite's align_corners /
// half_pixel_centers where they compute the same coordinates, refused
// otherwise) and Upsample, float evaluation (TFLite's float kernels),
// quantization (the output shares the input's) and the builder's rules (a
// constant size input, the two options in the record's `extra`).

import CNNRuntime

extension FloatGraph.Kind {
  /// input [N,H,W,C] → [N,H',W',C] (the output shape gives the size); `Node.alignCorners` / `halfPixelCenters`.
  public static let resizeNearestNeighbor = Self("resizeNearestNeighbor")
  public static let resizeBilinear = Self("resizeBilinear")
}

enum ResizeOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = [.resizeNearestNeighbor, .resizeBilinear]
  static let opCodes: [OpCode] = [.resizeNearestNeighbor, .resizeBilinear]
  static let tfliteBuiltins = [TFLiteBuiltinOperator.resizeNearestNeighbor, TFLiteBuiltinOperator.resizeBilinear]
  static let onnxOpTypes = ["Resize", "Upsample"]
  static let acceptsResizeOptions = true
  static let sharesInputQuantization = true

  // MARK: TFLite

  /// The options and the (height, width) of the size input, checked against the output shape.
  static func tfliteParameters(_ op: TFLiteNode, size: [Int], output: [Int]) throws -> (Bool, Bool, Int, Int) {
    guard case .resize(let align, let half) = op.options else { throw op.wrongOptions() }
    guard size.count == 2, size.allSatisfy({ $0 >= 1 }) else {
      throw TFLiteError.invalidModel("\(op.ctx): size \(size) must be two positive values")
    }
    guard output.count == 4, output[1] == size[0], output[2] == size[1] else {
      throw TFLiteError.invalidModel("\(op.ctx): output shape \(output) does not have the size \(size)")
    }
    if op.code == TFLiteBuiltinOperator.resizeBilinear && align && half {
      throw TFLiteError.invalidModel("\(op.ctx): align_corners and half_pixel_centers both set (TFLM refuses it)")
    }
    return (align, half, size[0], size[1])
  }

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try op.expectIO(inputs: 2...2)
    let x = try im.activationInput(try op.input(0), op.ctx)
    let sizeT = try op.input(1)
    guard im.graph.tensors[sizeT].type == .int32 else {
      throw TFLiteError.unsupported("\(op.ctx): size \(im.describe(sizeT)) is \(im.graph.tensors[sizeT].type), expected a constant INT32 [2]")
    }
    let size = try im.intConstant(sizeT, "size", op.ctx)
    let out = try im.outputActivation(op.op, op.ctx)
    let (align, half, h, w) = try tfliteParameters(op, size: size, output: im.builder.tensors[out.index].shape)
    let sizeID: TensorID
    if let id = im.map[sizeT], im.builder.tensors[id.index].isConstant {
      sizeID = id
    } else {
      let t = im.graph.tensors[sizeT]
      sizeID = try TFLiteInt8Importer.wrap(op.ctx) {
        try im.builder.addConstant([Int32(h), Int32(w)], shape: [2], name: t.name.isEmpty ? nil : t.name)
      }
      im.map[sizeT] = sizeID
    }
    let code: OpCode = op.code == TFLiteBuiltinOperator.resizeBilinear ? .resizeBilinear : .resizeNearestNeighbor
    try im.addOp(op, code, [x, sizeID], out, OpOptions(alignCorners: align, halfPixelCenters: half))
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    guard op.op.inputs.count == 2, op.op.inputs[1] >= 0 else {
      throw FloatGraphError.invalidModel("\(op.ctx): expected 2 inputs (images, size)")
    }
    let size = try im.intValues(op.op.inputs[1], op.ctx)
    var node = try im.node(op, op.code == TFLiteBuiltinOperator.resizeBilinear ? .resizeBilinear : .resizeNearestNeighbor,
                           [try im.input(op, 0)])
    do {
      (node.alignCorners, node.halfPixelCenters, _, _) = try tfliteParameters(op, size: size, output: im.tensors[node.output].shape)
    } catch let e as TFLiteError {
      throw FloatGraphError.unsupported(e.message)
    }
    return node
  }

  // MARK: ONNX

  /// ONNX Resize (opset 10+; nearest / linear of H and W) and Upsample
  /// (opset 7–9), mapped onto TFLite's coordinates:
  /// - nearest: asymmetric + floor → plain; tf_half_pixel_for_nn + floor and
  ///   half_pixel + round_prefer_ceil → half_pixel_centers; align_corners +
  ///   round_prefer_ceil → align_corners; half_pixel + round_prefer_floor (the
  ///   default) only for whole upscale factors, where no coordinate is a tie;
  /// - linear: asymmetric → plain, half_pixel (and pytorch_half_pixel when
  ///   both output sizes exceed 1) → half_pixel_centers, align_corners →
  ///   align_corners.
  /// Scales must give whole output sizes (in × scale an integer), since
  /// TFLite derives the coordinate scale from the sizes.
  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    try im.require4D(n, x)
    let s = x.onnxShape
    let upsample = n.opType == "Upsample"
    let mode = n.a.string("mode", "nearest")
    var transform = upsample || im.opset < 11 ? "asymmetric" : n.a.string("coordinate_transformation_mode", "half_pixel")
    // Before opset 11 nearest rounding was not specified; ONNX Runtime truncates
    // when upscaling (floor) and rounds up when downscaling: "floor" is taken for
    // upscales only (checked below).
    let nearestMode = upsample || im.opset < 11 ? "legacy" : n.a.string("nearest_mode", "round_prefer_floor")
    if !upsample {
      if try n.a.int("antialias", 0) != 0 && mode != "nearest" { throw n.unsupported("antialias") }
      if let axes = try n.a.ints("axes"), axes != [0, 1, 2, 3] { throw n.unsupported("axes \(axes)") }
      let policy = n.a.string("keep_aspect_ratio_policy", "stretch")
      guard policy == "stretch" else { throw n.unsupported("keep_aspect_ratio_policy '\(policy)'") }
    }
    // Output size from sizes or scales.
    var outShape: [Int]
    let sizesIndex = upsample || im.opset < 11 ? nil : 3
    let scalesIndex = upsample ? (im.opset >= 9 ? 1 : nil) : (im.opset < 11 ? 1 : 2)
    if let si = sizesIndex, let sizes = try im.optionalConstant(n, si), sizes.count > 0 {
      outShape = try sizes.integers(n.ctx)
      guard outShape.count == 4 else { throw n.invalid("sizes \(outShape) (4 values expected)") }
    } else {
      var scales: [Float]
      if let si = scalesIndex {
        guard let c = try im.optionalConstant(n, si), c.count > 0 else { throw n.unsupported("Resize without constant scales or sizes") }
        scales = c.floats
      } else {
        guard let a = n.a.floats("scales") else { throw n.invalid("no scales") }
        scales = a
      }
      guard scales.count == 4 else { throw n.invalid("scales \(scales) (4 values expected)") }
      outShape = []
      for (d, sc) in zip(s, scales) {
        let v = Double(d) * Double(sc)
        guard v.isFinite, v >= 1, v <= Double(1 << 20), v == v.rounded(.down) else {
          throw n.unsupported("scale \(sc) of a dimension of size \(d) (the output size must be a whole number)")
        }
        outShape.append(Int(v))
      }
    }
    guard outShape[0] == s[0], outShape[1] == s[1] else {
      throw n.unsupported("resize of the batch or channel dimension (\(s) to \(outShape))")
    }
    guard outShape.allSatisfy({ $0 >= 1 }) else { throw n.invalid("output size \(outShape)") }
    let (inH, inW, outH, outW) = (s[2], s[3], outShape[2], outShape[3])
    if transform == "pytorch_half_pixel" {
      guard outH > 1, outW > 1 else { throw n.unsupported("pytorch_half_pixel with an output size of 1") }
      transform = "half_pixel"
    }
    let kind: FloatGraph.Kind
    var align = false, half = false
    let legacyFloor = nearestMode == "legacy" && outH >= inH && outW >= inW
    switch (mode, transform) {
    case ("nearest", "asymmetric") where nearestMode == "floor" || legacyFloor:
      kind = .resizeNearestNeighbor
    case ("nearest", "tf_half_pixel_for_nn") where nearestMode == "floor",
         ("nearest", "half_pixel") where nearestMode == "round_prefer_ceil":
      kind = .resizeNearestNeighbor; half = true
    case ("nearest", "half_pixel") where nearestMode == "round_prefer_floor"
      && outH % inH == 0 && outW % inW == 0:
      kind = .resizeNearestNeighbor; half = true
    case ("nearest", "align_corners") where nearestMode == "round_prefer_ceil":
      kind = .resizeNearestNeighbor; align = true
    case ("linear", "asymmetric"):
      kind = .resizeBilinear
    case ("linear", "half_pixel"):
      kind = .resizeBilinear; half = true
    case ("linear", "align_corners"):
      kind = .resizeBilinear; align = true
    default:
      throw n.unsupported("mode '\(mode)' with coordinate_transformation_mode '\(transform)'"
                            + (mode == "nearest" ? " and nearest_mode '\(nearestMode)'" : "")
                            + " (supported: the combinations equal to TFLite's RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR)")
    }
    let out = try im.output(n, outShape, .nhwc)
    var nd = n.node(kind, [x.tensor], out)
    nd.alignCorners = align
    nd.halfPixelCenters = half
    im.emit(nd)
  }

  // MARK: Float graph

  static func checkShapes(_ c: FloatNodeCheck) throws {
    let x = c.x, out = c.out
    guard c.node.inputs.count == 1, x.count == 4, out.count == 4, x[0] == out[0], x[3] == out[3] else {
      throw c.fail("resize of \(x) to \(out) (4-D NHWC, H and W only)")
    }
    if c.node.kind == .resizeBilinear && c.node.alignCorners && c.node.halfPixelCenters {
      throw c.fail("align_corners and half_pixel_centers both set")
    }
  }

  static func evaluateFloat(_ e: FloatEvaluation) {
    let xs = e.xShape, os = e.oShape, n = e.node
    let (batches, inH, inW, ch) = (xs[0], xs[1], xs[2], xs[3])
    let (outH, outW) = (os[1], os[2])
    func scale(_ i: Int, _ o: Int) -> Float {
      n.alignCorners && o > 1 ? Float(i - 1) / Float(o - 1) : Float(i) / Float(o)
    }
    let sh = scale(inH, outH), sw = scale(inW, outW)
    if n.kind == .resizeNearestNeighbor {
      // TFLite GetNearestNeighbor.
      func source(_ i: Int, _ s: Float, _ size: Int) -> Int {
        let v = (Float(i) + (n.halfPixelCenters ? 0.5 : 0)) * s
        var r = min(Int(n.alignCorners ? v.rounded(.toNearestOrAwayFromZero) : v.rounded(.down)), size - 1)
        if n.halfPixelCenters { r = max(r, 0) }
        return r
      }
      var o = 0
      for b in 0..<batches {
        for y in 0..<outH {
          let iy = source(y, sh, inH)
          for xx in 0..<outW {
            let base = ((b * inH + iy) * inW + source(xx, sw, inW)) * ch
            for c in 0..<ch { e.out[o + c] = e.x[base + c] }
            o += ch
          }
        }
      }
      return
    }
    // TFLite reference ResizeBilinear (float).
    func taps(_ i: Int, _ s: Float, _ size: Int) -> (Int, Int, Float) {
      let v = n.halfPixelCenters ? (Float(i) + 0.5) * s - 0.5 : Float(i) * s
      let lo = max(Int(v.rounded(.down)), 0), hi = min(Int(v.rounded(.up)), size - 1)
      return (lo, hi, v - Float(lo))
    }
    var o = 0
    for b in 0..<batches {
      for y in 0..<outH {
        let (y0, y1, fy) = taps(y, sh, inH)
        for xx in 0..<outW {
          let (x0, x1, fx) = taps(xx, sw, inW)
          func p(_ yy: Int, _ xx: Int, _ c: Int) -> Float { e.x[((b * inH + yy) * inW + xx) * ch + c] }
          for c in 0..<ch {
            e.out[o + c] = p(y0, x0, c) * (1 - fy) * (1 - fx) + p(y1, x0, c) * fy * (1 - fx)
              + p(y0, x1, c) * (1 - fy) * fx + p(y1, x1, c) * fy * fx
          }
          o += ch
        }
      }
    }
  }

  // MARK: Quantization

  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    let (x, xq) = q.input(n)
    let s = q.g.tensors[n.output].shape, name = q.name(n.output)
    let out = try QuantizerState.wrap(n.origin) {
      n.kind == .resizeBilinear
        ? try q.b.resizeBilinear(x, height: s[1], width: s[2], alignCorners: n.alignCorners,
                                 halfPixelCenters: n.halfPixelCenters, name: name)
        : try q.b.resizeNearestNeighbor(x, height: s[1], width: s[2], alignCorners: n.alignCorners,
                                        halfPixelCenters: n.halfPixelCenters, name: name)
    }
    return (out, xq)
  }

  // MARK: Model builder

  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    try c.expectInputs(2)
    try c.checkPlain(); try c.noActivation()
    let x = try c.int8Activation(0, "input")
    try c.checkNHWC(x)
    let size = try c.required(1, "size")
    guard size.isConstant, size.elementType == .int32, size.shape == [2], let d = size.data else {
      throw ModelBuilderError.invalidOp("\(c.opName): size \(c.label(c.inputs[1]!)) must be a constant int32 [2]")
    }
    let v = stride(from: 0, to: 8, by: 4).map {
      Int(Int32(bitPattern: UInt32(d[$0]) | UInt32(d[$0 + 1]) << 8 | UInt32(d[$0 + 2]) << 16 | UInt32(d[$0 + 3]) << 24))
    }
    guard v.allSatisfy({ $0 >= 1 && $0 <= ModelBuilder.maxDimension }) else {
      throw ModelBuilderError.invalidOp("\(c.opName): size \(v) must be in 1...\(ModelBuilder.maxDimension)")
    }
    if c.code == .resizeBilinear {
      guard !(c.o.alignCorners && c.o.halfPixelCenters) else {
        throw ModelBuilderError.invalidOp("\(c.opName): align_corners and half_pixel_centers cannot both be set")
      }
      guard resizeBilinearFits(inSize: x.shape[1], outSize: v[0], alignCorners: c.o.alignCorners, halfPixelCenters: c.o.halfPixelCenters),
            resizeBilinearFits(inSize: x.shape[2], outSize: v[1], alignCorners: c.o.alignCorners, halfPixelCenters: c.o.halfPixelCenters) else {
        throw ModelBuilderError.invalidOp(
          "\(c.opName): resize of \(x.shape[1])x\(x.shape[2]) to \(v[0])x\(v[1]) is too large an upscale for TFLM's 10-bit bilinear scale")
      }
    }
    return [x.shape[0], v[0], v[1], x.shape[3]]
  }

  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
    try c.sameQuant(output)
  }

  static func encode(_ o: OpOptions, _ code: OpCode, into r: inout OpRecord) {
    r.extra = (o.alignCorners ? OpRecord.resizeAlignCorners : 0) | (o.halfPixelCenters ? OpRecord.resizeHalfPixelCenters : 0)
  }
}

extension ModelBuilder {
  /// TFLite RESIZE_NEAREST_NEIGHBOR of [N,H,W,C] to [N,height,width,C] (the
  /// input's quantization); adds the constant int32 size tensor.
  @discardableResult
  public mutating func resizeNearestNeighbor(_ input: TensorID, height: Int, width: Int, alignCorners: Bool = false,
                                             halfPixelCenters: Bool = false, name: String? = nil) throws -> TensorID {
    try resize(.resizeNearestNeighbor, input, height, width, alignCorners, halfPixelCenters, name)
  }

  /// TFLite RESIZE_BILINEAR (TFLM's integer arithmetic); as `resizeNearestNeighbor`,
  /// align_corners and half_pixel_centers not both set.
  @discardableResult
  public mutating func resizeBilinear(_ input: TensorID, height: Int, width: Int, alignCorners: Bool = false,
                                      halfPixelCenters: Bool = false, name: String? = nil) throws -> TensorID {
    try resize(.resizeBilinear, input, height, width, alignCorners, halfPixelCenters, name)
  }

  private mutating func resize(_ code: OpCode, _ input: TensorID, _ height: Int, _ width: Int, _ align: Bool,
                               _ half: Bool, _ name: String?) throws -> TensorID {
    let x = try tensor(input)
    guard (1...ModelBuilder.maxDimension).contains(height), (1...ModelBuilder.maxDimension).contains(width) else {
      throw ModelBuilderError.invalidOp("\(code): size \(height)x\(width) outside 1...\(ModelBuilder.maxDimension)")
    }
    let size = try addConstant([Int32(height), Int32(width)], shape: [2], name: name.map { $0 + "/size" })
    do {
      return try addWithNewOutput(code, [input, size], OpOptions(alignCorners: align, halfPixelCenters: half),
                                  scale: x.scales.first ?? 0, zeroPoint: x.zeroPoint, name: name)
    } catch {
      removeLastTensor()  // the size constant
      throw error
    }
  }
}
