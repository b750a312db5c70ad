// Gather (TFLite GATHER with batch_dims 0, ONNX Gather) with constant
// indices: input 1 is a constant int32 tensor of indices along the axis in
// `extra`, each in [0, dim) (checked at load); the output is
// input[:axis] + indices' shape + input[axis + 1:]. Bytes are copied, as
// TFLM's gather does for int8. Indices that interleave two halves of the
// axis (ShuffleNet's channel shuffle) run `interleaveHalves`.

#if canImport(_CNNKernelsAVX2)
import _CNNKernelsAVX2
#endif
#if canImport(_CNNKernelsNEON)
import _CNNKernelsNEON
#endif

struct GatherData {
  var outer: Int
  var axisSize: Int
  var inner: Int
  var indices: UnsafeRawPointer
  var count: Int
  /// n > 0 when the indices interleave two runs of n: output 2j reads
  /// input j, output 2j + 1 reads input n + j (one byte each; ShuffleNet's
  /// channel shuffle of two groups), else 0.
  var interleaveHalf: Int
  /// The model's kernel path (the AVX2 interleave on x86).
  var isa: Int32
}

enum GatherOp: RuntimeOp {
  static let name: StaticString = "Gather"
  static let arity = OpArity(inputs: 2...2)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> GatherData {
    let input = try ctx.activationInput(0)
    let output = ctx.output
    try ctx.requireNoActivation()
    try ctx.requireSameQuantization(input, output)
    let shape = ctx.fullShape(Int(ctx.inputIndex(0)))
    if ctx.rec.extra >= UInt32(shape.rank) { throw ctx.fail(.badOp, "gather: axis (extra) must be below the input rank") }
    let axis = Int(ctx.rec.extra)
    guard let idx = ctx.constantInput(1), let p = idx.constData, idx.type == .int32 else {
      throw ctx.fail(.badOp, "gather: input 1 must be a constant int32 tensor of indices")
    }
    let ishape = ctx.fullShape(Int(ctx.inputIndex(1)))
    let size = shape.dims[axis]
    var k = 0
    while k < idx.count {
      let v = Int(readLE(p, 4 * k, as: Int32.self))
      if v < 0 || v >= size { throw ctx.fail(.shapeMismatch, "gather: index outside the input along the axis") }
      k += 1
    }
    // Output shape: input[:axis] + indices + input[axis + 1:] (a scalar index drops the axis).
    let out = ctx.fullShape(ctx.outputIndex(0))
    let scalar = ishape.rank == 1 && ishape.dims[0] == 1 && out.rank == shape.rank - 1
    let expectedRank = scalar ? shape.rank - 1 : shape.rank - 1 + ishape.rank
    if out.rank != expectedRank { throw ctx.fail(.shapeMismatch, "gather: output rank must be input rank - 1 + indices rank") }
    var j = 0
    var d = 0
    while d < shape.rank {
      if d == axis {
        if !scalar {
          var i = 0
          while i < ishape.rank {
            if out.dims[j] != ishape.dims[i] { throw ctx.fail(.shapeMismatch, "gather: output must be input[:axis] + indices + input[axis+1:]") }
            i += 1; j += 1
          }
        }
      } else {
        if out.dims[j] != shape.dims[d] { throw ctx.fail(.shapeMismatch, "gather: output must be input[:axis] + indices + input[axis+1:]") }
        j += 1
      }
      d += 1
    }
    var outer = 1, inner = 1
    d = 0
    while d < axis { outer *= shape.dims[d]; d += 1 }
    d = axis + 1
    while d < shape.rank { inner *= shape.dims[d]; d += 1 }
    if outer * idx.count * inner != output.count { throw ctx.fail(.shapeMismatch, "gather: output size differs") }
    var half = inner == 1 && idx.count == size && size % 2 == 0 ? size / 2 : 0
    k = 0
    while half > 0 && k < idx.count {
      if Int(readLE(p, 4 * k, as: Int32.self)) != (k % 2 == 0 ? k / 2 : half + k / 2) { half = 0 }
      k += 1
    }
    return GatherData(outer: outer, axisSize: size, inner: inner, indices: p, count: idx.count, interleaveHalf: half,
                      isa: ctx.isa)
  }

  static func eval(_ data: UnsafePointer<GatherData>, _ ctx: OpEvalContext) {
    let g = data.pointee
    let src = ctx.input(0)
    var dst = ctx.output
    if g.interleaveHalf > 0 {
      interleaveHalves(isa: g.isa, rows: g.outer, half: g.interleaveHalf, input: src, output: dst)
      return
    }
    if g.inner == 1 {
      // One byte per index (a channel gather such as ShuffleNet's channel
      // shuffle): a load per byte instead of a copy call per byte.
      for o in 0..<g.outer {
        let row = src + o &* g.axisSize
        for j in 0..<g.count { dst[j] = row[Int(readLE(g.indices, 4 * j, as: Int32.self))] }
        dst += g.count
      }
      return
    }
    for o in 0..<g.outer {
      for j in 0..<g.count {
        let k = Int(readLE(g.indices, 4 * j, as: Int32.self))
        copyBytes(dst, src + (o &* g.axisSize &+ k) &* g.inner, g.inner)
        dst += g.inner
      }
    }
  }
}

/// `rows` rows of 2 × `half` bytes, each written as its two halves
/// interleaved: out[2j] = in[j], out[2j + 1] = in[half + j]. The AVX2 kernel
/// (InterleaveAVX2.swift, also on the AVX-512 path; halves of 16 or more),
/// the NEON one (both Arm paths, ChannelOpsNEON.swift; the same halves) or
/// a loop.
func interleaveHalves(isa: Int32, rows: Int, half n: Int, input: UnsafePointer<Int8>,
                      output: UnsafeMutablePointer<Int8>) {
  #if canImport(_CNNKernelsNEON) && arch(arm64)
  if isArmISA(isa) && n >= 16 {
    cnnrtInterleave2Arm(rows, n, input, output)
    return
  }
  #endif
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if (isa == KernelISA.avx2 || isa == KernelISA.avx512) && n >= 16 {
    cnnrtInterleave2AVX2(rows, n, input, output)
    return
  }
  #endif
  var r = 0
  while r < rows {
    let a = input + r &* 2 &* n, b = a + n, out = output + r &* 2 &* n
    var j = 0
    while j < n {
      out[2 &* j] = a[j]
      out[2 &* j &+ 1] = b[j]
      j &+= 1
    }
    r &+= 1
  }
}
