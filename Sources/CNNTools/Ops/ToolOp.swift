// ToolOp: the tools side of one op as one unit (TFLite Micro's registration,
// for the import / calibrate / quantize / write path). A unit holds, for the
// ops it covers:
//
// - its int8 TFLite mapping (TFLite operator → ModelBuilder op),
// - its float TFLite mapping (float TFLite operator → FloatGraph node),
// - its ONNX mapping (ONNX node → FloatGraph node(s), NCHW → NHWC),
// - its FloatGraph shape rules and float evaluation (calibration reference),
// - its quantization rule (FloatGraph node → ModelBuilder op),
// - its ModelBuilder shape inference, output checks and record encoding.
//
// The importers, the float graph, the executor, the quantizer and the model
// builder only walk graphs, keep tensors and look units up in `ToolOpTable`.
// A unit may cover several FloatGraph kinds / runtime op codes that share
// their mappings (max and average pooling; conv and depthwise conv, which
// ONNX's Conv emits alike). Every requirement has a default that refuses, so
// a unit implements only the parts its ops have.

import CNNRuntime

protocol ToolOp: Sendable {
  /// FloatGraph node kinds this unit validates, evaluates and quantizes.
  static var kinds: [FloatGraph.Kind] { get }
  /// Runtime op codes this unit builds (ModelBuilder shape rules, records).
  static var opCodes: [OpCode] { get }
  /// TFLite builtin codes this unit imports (int8 and float models).
  static var tfliteBuiltins: [Int32] { get }
  /// ONNX op types (default domain) this unit imports.
  static var onnxOpTypes: [String] { get }

  // MARK: TFLite

  /// Int8 TFLite operator → ModelBuilder op (quantization copied as stored).
  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws
  /// Float TFLite operator → FloatGraph node.
  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node
  /// Whether inputs after the first may be computed tensors (otherwise the
  /// float TFLite importer requires them to be constants).
  static var readsSeveralActivations: Bool { get }

  // MARK: ONNX

  /// ONNX node → FloatGraph node(s) through the importer's helpers.
  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws

  // MARK: Float graph

  /// Shape rules of a node (what the float executor relies on).
  static func checkShapes(_ c: FloatNodeCheck) throws
  /// Weights rearranged once per executor (conv, fully connected) and the bias.
  static func prepareFloat(_ n: FloatGraph.Node, _ g: FloatGraph) -> (packed: [Float], bias: [Float])
  /// Float reference evaluation of one node.
  static func evaluateFloat(_ e: FloatEvaluation)
  /// Whether a standalone ReLU/ReLU6 after this node can be fused into it.
  static var acceptsFusedActivation: Bool { get }
  /// Axis of the output channels in the weights (input 1) of `kind`, for
  /// per-channel quantization and BatchNorm folding; nil for ops without weights.
  static func weightChannelAxis(_ kind: FloatGraph.Kind) -> Int?

  // MARK: Quantization

  /// Whether the output quantization is chosen from calibration (otherwise
  /// it is the input's or fixed by the op).
  static var calibratesOutput: Bool { get }
  /// Whether the input keeps its min-max range whatever the calibration
  /// method (the logits read by softmax / logistic).
  static var needsFullRangeInput: Bool { get }
  /// The input values outside which the node's output no longer changes
  /// (HardSwish below −3, HardSigmoid outside its ramp), or nil: a tensor
  /// read only by such nodes is quantized over at most the hull of their
  /// ranges, which loses nothing and gives finer steps.
  static func usefulInputRange(_ n: FloatGraph.Node) -> (min: Float, max: Float)?
  /// Constants the node writes into its output in its input's quantization
  /// (a Pad's constant): the quantizer widens the range the input's
  /// quantization is chosen from to hold them (`Quantizer.heldValues`).
  static func constantsInInputQuantization(_ n: FloatGraph.Node) -> [Float]
  /// FloatGraph node → ModelBuilder op; returns the output and its quantization.
  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant)

  // MARK: Model builder

  /// Whether `OpOptions.beta` / the pad fields apply to the op.
  static var acceptsBeta: Bool { get }
  static var acceptsPadValue: Bool { get }
  // join
  /// Whether `OpOptions.axis` applies (concatenation, split, gather).
  static var acceptsAxis: Bool { get }
  /// Whether `OpOptions.alignCorners` and `halfPixelCenters` apply (resize).
  static var acceptsResizeOptions: Bool { get }
  /// Whether the output has the quantization of its activation input(s)
  /// (pooling, reshape, pad, resize, concatenation): the quantizer then makes
  /// a concatenation's inputs, output and everything sharing with them one
  /// quantization (`QuantizerState.shareConcatenationQuantization`).
  static var sharesInputQuantization: Bool { get }
  /// The output shape the runtime computes; throws on inconsistent inputs or options.
  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int]
  /// Checks the output tensor (shape against `expected`, quantization).
  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws
  /// Op-specific fields of the op record (format v2) (after the common ones).
  static func encode(_ o: OpOptions, _ code: OpCode, into r: inout OpRecord)
  /// Whether the op may have several outputs (built by
  /// `ModelBuilder.addOp(_:inputs:outputs:options:)`, checked by `checkOutputs`).
  static var multipleOutputs: Bool { get }
  /// Checks the inputs, options and every output of a several-output op.
  static func checkOutputs(_ c: BuilderOpCheck, outputs: [TensorID]) throws
}

extension ToolOp {
  static var opCodes: [OpCode] { [] }
  static var tfliteBuiltins: [Int32] { [] }
  static var onnxOpTypes: [String] { [] }
  static var readsSeveralActivations: Bool { false }
  static var acceptsFusedActivation: Bool { false }
  static var calibratesOutput: Bool { false }
  static var needsFullRangeInput: Bool { false }
  static var acceptsBeta: Bool { false }
  static var acceptsPadValue: Bool { false }
  static var multipleOutputs: Bool { false }
  static var acceptsAxis: Bool { false }
  static func checkOutputs(_ c: BuilderOpCheck, outputs: [TensorID]) throws {
    throw ModelBuilderError.invalidOp("\(c.opName): this op has exactly one output")
  }
  static var acceptsResizeOptions: Bool { false }
  static var sharesInputQuantization: Bool { false }

  static func importTFLite(_ op: TFLiteNode, _ im: inout TFLiteInt8Importer) throws {
    throw TFLiteError.unsupported("\(op.ctx): op \(op.name) is not supported")
  }
  static func importTFLiteFloat(_ op: TFLiteNode, _ im: inout TFLiteFloatImporter) throws -> FloatGraph.Node {
    throw FloatGraphError.unsupported("\(op.ctx): op \(op.name) is not supported")
  }
  static func importONNX(_ n: ONNXNode, _ im: inout ONNXImporter) throws {
    throw FloatGraphError.unsupported("unsupported ONNX op '\(n.proto.opType)' (node '\(n.name)')")
  }
  static func prepareFloat(_ n: FloatGraph.Node, _ g: FloatGraph) -> (packed: [Float], bias: [Float]) { ([], []) }
  static func weightChannelAxis(_ kind: FloatGraph.Kind) -> Int? { nil }
  static func usefulInputRange(_ n: FloatGraph.Node) -> (min: Float, max: Float)? { nil }
  static func constantsInInputQuantization(_ n: FloatGraph.Node) -> [Float] { [] }
  static func quantize(_ n: FloatGraph.Node, _ q: inout QuantizerState) throws -> (TensorID, ActivationQuant) {
    throw FloatGraphError.unsupported("\(n.origin): \(n.kind) cannot be quantized")
  }
  static func inferOutputShape(_ c: BuilderOpCheck) throws -> [Int] {
    throw ModelBuilderError.invalidOp("\(c.opName): not buildable")
  }
  static func checkOutput(_ c: BuilderOpCheck, output: TensorID, expected: [Int]) throws {
    try c.expectShape(output, expected)
  }
  static func encode(_ o: OpOptions, _ code: OpCode, into r: inout OpRecord) {}
}

/// One TFLite operator being imported, with its name for messages.
struct TFLiteNode {
  let op: TFLiteOperator
  /// Builtin code.
  let code: Int32
  /// Builtin name ("CONV_2D").
  let name: String
  /// "operator 3 (CONV_2D)".
  let ctx: String

  var options: TFLiteBuiltinOptions { op.options }

  /// Raw tensor index of input `i` (int8 import).
  func input(_ i: Int) throws -> Int {
    guard i < op.inputs.count, op.inputs[i] >= 0 else { throw TFLiteError.invalidModel("\(ctx): missing input \(i)") }
    return op.inputs[i]
  }

  func optionalInput(_ i: Int) -> Int? { i < op.inputs.count && op.inputs[i] >= 0 ? op.inputs[i] : nil }

  func expectIO(inputs: ClosedRange<Int>, outputs: Int = 1) throws {
    guard inputs.contains(op.inputs.count) else {
      throw TFLiteError.invalidModel("\(ctx): \(op.inputs.count) inputs, expected \(inputs.lowerBound == inputs.upperBound ? "\(inputs.lowerBound)" : "\(inputs.lowerBound)...\(inputs.upperBound)")")
    }
    guard op.outputs.count == outputs else {
      throw TFLiteError.invalidModel("\(ctx): \(op.outputs.count) outputs, expected \(outputs)")
    }
  }

  func wrongOptions() -> TFLiteError {
    .invalidModel("\(ctx): missing or wrong builtin options (type \(op.builtinOptionsType))")
  }
}

extension FloatGraph.Node {
  /// The fused activation as the runtime stores it.
  var fusedActivation: FusedActivation { activation == .relu ? .relu : activation == .relu6 ? .relu6 : .none }
  /// SAME / VALID as the builder takes it.
  var builderPadding: Padding { padding == .same ? .same : .valid }
}
