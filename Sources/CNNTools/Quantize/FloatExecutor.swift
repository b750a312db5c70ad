// FloatExecutor: a float32 reference executor over a FloatGraph, fast enough
// for calibration (no im2col: each output pixel accumulates a row of output
// channels, with filters packed as [group][KH][KW][Cin/g][Cout/g] so the inner
// loop is a contiguous axpy over output channels that the compiler
// vectorizes). Buffers are allocated once per executor and reused.
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
      var p: [Float] = []
      var b: [Float] = []
      switch n.kind {
      case .conv2D:
        let f = graph.tensors[n.inputs[1]]
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
      case .depthwiseConv2D:
        let f = graph.tensors[n.inputs[1]]
        p = f.data!
        b = n.inputs.count > 2 ? graph.tensors[n.inputs[2]].data! : [Float](repeating: 0, count: f.shape[3])
      case .fullyConnected:
        let w = graph.tensors[n.inputs[1]]
        let (units, depth) = (w.shape[0], w.shape[1])
        p = [Float](repeating: 0, count: units * depth)
        let d = w.data!
        for u in 0..<units { for k in 0..<depth { p[k * units + u] = d[u * depth + k] } }
        b = n.inputs.count > 2 ? graph.tensors[n.inputs[2]].data! : [Float](repeating: 0, count: units)
      default: break
      }
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
    let xShape = g.tensors[n.inputs[0]].shape
    let oShape = g.tensors[n.output].shape
    buffers[n.inputs[0]].withUnsafeBufferPointer { x in
      switch n.kind {
      case .conv2D:
        let f = g.tensors[n.inputs[1]].shape
        packed[i].withUnsafeBufferPointer { w in
          biases[i].withUnsafeBufferPointer { b in
            Self.conv(x, xShape, w, b, kh: f[1], kw: f[2], cinG: f[3], out, oShape, n)
          }
        }
      case .depthwiseConv2D:
        let f = g.tensors[n.inputs[1]].shape
        packed[i].withUnsafeBufferPointer { w in
          biases[i].withUnsafeBufferPointer { b in
            Self.depthwise(x, xShape, w, b, kh: f[1], kw: f[2], out, oShape, n)
          }
        }
      case .fullyConnected:
        let units = g.tensors[n.inputs[1]].shape[0]
        packed[i].withUnsafeBufferPointer { w in
          biases[i].withUnsafeBufferPointer { b in
            Self.fullyConnected(x, w, b, units: units, out, n.activation)
          }
        }
      case .add:
        let bShape = g.tensors[n.inputs[1]].shape
        buffers[n.inputs[1]].withUnsafeBufferPointer { y in
          Self.add(x, xShape, y, bShape, out, oShape, n.activation)
        }
      case .maxPool2D, .averagePool2D:
        Self.pool(x, xShape, out, oShape, n)
      case .meanHW:
        let (batches, hw, c) = (xShape[0], xShape[1] * xShape[2], xShape[3])
        for bi in 0..<batches {
          for ch in 0..<c { out[bi * c + ch] = 0 }
          for p in 0..<hw { for ch in 0..<c { out[bi * c + ch] += x[(bi * hw + p) * c + ch] } }
          for ch in 0..<c { out[bi * c + ch] /= Float(hw) }
        }
      case .reshape:
        for k in 0..<out.count { out[k] = x[k] }
      case .pad:
        Self.pad(x, xShape, out, oShape, n)
      case .activation:
        for k in 0..<out.count { out[k] = Self.activate(x[k], n.activation) }
      case .softmax:
        let c = oShape.last!
        for r in 0..<(out.count / c) {
          var m = -Float.infinity
          for k in 0..<c { m = max(m, x[r * c + k]) }
          var s: Float = 0
          for k in 0..<c { let e = expf((x[r * c + k] - m) * n.beta); out[r * c + k] = e; s += e }
          for k in 0..<c { out[r * c + k] /= s }
        }
      case .logistic:
        for k in 0..<out.count { out[k] = 1 / (1 + expf(-x[k])) }
      }
    }
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
            for c in 0..<cout { acc[c] = activate(acc[c], n.activation) }
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
            for c in 0..<cout { acc[c] = activate(acc[c], n.activation) }
          }
        }
      }
    }
  }

  @_optimize(speed)
  static func fullyConnected(_ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>,
                             _ b: UnsafeBufferPointer<Float>, units: Int,
                             _ out: UnsafeMutableBufferPointer<Float>, _ a: FloatGraph.Activation) {
    let batches = out.count / units
    let depth = x.count / batches
    let xp = x.baseAddress!, wp = w.baseAddress!, op = out.baseAddress!
    for bi in 0..<batches {
      let acc = op + bi * units
      for u in 0..<units { acc[u] = b[u] }
      for k in 0..<depth {
        let v = xp[bi * depth + k]
        let wrow = wp + k * units
        for u in 0..<units { acc[u] += v * wrow[u] }
      }
    }
    applyActivation(out, a)
  }

  @_optimize(speed)
  static func add(_ a: UnsafeBufferPointer<Float>, _ ash: [Int], _ b: UnsafeBufferPointer<Float>, _ bsh: [Int],
                  _ out: UnsafeMutableBufferPointer<Float>, _ os: [Int], _ act: FloatGraph.Activation) {
    if ash == os && bsh == os {
      for k in 0..<out.count { out[k] = activate(a[k] + b[k], act) }
      return
    }
    let rank = os.count
    func strides(_ s: [Int]) -> [Int] {
      var st = [Int](repeating: 0, count: rank)
      var m = 1
      for d in stride(from: rank - 1, through: 0, by: -1) { st[d] = s[d] == 1 ? 0 : m; m *= s[d] }
      return st
    }
    let sa = strides(ash), sb = strides(bsh)
    var idx = [Int](repeating: 0, count: rank)
    for k in 0..<out.count {
      var ia = 0, ib = 0
      for d in 0..<rank { ia += idx[d] * sa[d]; ib += idx[d] * sb[d] }
      out[k] = activate(a[ia] + b[ib], act)
      var d = rank - 1
      while d >= 0 { idx[d] += 1; if idx[d] < os[d] { break }; idx[d] = 0; d -= 1 }
    }
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
          for ch in 0..<c { out[o + ch] = activate(isMax ? out[o + ch] : out[o + ch] / count, n.activation) }
        }
      }
    }
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
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
