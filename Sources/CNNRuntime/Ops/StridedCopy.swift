// Shared by the byte-moving ops (StridedSlice, Transpose, DepthToSpace,
// SpaceToDepth, Split): each is prepared at load into one "strided copy" —
// the output is written in order over five nested axes, and the input byte
// read for output position (i0 … i4) is base + Σ i_k × step_k (steps may be
// negative). The load-time check that every such offset lies inside the
// input, and that the counts multiply to the output's size, is what keeps
// every kernel in bounds; the kernel itself only copies bytes (no arithmetic
// on values: input and output share quantization).

/// Five integers (an axis table); unused leading axes are count 1, step 0.
/// The same five-slot type as broadcasting's extents and strides.
public typealias Ints5 = Dims5

/// The addressing of one byte-moving output, checked at load.
public struct StridedCopy {
  /// Input offset of output element 0.
  public var base: Int
  /// Output extent along each of the five axes (each >= 1).
  public var counts: Ints5
  /// Input offset change per step along each axis.
  public var steps: Ints5

  public init(base: Int, counts: Ints5, steps: Ints5) {
    self.base = base; self.counts = counts; self.steps = steps
  }

  /// Whether every read lies in [0, inputCount) and the counts multiply to
  /// `outputCount`; overflow-safe.
  public func isValid(inputCount: Int, outputCount: Int) -> Bool {
    var lo = base, hi = base, total = 1
    var k = 0
    while k < 5 {
      let n = counts[k]
      if n < 1 { return false }
      let (t, o1) = total.multipliedReportingOverflow(by: n)
      if o1 { return false }
      total = t
      let (span, o2) = (n - 1).multipliedReportingOverflow(by: steps[k])
      if o2 { return false }
      if span < 0 {
        let (l, o3) = lo.addingReportingOverflow(span)
        if o3 { return false }
        lo = l
      } else {
        let (h, o3) = hi.addingReportingOverflow(span)
        if o3 { return false }
        hi = h
      }
      k += 1
    }
    return lo >= 0 && hi < inputCount && total == outputCount
  }
}

/// Copies `count` bytes from `src` to `dst` (non-overlapping): libc's
/// memcpy from 16 bytes up, a byte loop below, where the call would cost more
/// than the copy. The byte-moving ops use this rather than
/// `UnsafeMutablePointer.update(from:count:)`, which the Embedded Swift
/// library build compiles to one value-witness call per byte (NASNetMobile's
/// 32×32×32 Pad took 48 µs that way, under 1 µs with memcpy).
@inline(__always)
func copyBytes(_ dst: UnsafeMutablePointer<Int8>, _ src: UnsafePointer<Int8>, _ count: Int) {
  if count >= 16 {
    cnnrt_shim_memcpy(dst, src, count)
  } else {
    var i = 0
    while i < count { dst[i] = src[i]; i &+= 1 }
  }
}

/// Copies the bytes `copy` addresses from `input` to `output` (which
/// receives counts[0] × … × counts[4] bytes, in order). The caller has
/// checked `copy.isValid`.
public func stridedCopyReference(_ copy: StridedCopy, input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) {
  let c = copy.counts, s = copy.steps
  let n4 = c[4], s4 = s[4]
  var dst = output
  var o0 = copy.base
  for _ in 0..<c[0] {
    var o1 = o0
    for _ in 0..<c[1] {
      var o2 = o1
      for _ in 0..<c[2] {
        var o3 = o2
        for _ in 0..<c[3] {
          if s4 == 1 {
            copyBytes(dst, input + o3, n4)
            dst += n4
          } else {
            var o4 = o3
            for _ in 0..<n4 {
              dst.pointee = input[o4]
              dst += 1
              o4 &+= s4
            }
          }
          o3 &+= s[3]
        }
        o2 &+= s[2]
      }
      o1 &+= s[1]
    }
    o0 &+= s[0]
  }
}

/// A tensor's full shape (up to rank 5), from its record.
struct FullShape {
  var rank: Int
  var dims: Ints5

  /// Row-major element strides of the dimensions.
  var strides: Ints5 {
    var s = Ints5()
    var acc = 1
    var k = rank - 1
    while k >= 0 {
      s[k] = acc
      acc = acc &* dims[k]
      k -= 1
    }
    return s
  }

  /// Dimensions equal after dropping every 1 (a shape the same bytes fill
  /// in the same order).
  func sameIgnoringOnes(_ other: Ints5, rank otherRank: Int) -> Bool {
    var i = 0, j = 0
    while true {
      while i < rank && dims[i] == 1 { i += 1 }
      while j < otherRank && other[j] == 1 { j += 1 }
      if i == rank || j == otherRank { return i == rank && j == otherRank }
      if dims[i] != other[j] { return false }
      i += 1; j += 1
    }
  }
}

extension OpPrepareContext {
  /// Full shape of tensor `t` (the record was checked in pass 1).
  func fullShape(_ t: Int) -> FullShape {
    let s = state.pointee
    let r = TensorRecord.read(from: s.data + Int(s.header.tensorTableOffset) + t * ModelFormat.tensorRecordSize)
    var d = Ints5()
    var k = 0
    while k < Int(r.rank) {
      d[k] = Int(r.dim(k))
      k += 1
    }
    return FullShape(rank: Int(r.rank), dims: d)
  }

  /// Constant int32 input `k` holding exactly `count` values, or nil.
  func int32Constant(_ k: Int, count: Int) -> UnsafeRawPointer? {
    guard let t = constantInput(k), let p = t.constData, t.type == .int32, t.count == count else { return nil }
    return p
  }

  /// The input and output of a byte-moving op share quantization (TFLM
  /// copies the bytes).
  func requireSameQuantization(_ input: TensorInfo, _ output: TensorInfo) throws(LoadError) {
    if input.type != .int8 || output.type != .int8 || !sameQuantization(input, output) {
      throw fail(.badOp, "input and output must be int8 with the same scale and zero point")
    }
  }

  /// Input 0 and the output of a byte-moving op that keeps the rank
  /// (transpose, tile): an activation in, no fused activation, one
  /// quantization, equal ranks; with their full shapes.
  func sameRankByteMove() throws(LoadError) -> (input: TensorInfo, output: TensorInfo, shape: FullShape, out: FullShape) {
    let input = try activationInput(0)
    let output = self.output
    try requireNoActivation()
    try requireSameQuantization(input, output)
    let shape = fullShape(Int(inputIndex(0)))
    let out = fullShape(outputIndex(0))
    if out.rank != shape.rank { throw fail(.shapeMismatch, "output rank differs from the input's") }
    return (input, output, shape, out)
  }

  /// Checks `copy` against the input's and output `k`'s sizes.
  func checkCopy(_ copy: StridedCopy, input: TensorInfo, output: TensorInfo) throws(LoadError) {
    if !copy.isValid(inputCount: input.count, outputCount: output.count) {
      throw fail(.shapeMismatch, "output does not address the input inside its bounds")
    }
  }
}

/// Axis table padded on the left to five axes (count 1, step 0).
func padded(counts: Ints5, steps: Ints5, rank: Int) -> (Ints5, Ints5) {
  var c = Ints5(), s = Ints5()
  var k = 0
  while k < 5 {
    let src = k - (5 - rank)
    c[k] = src >= 0 ? counts[src] : 1
    s[k] = src >= 0 ? steps[src] : 0
    k += 1
  }
  return (c, s)
}
