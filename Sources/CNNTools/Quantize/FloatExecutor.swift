// FloatExecutor: a float32 reference executor over a FloatGraph, fast enough
// for calibration (no im2col: each output pixel accumulates a row of output
// channels, with filters packed as [group][KH][KW][Cin/g][Cout/g] so the inner
// loop is a contiguous axpy over output channels that the compiler
// vectorizes). Buffers are allocated once per executor and reused. Each
// node's packing and evaluation is its tools op unit's (Ops/*.swift,
// `ToolOp.prepareFloat` / `evaluateFloat`); this file owns the buffers.
//
// Not thread-safe: use one executor per thread.

import CNNRuntime

public final class FloatExecutor {
  public let graph: FloatGraph
  /// Per node: packed weights (conv, depthwise, fully connected) or empty.
  private var packed: [[Float]]
  /// Per node: bias (zeros when absent) or empty.
  private var biases: [[Float]]
  /// Per tensor: storage for activations (constants: empty).
  private var buffers: [[Float]]

  public init(graph: FloatGraph) throws {
    try graph.validate()
    self.graph = graph
    packed = []
    biases = []
    buffers = graph.tensors.map { $0.isConstant ? [] : [Float](repeating: 0, count: $0.elementCount) }
    for n in graph.nodes {
      let (p, b) = ToolOpTable.unit(n.kind).prepareFloat(n, graph)
      packed.append(p)
      biases.append(b)
    }
  }

  /// Runs the graph; returns the model outputs, in order.
  public func run(_ inputs: [[Float]]) throws -> [[Float]] {
    try execute(inputs) { _, _ in }
    return graph.outputs.map { buffers[$0] }
  }

  /// Runs the graph and returns every tensor's values, indexed by tensor
  /// (constants included as stored).
  public func runAll(_ inputs: [[Float]]) throws -> [[Float]] {
    try execute(inputs) { _, _ in }
    return graph.tensors.indices.map { graph.tensors[$0].data ?? buffers[$0] }
  }

  /// Runs the graph, calling `observe` for each model input and each node
  /// output (tensor index, values) without copying; returns the outputs.
  public func run(_ inputs: [[Float]], observe: (Int, UnsafeBufferPointer<Float>) -> Void) throws -> [[Float]] {
    try execute(inputs, observe: observe)
    return graph.outputs.map { buffers[$0] }
  }

  private func execute(_ inputs: [[Float]], observe: (Int, UnsafeBufferPointer<Float>) -> Void) throws {
    guard inputs.count == graph.inputs.count else {
      throw FloatGraphError.invalidInput("\(inputs.count) inputs, the model has \(graph.inputs.count)")
    }
    for (k, t) in graph.inputs.enumerated() {
      guard inputs[k].count == buffers[t].count else {
        throw FloatGraphError.invalidInput("input \(k): \(inputs[k].count) values, shape \(graph.tensors[t].shape) needs \(buffers[t].count)")
      }
      buffers[t] = inputs[k]
      buffers[t].withUnsafeBufferPointer { observe(t, $0) }
    }
    for (i, n) in graph.nodes.enumerated() {
      var out = buffers[n.output]
      buffers[n.output] = []  // unique ownership while writing
      out.withUnsafeMutableBufferPointer { o in runNode(i, n, o) }
      buffers[n.output] = out
      out.withUnsafeBufferPointer { observe(n.output, $0) }
    }
  }

  private func runNode(_ i: Int, _ n: FloatGraph.Node, _ out: UnsafeMutableBufferPointer<Float>) {
    let g = graph
    buffers[n.inputs[0]].withUnsafeBufferPointer { x in
      packed[i].withUnsafeBufferPointer { w in
        biases[i].withUnsafeBufferPointer { b in
          ToolOpTable.unit(n.kind).evaluateFloat(
            FloatEvaluation(executor: self, node: n, graph: g, x: x, xShape: g.tensors[n.inputs[0]].shape,
                            out: out, oShape: g.tensors[n.output].shape, packed: w, bias: b))
        }
      }
    }
  }

  /// Values of activation tensor `t` (a second input, as Add reads).
  func withBuffer(_ t: Int, _ body: (UnsafeBufferPointer<Float>) -> Void) {
    buffers[t].withUnsafeBufferPointer(body)
  }

  @inline(__always)
  static func activate(_ v: Float, _ a: FloatGraph.Activation) -> Float {
    switch a {
    case .none: return v
    case .relu: return max(v, 0)
    case .relu6: return min(max(v, 0), 6)
    }
  }

  static func applyActivation(_ o: UnsafeMutableBufferPointer<Float>, _ a: FloatGraph.Activation) {
    if a == .none { return }
    for k in 0..<o.count { o[k] = activate(o[k], a) }
  }
}

/// One node's evaluation (`ToolOp.evaluateFloat`): its first input, its
/// output buffer, the shapes, and the weights/bias the unit prepared.
struct FloatEvaluation {
  let executor: FloatExecutor
  let node: FloatGraph.Node
  let graph: FloatGraph
  let x: UnsafeBufferPointer<Float>
  let xShape: [Int]
  let out: UnsafeMutableBufferPointer<Float>
  let oShape: [Int]
  let packed: UnsafeBufferPointer<Float>
  let bias: UnsafeBufferPointer<Float>
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
