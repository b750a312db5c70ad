// ToolOpTable: the one list of tools op units. Adding an op on the tools side
// is a file in Ops/ and a line here. Lookups by TFLite builtin code, ONNX op
// type, FloatGraph kind and runtime op code; a key claimed twice is a
// programming error caught on first use.

import CNNRuntime

enum ToolOpTable {
  static let units: [any ToolOp.Type] = [
    ConvolutionOp.self,
    FullyConnectedOp.self,
    AddOp.self,
    Pool2DOp.self,
    MeanOp.self,
    SumOp.self,
    ReduceMaxOp.self,
    ReshapeOp.self,
    SoftmaxOp.self,
    LogisticOp.self,
    PadOp.self,
    ActivationOp.self,
    // binary
    MulOp.self,
    SubOp.self,
    MaximumMinimumOp.self,
    TransposeConvOp.self,
    // shape
    StridedSliceOp.self,
    TransposeOp.self,
    DepthToSpaceOp.self,
    SplitOp.self,
    ExpandDimsOp.self,
    GatherOp.self,
    TileOp.self,
    // activations
    LeakyReluOp.self,
    PreluOp.self,
    HardSwishOp.self,
    TanhOp.self,
    QuantizeOp.self,
    LookupTableOp.self,
    UnaryFunctionOp.self,
    // join
    ConcatenationOp.self,
    ResizeOp.self,
  ]

  static let byTFLite: [Int32: any ToolOp.Type] = index { $0.tfliteBuiltins }
  static let byONNX: [String: any ToolOp.Type] = index { $0.onnxOpTypes }
  static let byKind: [FloatGraph.Kind: any ToolOp.Type] = index { $0.kinds }
  static let byOpCode: [OpCode: any ToolOp.Type] = index { $0.opCodes }

  /// The unit evaluating and quantizing `kind` (every kind has one: kinds are
  /// only declared by units).
  static func unit(_ kind: FloatGraph.Kind) -> any ToolOp.Type {
    guard let u = byKind[kind] else { preconditionFailure("no tools op unit for FloatGraph kind \(kind)") }
    return u
  }

  private static func index<K: Hashable>(_ keys: (any ToolOp.Type) -> [K]) -> [K: any ToolOp.Type] {
    var d: [K: any ToolOp.Type] = [:]
    for u in units {
      for k in keys(u) {
        precondition(d[k] == nil, "tools op units \(d[k]!) and \(u) both claim \(k)")
        d[k] = u
      }
    }
    return d
  }
}
