// Concatenation (TFLite CONCATENATION, int8, any axis of a rank 1...5
// tensor): bit-exact with TFLM, whose int8 kernel copies the input bytes
// (reference_ops::Concatenation, no requantization). TFLite's int8 kernel
// requires every input to share the output's scale and zero point; TFLM does
// not check it and would copy differently quantized bytes unchanged, so such
// models are refused here instead.
//
// Layout: with outer = product of the output dims before the axis and
// inner = product after it, the output is `outer` rows, each row the
// concatenation of input k's row of dims_k[axis] × inner bytes. With one row
// (outer = 1: axis 0, or only 1s before the axis, e.g. the channels of a
// 1×1×1×C map or the rows of a batch-1 [1, N, 4] box list) the inputs are
// placed in the output at load where the graph allows, and their producers
// write them there: no copy at run time.

/// Prepared concatenation: the row count and each input's bytes per row.
struct ConcatenationData {
  /// Product of the dimensions before the axis (the same for every tensor).
  var outer: Int
  var inputCount: Int
  /// Bytes per row of each input: dims_k[axis] × inner (`inputCount` entries).
  var rowBytes: UnsafePointer<Int>
  /// Bytes per output row: the sum of `rowBytes`.
  var outputRowBytes: Int
}

/// One input of an int8 concatenation (a byte copy): its `outer` rows of
/// `rowBytes` bytes go to the same column range of the output's `outer` rows
/// of `outputRowBytes` bytes; `output` points at that range in row 0 (the
/// output start plus the row bytes of the inputs before this one).
///
/// The op calls this for input 0, 1, … in turn, so output row r is input
/// 0's row r, then input 1's row r, and so on. Non-positive counts write
/// nothing.
public func concatenationCopyReference(
  outer: Int, rowBytes: Int, outputRowBytes: Int,
  input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>
) {
  guard outer > 0, rowBytes > 0, outputRowBytes >= rowBytes else { return }
  if outer == 1 || rowBytes == outputRowBytes {
    cnnrt_shim_memcpy(output, input, outer &* rowBytes)
    return
  }
  var src = input
  var dst = output
  for _ in 0..<outer {
    copyBytes(dst, src, rowBytes)
    src += rowBytes
    dst += outputRowBytes
  }
}

// MARK: - Op unit

/// CONCATENATION along `extra` (the axis, 0 ... rank − 1).
enum ConcatenationOp: RuntimeOp {
  static let name: StaticString = "Concatenation"
  static let arity = OpArity(inputs: 1...ModelFormat.maxOpInputs)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int {
    Int(plan.rec.inputCount) * MemoryLayout<Int>.stride
  }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ConcatenationData {
    try ctx.requireNoActivation()
    let output = ctx.output
    let outRec = ctx.tensorRecord(ctx.outputIndex(0))
    let rank = Int(outRec.rank)
    if ctx.rec.extra >= UInt32(rank) {
      throw ctx.fail(.badOp, "concatenation: axis (extra) must be 0 ... output rank - 1")
    }
    let axis = Int(ctx.rec.extra)
    let count = Int(ctx.rec.inputCount)
    let rowBytes = try ctx.allocate(bytes: count * MemoryLayout<Int>.stride)
      .bindMemory(to: Int.self, capacity: count)
    var outer = 1
    var inner = 1
    var d = 0
    while d < rank {
      if d < axis { outer *= Int(outRec.dim(d)) } else if d > axis { inner *= Int(outRec.dim(d)) }
      d += 1
    }
    var axisSum = 0
    var k = 0
    while k < count {
      let idx = ctx.inputIndex(k)
      if idx == ModelFormat.noTensor { throw ctx.fail(.badOp, "concatenation: missing input") }
      let t = ctx.tensor(Int(idx))
      if t.type != .int8 || t.quantKind != .perTensor {
        throw ctx.fail(.badOp, tensor: Int(idx), "concatenation inputs must be int8 with per-tensor quantization")
      }
      if !sameQuantization(t, output) {
        throw ctx.fail(.badOp, tensor: Int(idx), "concatenation inputs must have the output's scale and zero point")
      }
      let r = ctx.tensorRecord(Int(idx))
      if Int(r.rank) != rank { throw ctx.fail(.shapeMismatch, tensor: Int(idx), "concatenation inputs must have the output's rank") }
      d = 0
      while d < rank {
        if d != axis && r.dim(d) != outRec.dim(d) {
          throw ctx.fail(.shapeMismatch, tensor: Int(idx),
                         "concatenation inputs must equal the output in every dimension but the axis")
        }
        d += 1
      }
      axisSum += Int(r.dim(axis))   // <= 1024 inputs x 65536: no overflow
      rowBytes[k] = Int(r.dim(axis)) * inner
      k += 1
    }
    if axisSum != Int(outRec.dim(axis)) {
      throw ctx.fail(.shapeMismatch, "concatenation: output size along the axis must be the sum of the inputs'")
    }
    // One row (nothing but 1s before the axis): each input is one run of the
    // output's bytes, so the planner may let its producer write it there.
    if outer == 1 {
      var column = 0
      k = 0
      while k < count {
        ctx.placeInputInOutput(k, offset: column)
        column += rowBytes[k]
        k += 1
      }
    }
    return ConcatenationData(outer: outer, inputCount: count, rowBytes: UnsafePointer(rowBytes),
                             outputRowBytes: axisSum * inner)
  }

  static func eval(_ data: UnsafePointer<ConcatenationData>, _ ctx: OpEvalContext) {
    let d = data.pointee
    var column = 0
    var k = 0
    while k < d.inputCount {
      let n = d.rowBytes[k]
      // An input placed in the output (outer == 1, see prepare) is already there.
      if UnsafeRawPointer(ctx.input(k)) != UnsafeRawPointer(ctx.output + column) {
        concatenationCopyReference(outer: d.outer, rowBytes: n, outputRowBytes: d.outputRowBytes,
                                   input: ctx.input(k), output: ctx.output + column)
      }
      column &+= n
      k &+= 1
    }
  }
}

extension OpPrepareContext {
  /// The file record of tensor `i` (all its dimensions, rank 5 included).
  func tensorRecord(_ i: Int) -> TensorRecord {
    let s = state.pointee
    return TensorRecord.read(from: s.data + Int(s.header.tensorTableOffset) + i * ModelFormat.tensorRecordSize)
  }
}
