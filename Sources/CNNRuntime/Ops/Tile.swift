// Tile (TFLite TILE, ONNX Tile with constant repeats): output dimension k is
// input dimension k × multiples[k] (input 1, constant int32 [rank], each
// >= 1), the input repeated along every axis; bytes are copied, as
// LiteRT's reference_ops Tile does for int8 (TFLite Micro has no TILE
// kernel). Input and output share quantization.

/// The addressing of a tile, rank 1–5 padded to five axes (leading axes 1).
public struct TileCopy {
  public var inDims = Ints5()
  public var outDims = Ints5()
  /// Row-major input strides.
  public var strides = Ints5()

  public init() {}
}

/// Writes the output row-major; output position (o0 … o4) reads input
/// position (o0 mod d0, …, o4 mod d4), the innermost input row copied
/// whole multiples[4] times. Shapes checked at load (dims >= 1, out = in ×
/// multiples).
public func tileReference(_ t: TileCopy, input: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int8>) {
  let row = t.inDims[4]
  var o = 0
  for a in 0..<t.outDims[0] {
    let pa = (a % t.inDims[0]) &* t.strides[0]
    for b in 0..<t.outDims[1] {
      let pb = pa &+ (b % t.inDims[1]) &* t.strides[1]
      for c in 0..<t.outDims[2] {
        let pc = pb &+ (c % t.inDims[2]) &* t.strides[2]
        for d in 0..<t.outDims[3] {
          let pd = pc &+ (d % t.inDims[3]) &* t.strides[3]
          var e = 0
          while e < t.outDims[4] {
            for i in 0..<row { output[o &+ i] = input[pd &+ i] }
            o &+= row
            e &+= row
          }
        }
      }
    }
  }
}

// MARK: - Op unit

enum TileOp: RuntimeOp {
  static let name: StaticString = "Tile"
  static let arity = OpArity(inputs: 2...2)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> TileCopy {
    let (_, _, shape, out) = try ctx.sameRankByteMove()
    let r = shape.rank
    guard let m = ctx.int32Constant(1, count: r) else {
      throw ctx.fail(.badOp, "tile: input 1 must be a constant int32 tensor with one multiple per input dimension")
    }
    let strides = shape.strides
    var t = TileCopy()
    var k = 0
    while k < 5 {
      let src = k - (5 - r)
      if src < 0 {
        t.inDims[k] = 1; t.outDims[k] = 1; t.strides[k] = 0
      } else {
        let times = Int(readLE(m, 4 * src, as: Int32.self))
        let d = shape.dims[src]
        if times < 1 { throw ctx.fail(.badOp, "tile: every multiple must be at least 1") }
        let (want, overflow) = d.multipliedReportingOverflow(by: times)
        if d < 1 || overflow || out.dims[src] != want {
          throw ctx.fail(.shapeMismatch, "tile: output dimension k must be input dimension k times multiples[k]")
        }
        t.inDims[k] = d; t.outDims[k] = want; t.strides[k] = strides[src]
      }
      k += 1
    }
    return t
  }

  static func eval(_ data: UnsafePointer<TileCopy>, _ ctx: OpEvalContext) {
    tileReference(data.pointee, input: ctx.input(0), output: ctx.output)
  }
}
