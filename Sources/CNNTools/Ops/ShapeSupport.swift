// Shared by the tools side of the byte-moving ops (StridedSlice, Transpose,
// DepthToSpace/SpaceToDepth, Split): the TFLite/ONNX index resolution, the
// float evaluation as a strided copy (the runtime's addressing, see
// CNNRuntime/Ops/StridedCopy.swift) and the NCHW → NHWC axis mapping.

import CNNRuntime

enum ShapeSupport {
  /// Row-major strides of `shape`.
  static func strides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for k in stride(from: shape.count - 1, through: 0, by: -1) { s[k] = acc; acc *= shape[k] }
    return s
  }

  /// Copies `x` to `out` in order over the axes `counts`, reading
  /// base + Σ i_k · steps[k].
  static func copy<T>(_ x: UnsafeBufferPointer<T>, base: Int, counts: [Int], steps: [Int], _ out: UnsafeMutableBufferPointer<T>) {
    var idx = [Int](repeating: 0, count: counts.count)
    var o = 0
    let total = counts.reduce(1, *)
    var src = base
    while o < total {
      out[o] = x[src]
      o += 1
      var k = counts.count - 1
      while k >= 0 {
        idx[k] += 1
        src += steps[k]
        if idx[k] < counts[k] { break }
        src -= steps[k] * counts[k]
        idx[k] = 0
        k -= 1
      }
    }
  }

  /// The input addressing of a strided slice ([first, step, count] per axis).
  static func sliceAddressing(_ shape: [Int], _ p: [Int]) -> (base: Int, counts: [Int], steps: [Int]) {
    let st = strides(shape)
    var base = 0, counts: [Int] = [], steps: [Int] = []
    for k in shape.indices {
      base += p[3 * k] * st[k]
      steps.append(p[3 * k + 1] * st[k])
      counts.append(p[3 * k + 2])
    }
    return (base, counts, steps)
  }

  /// The input addressing of a transpose.
  static func transposeAddressing(_ shape: [Int], _ perm: [Int]) -> (counts: [Int], steps: [Int]) {
    let st = strides(shape)
    return (perm.map { shape[$0] }, perm.map { st[$0] })
  }

  /// The input addressing of depth-to-space (`toSpace`) or space-to-depth on NHWC `x`.
  static func blockAddressing(_ x: [Int], block b: Int, toSpace: Bool) -> (counts: [Int], steps: [Int]) {
    let (n, h, w, c) = (x[0], x[1], x[2], x[3])
    if toSpace {
      let oc = c / (b * b)
      return ([n * h, b, w, b, oc], [w * c, b * oc, c, oc, 1])
    }
    let oh = h / b, ow = w / b
    return ([n * oh, ow, b, b, c], [b * w * c, b * c, w * c, c, 1])
  }

  /// TFLite STRIDED_SLICE (TFLM semantics: begin_mask, end_mask,
  /// shrink_axis_mask; negative indices count from the end) resolved to
  /// [first, step, count] per axis and the output shape (shrunk axes
  /// dropped). Throws a message when an axis is empty or a stride is 0.
  static func resolveStridedSlice(shape: [Int], begin: [Int], end: [Int], strides st: [Int], beginMask: Int,
                                  endMask: Int, shrinkMask: Int) throws -> (params: [Int], outShape: [Int]) {
    var params: [Int] = [], out: [Int] = []
    for k in shape.indices {
      let dim = shape[k], stride = st[k]
      guard stride != 0 else { throw ModelBuilderError.invalidOp("stride of axis \(k) is 0") }
      var start = begin[k]
      if start < 0 { start += dim }
      start = stride > 0 ? min(max(start, 0), dim) : min(max(start, -1), dim - 1)
      if beginMask & (1 << k) != 0 { start = stride > 0 ? 0 : dim - 1 }
      var stop: Int
      let shrink = shrinkMask & (1 << k) != 0
      if shrink {
        stop = start >= dim ? start : start + 1
      } else {
        stop = end[k]
        if stop < 0 { stop += dim }
        stop = stride > 0 ? min(max(stop, 0), dim) : min(max(stop, -1), dim - 1)
        if endMask & (1 << k) != 0 { stop = stride > 0 ? dim : -1 }
      }
      let count = stride > 0 ? (stop - start + stride - 1) / stride : (start - stop + (-stride) - 1) / (-stride)
      guard count >= 1, start >= 0, start < dim else {
        throw ModelBuilderError.invalidOp("axis \(k) of \(shape) is empty (begin \(begin[k]), end \(end[k]), stride \(stride))")
      }
      params += [start, stride, count]
      if !shrink { out.append(count) }
    }
    return (params, out)
  }

  /// ONNX axis → FloatGraph axis of a value stored in `layout`.
  static func storedAxis(_ a: Int, _ layout: ONNXImporter.Layout) -> Int? {
    switch layout {
    case .plain: return a
    case .nhwc: return [0, 3, 1, 2][a]
    case .flattenedNHWC: return nil
    }
  }
}
