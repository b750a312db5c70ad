// Error-compensating weight rounding (`cnnrt quantize --weight-rounding gptq`),
// after GPTQ (Frantar et al., "GPTQ: Accurate Post-Training Quantization for
// Generative Pre-trained Transformers", 2022), applied to convolutions,
// depthwise convolutions and fully connected layers.
//
// Rounding each weight to its nearest int8 step ignores that the errors of
// the weights of one output channel add up over correlated inputs. With the
// input second moments H = Σ x xᵀ over the calibration patches of a layer
// (x: the K values one output reads: KH × KW × Cin/groups for a convolution,
// KH × KW of one channel for a depthwise convolution, the input row for a
// fully connected layer), the expected squared error of an output channel
// whose weights move by d is dᵀ H d. The weights are rounded one input at a
// time, in order of decreasing H[i][i]; after each rounding the remaining
// weights of the row absorb its error through the Cholesky factor of H⁻¹
// (U upper triangular, H⁻¹ = Uᵀ U: w[j] −= (w[i] − q[i]) / U[i][i] × U[i][j]).
// The scales do not change (max |w| / 127 per channel, or per tensor), so the
// int8 model's format, arithmetic and exactness are those of nearest
// rounding; only which int8 value each weight gets differs.
//
// H comes from the float model's own inputs of the layer (the first
// `maxSamples` calibration samples), added 16 patches at a time. H is damped
// by a fraction of its mean diagonal (`damping`); an input never seen
// non-zero keeps its nearest rounding and passes no error on. Two kinds of
// layer keep nearest rounding and get no H at all: one with fewer patches
// than `minPatchesPerInput` × K (a squeeze-excitation layer sees one input
// row per sample), which would fit the samples rather than the inputs it
// will meet, and one with more than `maxInputs` inputs per output (H alone
// would take K² × 8 bytes, twice: 302 MB at the limit, 5 GB for VGG's
// 25,088-input classifier). Transposed convolutions and weights fixed by the
// source model (ONNX QDQ) are left as they are.

import CNNRuntime
import Dispatch
import Synchronization

/// How `cnnrt quantize` picks the int8 value of each weight.
public enum WeightRounding: String, Sendable, CaseIterable {
  /// Nearest int8 step (half away from zero), as TFLite's converter does.
  case nearest
  /// Error-compensating rounding over the layer's calibration inputs (GPTQ.swift).
  case gptq
}

enum GPTQ {
  /// Fraction of the mean diagonal of H added to its diagonal.
  static let damping = 0.01
  /// At most this many calibration samples give H.
  static let maxSamples = 256
  /// Layers with fewer patches than this × K keep nearest rounding.
  static let minPatchesPerInput = 8
  /// Layers with more inputs per output than this keep nearest rounding (H's size).
  static let maxInputs = 6144

  /// One layer's rounding problem: `blocks` groups of output channels, each
  /// reading its own K inputs (conv groups; the input channels of a depthwise
  /// convolution), with H per block (K × K, row-major).
  struct Layer: Sendable {
    let node: FloatGraph.Node
    let k: Int
    let blocks: Int
    var h: [Double]
    var patches = 0

    /// Patches waiting to be added to H, per block `batch` × K (H is
    /// read and written once per batch rather than once per patch: a
    /// 4,608-input layer's H is 170 MB).
    private var pending: [Double]
    private var pendingCount = 0
    static let batch = 16

    init(_ n: FloatGraph.Node, k: Int, blocks: Int) {
      node = n
      self.k = k
      self.blocks = blocks
      h = [Double](repeating: 0, count: blocks * k * k)
      pending = [Double](repeating: 0, count: blocks * Self.batch * k)
    }

    /// K (inputs per output), the number of blocks and the patches per
    /// sample (output positions; input rows of a fully connected layer) of node `n`.
    static func inputs(_ n: FloatGraph.Node, _ g: FloatGraph) -> (k: Int, blocks: Int, patches: Int) {
      let w = g.tensors[n.inputs[1]].shape, x = g.tensors[n.inputs[0]].shape
      let positions = g.tensors[n.output].elementCount / (g.tensors[n.output].shape.last ?? 1)
      switch n.kind {
      case .depthwiseConv2D: return (w[1] * w[2], x[3], positions)
      case .conv2D: return (w[1] * w[2] * w[3], x[3] / w[3], positions)
      default: return (w[1], 1, x.reduce(1, *) / w[1])
      }
    }

    /// Adds the patches of one sample's input `x` to H (some may wait in
    /// `pending` until `flush`).
    @_optimize(speed)
    mutating func accumulate(_ x: UnsafeBufferPointer<Float>, _ g: FloatGraph) {
      let k = self.k, batch = Self.batch
      let n = node
      if n.kind == .fullyConnected {
        for r in 0..<(x.count / k) {
          pending.withUnsafeMutableBufferPointer { pb in
            for i in 0..<k { pb[pendingCount * k + i] = Double(x[r * k + i]) }
          }
          added()
        }
        return
      }
      let xs = g.tensors[n.inputs[0]].shape, ws = g.tensors[n.inputs[1]].shape
      let os = g.tensors[n.output].shape
      let (ih, iw, cin) = (xs[1], xs[2], xs[3])
      let (kh, kw) = (ws[1], ws[2])
      let cinG = n.kind == .conv2D ? ws[3] : 1
      let padT = FloatGraph.padding(n.padding, input: ih, filter: kh, stride: n.strideH, dilation: n.dilationH).0
      let padL = FloatGraph.padding(n.padding, input: iw, filter: kw, stride: n.strideW, dilation: n.dilationW).0
      for b in 0..<(x.count / (ih * iw * cin)) {
        for oy in 0..<os[1] {
          for ox in 0..<os[2] {
            pending.withUnsafeMutableBufferPointer { pb in
              for block in 0..<blocks {
                let p = pb.baseAddress! + (block * batch + pendingCount) * k
                var i = 0
                for ky in 0..<kh {
                  let iy = oy * n.strideH - padT + ky * n.dilationH
                  for kx in 0..<kw {
                    let ix = ox * n.strideW - padL + kx * n.dilationW
                    let inside = iy >= 0 && iy < ih && ix >= 0 && ix < iw
                    let base = ((b * ih + iy) * iw + ix) * cin + block * cinG
                    for c in 0..<cinG { p[i + c] = inside ? Double(x[base + c]) : 0 }
                    i += cinG
                  }
                }
              }
            }
            added()
          }
        }
      }
    }

    /// One more patch (per block) is in `pending`.
    private mutating func added() {
      pendingCount += 1
      patches += 1
      if pendingCount == Self.batch { flush() }
    }

    /// Adds the pending patches to H's upper triangle.
    @_optimize(speed)
    mutating func flush() {
      let k = self.k, batch = Self.batch, count = pendingCount
      guard count > 0 else { return }
      h.withUnsafeMutableBufferPointer { hb in
        pending.withUnsafeBufferPointer { pb in
          for block in 0..<blocks {
            let hp = hb.baseAddress! + block * k * k
            let ps = pb.baseAddress! + block * batch * k
            for i in 0..<k {
              let row = hp + i * k
              for b in 0..<count {
                let p = ps + b * k
                let xi = p[i]
                if xi == 0 { continue }
                for j in i..<k { row[j] += xi * p[j] }
              }
            }
          }
        }
      }
      pendingCount = 0
    }

    mutating func merge(_ o: Layer) {
      for i in h.indices { h[i] += o.h[i] }
      patches += o.patches
    }
  }

  /// GPTQ-rounded int8 weights, by the weighted node's output tensor, for
  /// every conv, depthwise conv and fully connected node whose weights are
  /// quantized here; scales are those of `Quantizer.quantizeWeights`.
  /// `progress(done)` is called after each sample (serialized, from the worker threads).
  static func round(_ g: FloatGraph, samples all: [[Float]], perChannel: Bool, maxInputs: Int = maxInputs,
                    progress: (@Sendable (Int) -> Void)? = nil) throws -> [Int: [Int8]] {
    let samples = Array(all.prefix(maxSamples))
    var layers: [Layer] = []
    for n in g.nodes where Quantizer.refinedKinds.contains(n.kind) && n.inputs.count >= 2 {
      let f = g.tensors[n.inputs[1]]
      let axis = ToolOpTable.unit(n.kind).weightChannelAxis(n.kind) ?? 0
      guard f.data != nil, try Quantizer.fixedWeights(f, axis: axis, n.origin) == nil else { continue }
      // Only layers that will have enough patches, within the input limit.
      let (k, blocks, perSample) = Layer.inputs(n, g)
      if k <= maxInputs && perSample * samples.count >= minPatchesPerInput * k {
        layers.append(Layer(n, k: k, blocks: blocks))
      }
    }
    guard !layers.isEmpty else { return [:] }

    // H over the samples, in two halves on two threads; the halves are
    // fixed by the sample count, so the sums do not depend on the machine.
    let byInput = Dictionary(grouping: layers.indices, by: { layers[$0].node.inputs[0] })
    let halves = samples.count > 1 ? [0..<samples.count / 2, samples.count / 2..<samples.count] : [0..<1]
    let template = layers
    let done = Mutex(0)
    let parts = try Calibrator.parallel(halves, graph: g, first: try FloatExecutor(graph: g)) { ex, r in
      var ls = template
      for i in r {
        _ = try ex.run([samples[i]]) { t, v in
          for k in byInput[t] ?? [] { ls[k].accumulate(v, g) }
        }
        if let progress { done.withLock { d in d += 1; progress(d) } }
      }
      for k in ls.indices { ls[k].flush() }
      return ls
    }
    layers = parts[0]
    for part in parts.dropFirst() { for k in layers.indices { layers[k].merge(part[k]) } }

    var out: [Int: [Int8]] = [:]
    for l in layers {
      out[l.node.output] = try roundLayer(l, g, perChannel: perChannel)
    }
    return out
  }

  /// The int8 weights of one layer, row by row (a row: one output channel's K weights).
  static func roundLayer(_ l: Layer, _ g: FloatGraph, perChannel: Bool) throws -> [Int8] {
    let n = l.node, f = g.tensors[n.inputs[1]], w = f.data!
    let axis = ToolOpTable.unit(n.kind).weightChannelAxis(n.kind) ?? 0
    var (q, scales) = try Quantizer.quantizeWeights(w, shape: f.shape, axis: axis, perChannel: perChannel)
    let k = l.k
    // Weight index of row r, input i.
    let cout = f.shape[axis]
    let index: (Int, Int) -> Int = n.kind == .depthwiseConv2D ? { r, i in i * cout + r } : { r, i in r * k + i }
    let rowsPerBlock = cout / l.blocks
    for block in 0..<l.blocks {
      let h = Array(l.h[(block * k * k)..<((block + 1) * k * k)])
      guard let (order, u) = factor(h, k) else { continue }  // nearest rounding kept
      for r in (block * rowsPerBlock)..<((block + 1) * rowsPerBlock) {
        let s = Double(scales[perChannel ? r : 0])
        var row = order.map { Double(w[index(r, $0)]) }
        for a in 0..<k {
          let v = Swift.max(-127, Swift.min(127, (row[a] / s).rounded(.toNearestOrAwayFromZero)))
          q[index(r, order[a])] = Int8(v)
          let e = (row[a] - v * s) / u[a * k + a]
          if e == 0 { continue }
          for b in (a + 1)..<k { row[b] -= e * u[a * k + b] }
        }
      }
    }
    return q
  }

  /// The input order (decreasing H[i][i]) and the upper Cholesky factor U of
  /// the damped, reordered H⁻¹ (row-major K × K); nil when H is not positive
  /// definite even with ten times the damping.
  static func factor(_ h0: [Double], _ k: Int) -> ([Int], [Double])? {
    let diag = (0..<k).map { h0[$0 * k + $0] }
    let order = (0..<k).sorted { diag[$0] > diag[$1] || (diag[$0] == diag[$1] && $0 < $1) }
    let live = diag.filter { $0 > 0 }
    guard !live.isEmpty else { return nil }
    let mean = live.reduce(0, +) / Double(k)
    for damp in [damping, damping * 10] {
      var a = [Double](repeating: 0, count: k * k)
      for i in 0..<k {
        for j in 0..<k {
          let (r, c) = (Swift.min(order[i], order[j]), Swift.max(order[i], order[j]))
          a[i * k + j] = h0[r * k + c]  // H is accumulated in its upper triangle
        }
        // An input never seen non-zero: decoupled from the others, no error passed on.
        if diag[order[i]] == 0 { a[i * k + i] = 1 }
        a[i * k + i] += damp * mean
      }
      guard let l = cholesky(a, k) else { continue }
      let inv = inverseFromCholesky(l, k)
      guard let l2 = cholesky(inv, k) else { continue }
      var u = [Double](repeating: 0, count: k * k)
      for i in 0..<k { for j in i..<k { u[i * k + j] = l2[j * k + i] } }
      return (order, u)
    }
    return nil
  }

  /// Lower-triangular L with L Lᵀ = a (row-major), nil if a is not positive definite.
  @_optimize(speed)
  static func cholesky(_ a: [Double], _ k: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: k * k)
    let ok = l.withUnsafeMutableBufferPointer { lb -> Bool in
      a.withUnsafeBufferPointer { ab in
        for j in 0..<k {
          var d = ab[j * k + j]
          for p in 0..<j { d -= lb[j * k + p] * lb[j * k + p] }
          guard d > 0, d.isFinite else { return false }
          let ljj = d.squareRoot()
          lb[j * k + j] = ljj
          for i in (j + 1)..<Swift.max(j + 1, k) {
            var s = ab[i * k + j]
            for p in 0..<j { s -= lb[i * k + p] * lb[j * k + p] }
            lb[i * k + j] = s / ljj
          }
        }
        return true
      }
    }
    return ok ? l : nil
  }

  /// a⁻¹ = L⁻ᵀ L⁻¹ from a's Cholesky factor L.
  @_optimize(speed)
  static func inverseFromCholesky(_ l: [Double], _ k: Int) -> [Double] {
    var m = [Double](repeating: 0, count: k * k)
    var inv = [Double](repeating: 0, count: k * k)
    l.withUnsafeBufferPointer { lb in
      m.withUnsafeMutableBufferPointer { mb in
        // M = L⁻¹ (lower triangular), row by row: M[i] = (e_i − Σ_{p<i} L[i][p] M[p]) / L[i][i].
        for i in 0..<k {
          let mi = mb.baseAddress! + i * k
          mi[i] = 1
          for p in 0..<i {
            let f = lb[i * k + p]
            if f == 0 { continue }
            let mp = mb.baseAddress! + p * k
            for c in 0...p { mi[c] -= f * mp[c] }
          }
          let d = 1 / lb[i * k + i]
          for c in 0...i { mi[c] *= d }
        }
        // inv[i][j] = Σ_p M[p][i] M[p][j] over p ≥ max(i, j); upper triangle, then mirrored.
        inv.withUnsafeMutableBufferPointer { ib in
          for p in 0..<k {
            let mp = mb.baseAddress! + p * k
            for i in 0...p {
              let f = mp[i]
              if f == 0 { continue }
              let row = ib.baseAddress! + i * k
              for j in i...p { row[j] += f * mp[j] }
            }
          }
          for i in 0..<k { for j in 0..<i { ib[i * k + j] = ib[j * k + i] } }
        }
      }
    }
    return inv
  }
}
