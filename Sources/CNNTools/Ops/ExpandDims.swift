// Reshapes that other frameworks spell differently, imported as the
// runtime's Reshape: TFLite EXPAND_DIMS and PACK of one tensor (int8 and
// float), ONNX Squeeze and Unsqueeze (through Reshape's NCHW layout rules).
// TFLite SQUEEZE is Reshape's own.

import CNNRuntime

enum ExpandDimsOp: ToolOp {
  static let kinds: [FloatGraph.Kind] = []
  static let tfliteBuiltins = [TFLiteBuiltinOperator.expandDims, TFLiteBuiltinOperator.pack]
  static let onnxOpTypes = ["Squeeze", "Unsqueeze"]

  static func checkShapes(_ c: FloatNodeCheck) throws { throw c.fail("not a float graph node") }
  static func evaluateFloat(_ e: FloatEvaluation) {}

  static func checkPackOfOne(_ op: TFLiteNode) throws {
    guard op.code == TFLiteBuiltinOperator.pack else { return }
    guard op.op.inputs.count == 1 else {
      throw TFLiteError.unsupported("\(op.ctx): PACK of \(op.op.inputs.count) tensors (only of one, a reshape)")
    }
  }

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    try checkPackOfOne(op)
    try op.expectIO(inputs: op.code == TFLiteBuiltinOperator.pack ? 1...1 : 2...2)
    try im.addUnaryOp(op, .reshape)
  }

  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    try checkPackOfOne(op)
    return try im.node(op, .reshape, [try im.input(op, 0)])
  }

  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    let x = try im.activation(n, 0)
    let s = x.onnxShape
    var axes: [Int]
    if im.opset >= 13 {
      axes = try im.optionalConstant(n, 1)?.integers(n.ctx) ?? []
    } else {
      axes = try n.a.ints("axes") ?? []
    }
    var target: [Int]
    if n.opType == "Squeeze" {
      axes = axes.map { $0 < 0 ? $0 + s.count : $0 }
      if axes.isEmpty { axes = s.indices.filter { s[$0] == 1 } }
      guard axes.allSatisfy({ $0 >= 0 && $0 < s.count && s[$0] == 1 }) else { throw n.invalid("squeeze axes \(axes) of \(s)") }
      target = s.indices.filter { !axes.contains($0) }.map { s[$0] }
      if target.isEmpty { target = [1] }
    } else {
      let r = s.count + axes.count
      axes = axes.map { $0 < 0 ? $0 + r : $0 }
      guard axes.allSatisfy({ $0 >= 0 && $0 < r }), Set(axes).count == axes.count else { throw n.invalid("unsqueeze axes \(axes)") }
      var it = s.makeIterator()
      target = (0..<r).map { axes.contains($0) ? 1 : it.next()! }
    }
    try ReshapeOp.emitReshape(n, x, to: target, &im)
  }
}
