// Broadcasting of two inputs to an output (TFLite / NumPy rules), shared by
// the elementwise binary ops (Mul, Sub, Maximum, Minimum). Shapes of up to
// rank 5 are right-aligned and padded with 1s; along each dimension an input
// either has the output's extent or 1 (then it is repeated, stride 0).
//
// The plan is made once at load: dimensions of extent 1 are dropped and
// neighbouring dimensions that both inputs walk the same way are merged, so
// a same-shape op is one row of N elements, an SE gate [1,1,1,C] over
// [1,H,W,C] is H·W rows of C with the gate's stride 0 along the rows, and a
// [1,H,W,1] factor over [1,H,W,C] is H·W rows of C with the factor's
// stride 0 along each row. The run-time loop then only walks rows.

/// Five extents or strides, outermost first (also Ints5, the byte-moving
/// ops' axis tables).
public struct Dims5: Equatable, Sendable {
  public var v: (Int, Int, Int, Int, Int)

  @inline(__always)
  public init(_ a: Int, _ b: Int, _ c: Int, _ d: Int, _ e: Int) { v = (a, b, c, d, e) }

  /// All five 0.
  @inline(__always)
  public init() { v = (0, 0, 0, 0, 0) }

  @inline(__always)
  public subscript(_ i: Int) -> Int {
    get {
      switch i {
      case 0: return v.0
      case 1: return v.1
      case 2: return v.2
      case 3: return v.3
      default: return v.4
      }
    }
    set {
      switch i {
      case 0: v.0 = newValue
      case 1: v.1 = newValue
      case 2: v.2 = newValue
      case 3: v.3 = newValue
      default: v.4 = newValue
      }
    }
  }

  public static func == (a: Dims5, b: Dims5) -> Bool {
    a.v.0 == b.v.0 && a.v.1 == b.v.1 && a.v.2 == b.v.2 && a.v.3 == b.v.3 && a.v.4 == b.v.4
  }

  /// `shape` (rank 1...5, given as its first `rank` entries) right-aligned and padded with 1s.
  @inline(__always)
  public static func padded(_ shape: Dims5, rank: Int) -> Dims5 {
    var d = Dims5(1, 1, 1, 1, 1)
    var k = 0
    while k < rank {
      d[5 - rank + k] = shape[k]
      k += 1
    }
    return d
  }
}

/// How two inputs are walked to produce the output: up to five (merged)
/// output dimensions and each input's element stride along them (0 where
/// the input is repeated). The innermost dimension is the row; an input's
/// row stride is 1 or 0.
public struct BroadcastPlan: Equatable, Sendable {
  /// Output extents of the merged dimensions, outermost first (unused outer
  /// entries are 1).
  public var extents: Dims5
  public var strides1: Dims5
  public var strides2: Dims5

  /// Row length (the innermost merged extent).
  @inline(__always) public var rowLength: Int { extents[4] }
  /// Both inputs are contiguous along the row.
  @inline(__always) public var rowsContiguous: Bool { strides1[4] == 1 && strides2[4] == 1 }
  /// The whole op is one contiguous row (same shapes, after merging).
  @inline(__always) public var isElementwise: Bool {
    rowsContiguous && extents[0] == 1 && extents[1] == 1 && extents[2] == 1 && extents[3] == 1
  }

  /// The plan for inputs `a`, `b` and output `out` (each right-aligned and
  /// padded to five dimensions, every extent >= 1), or nil when an input
  /// does not broadcast to the output: along every dimension an input's
  /// extent must equal the output's or be 1, and the output's must be the
  /// larger of the two (an output larger than both inputs is refused, as
  /// TFLite computes the output shape from the inputs).
  public init?(a: Dims5, b: Dims5, out: Dims5) {
    var k = 0
    while k < 5 {
      let x = a[k], y = b[k], o = out[k]
      if x < 1 || y < 1 || o < 1 { return nil }
      if (x != o && x != 1) || (y != o && y != 1) || o != (x > y ? x : y) { return nil }
      k += 1
    }
    // Contiguous strides of each input, 0 along repeated dimensions.
    var sa = Dims5(0, 0, 0, 0, 0), sb = Dims5(0, 0, 0, 0, 0)
    var ma = 1, mb = 1
    k = 4
    while k >= 0 {
      sa[k] = a[k] == 1 ? 0 : ma
      sb[k] = b[k] == 1 ? 0 : mb
      ma = ma &* a[k]
      mb = mb &* b[k]
      k -= 1
    }
    // Merge, innermost first: drop extent-1 dimensions; fold dimension k into
    // the current innermost-so-far one when both inputs continue it
    // (stride_k = stride_inner × extent_inner for each input).
    var e = Dims5(1, 1, 1, 1, 1), s1 = Dims5(0, 0, 0, 0, 0), s2 = Dims5(0, 0, 0, 0, 0)
    var slot = 4
    var filled = false
    k = 4
    while k >= 0 {
      let o = out[k]
      if o != 1 {
        if filled && sa[k] == s1[slot] &* e[slot] && sb[k] == s2[slot] &* e[slot] {
          e[slot] = e[slot] &* o
        } else {
          if filled { slot -= 1 }
          e[slot] = o
          s1[slot] = sa[k]
          s2[slot] = sb[k]
          filled = true
        }
      }
      k -= 1
    }
    if !filled {  // a single element
      s1[4] = 1
      s2[4] = 1
    }
    extents = e
    strides1 = s1
    strides2 = s2
  }

  public static func == (x: BroadcastPlan, y: BroadcastPlan) -> Bool {
    x.extents == y.extents && x.strides1 == y.strides1 && x.strides2 == y.strides2
  }

  /// Calls `row(offset1, offset2, outputOffset)` for each row, in output
  /// order; the row has `rowLength` elements, input i advancing by
  /// strides_i[4] (0 or 1) per element and the output by 1.
  @inline(__always)
  public func forEachRow(_ row: (Int, Int, Int) -> Void) {
    let e = extents, s1 = strides1, s2 = strides2
    let n = e[4]
    var o = 0
    var i0 = 0
    while i0 < e[0] {
      var i1 = 0
      while i1 < e[1] {
        var i2 = 0
        while i2 < e[2] {
          var i3 = 0
          while i3 < e[3] {
            let a = i0 &* s1[0] &+ i1 &* s1[1] &+ i2 &* s1[2] &+ i3 &* s1[3]
            let b = i0 &* s2[0] &+ i1 &* s2[1] &+ i2 &* s2[2] &+ i3 &* s2[3]
            row(a, b, o)
            o &+= n
            i3 &+= 1
          }
          i2 &+= 1
        }
        i1 &+= 1
      }
      i0 &+= 1
    }
  }
}

extension BroadcastPlan {
  /// Which input (0 or 1) is one row repeated for every output row while
  /// the other is contiguous over the whole output (a per-channel
  /// [1,1,1,C] operand or SE gate over [1,H,W,C]), or nil (same shapes
  /// after merging, or another broadcast).
  public var repeatedRowInput: Int? {
    guard rowsContiguous, !isElementwise else { return nil }
    var flat1 = true, flat2 = true, rep1 = true, rep2 = true
    var m = extents[4]
    var k = 3
    while k >= 0 {
      if extents[k] != 1 {
        flat1 = flat1 && strides1[k] == m
        flat2 = flat2 && strides2[k] == m
        rep1 = rep1 && strides1[k] == 0
        rep2 = rep2 && strides2[k] == 0
      }
      m = m &* extents[k]
      k -= 1
    }
    return rep1 && flat2 ? 0 : rep2 && flat1 ? 1 : nil
  }

  /// Elements of the output.
  public var outputCount: Int { extents[0] &* extents[1] &* extents[2] &* extents[3] &* extents[4] }
}

/// Terms per row position held at once by `withRepeatedRowTerms`.
let repeatedRowTermCapacity = 512

/// Walks an op whose one input is a row of `n` values repeated over the
/// other's `total / n` rows, with one stack buffer of per-position int32
/// terms (2,176 bytes, no allocation): `fill(c0, L, terms)` writes the
/// terms of row positions c0 ..< c0 + L into terms[0 ..< L]; `run(rows,
/// count, stride, offset, terms)` then processes `rows` spans of `count`
/// elements, `stride` apart, starting at element `offset`, lane j of a
/// span reading terms[j]. Rows of up to 512 are repeated in the buffer to a
/// whole number of rows (a multiple of 32 elements where that fits), so
/// short rows run as long spans; longer rows go in chunks of 512 positions.
/// Every span is at most 512 elements, and the buffer holds 544 terms: a
/// kernel may read up to the span's length rounded up to 64 (any values there).
@inline(__always)
func withRepeatedRowTerms(rowLength n: Int, total: Int, _ fill: (Int, Int, UnsafeMutablePointer<Int32>) -> Void,
                          _ run: (Int, Int, Int, Int, UnsafePointer<Int32>) -> Void) {
  guard n > 0, total > 0 else { return }
  let cap = repeatedRowTermCapacity
  var storage = (SIMD64<Int32>(), SIMD64<Int32>(), SIMD64<Int32>(), SIMD64<Int32>(),
                 SIMD64<Int32>(), SIMD64<Int32>(), SIMD64<Int32>(), SIMD64<Int32>(), SIMD32<Int32>())
  withUnsafeMutableBytes(of: &storage) { raw in
    let t = raw.baseAddress!.assumingMemoryBound(to: Int32.self)
    if n <= cap {
      var g = n, b = 32
      while b != 0 { (g, b) = (b, g % b) }
      let unit = n &* (32 / g)  // the least multiple of n that is a multiple of 32
      let period = unit <= cap ? unit &* (cap / unit) : n &* (cap / n)
      fill(0, n, t)
      var j = n
      while j < period { t[j] = t[j &- n]; j &+= 1 }
      let spans = total / period, rest = total &- spans &* period
      if spans > 0 { run(spans, period, period, 0, t) }
      if rest > 0 { run(1, rest, rest, spans &* period, t) }
    } else {
      var c0 = 0
      while c0 < n {
        let count = min(cap, n &- c0)
        fill(c0, count, t)
        run(total / n, count, n, c0, t)
        c0 &+= count
      }
    }
  }
}

/// Elementwise binary op over a broadcast plan: out[i] = f(a[ia], b[ib]) in
/// output order (the reference loop of Mul, Sub, Maximum and Minimum).
@inline(__always)
func broadcastBinary(_ plan: BroadcastPlan, _ input1: UnsafePointer<Int8>, _ input2: UnsafePointer<Int8>,
                     _ output: UnsafeMutablePointer<Int8>, _ f: (Int8, Int8) -> Int8) {
  let n = plan.rowLength
  let st1 = plan.strides1[4], st2 = plan.strides2[4]
  plan.forEachRow { a, b, o in
    var j = 0
    var ia = a, ib = b
    while j < n {
      output[o &+ j] = f(input1[ia], input2[ib])
      ia &+= st1
      ib &+= st2
      j &+= 1
    }
  }
}

// MARK: - Load time

extension OpPrepareContext {
  /// Shape of tensor `t` as stored (rank 1...5), right-aligned in five dimensions.
  func paddedShape(_ t: Int) -> Dims5 {
    let r = TensorRecord.read(from: state.pointee.data + Int(state.pointee.header.tensorTableOffset)
                                + t * ModelFormat.tensorRecordSize)
    let rank = Int(r.rank)
    var d = Dims5(1, 1, 1, 1, 1)
    var k = 0
    while k < rank && k < 5 {
      d[5 - rank + k] = Int(r.dim(k))
      k += 1
    }
    return d
  }

  /// Input `k` of a binary elementwise op: an activation or a constant, int8
  /// with per-tensor quantization.
  func int8Operand(_ k: Int) throws(LoadError) -> (TensorInfo, Int) {
    let idx = inputIndex(k)
    if idx == ModelFormat.noTensor { throw fail(.badOp, "missing required input") }
    let t = tensor(Int(idx))
    if t.type != .int8 { throw fail(.badOp, tensor: Int(idx), "input must be an int8 tensor") }
    if t.quantKind != .perTensor {
      throw fail(.badOp, tensor: Int(idx), "input must have one scale and zero point (per-tensor quantization)")
    }
    return (t, Int(idx))
  }

  /// The broadcast plan of inputs 0 and 1 to the output, or a load error.
  func binaryBroadcastPlan() throws(LoadError) -> BroadcastPlan {
    let a = paddedShape(Int(inputIndex(0))), b = paddedShape(Int(inputIndex(1)))
    let out = paddedShape(outputIndex(0))
    guard let plan = BroadcastPlan(a: a, b: b, out: out) else {
      throw fail(.shapeMismatch, tensor: outputIndex(0),
                 "inputs must broadcast to the output (each dimension equal to the output's or 1, the output's the larger)")
    }
    return plan
  }
}
