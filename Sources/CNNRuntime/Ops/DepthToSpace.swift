// DepthToSpace and SpaceToDepth (TFLite DEPTH_TO_SPACE / SPACE_TO_DEPTH,
// ONNX DepthToSpace in DCR mode / SpaceToDepth) of rank-4 NHWC tensors; the
// block size b is in the record's stride H and stride W (equal, >= 1).
// TFLite's layout (TFLM reference_ops):
//   DepthToSpace: out[n, h·b + i, w·b + j, c] = in[n, h, w, (i·b + j)·C_out + c]
//   SpaceToDepth: out[n, h, w, (i·b + j)·C_in + c] = in[n, h·b + i, w·b + j, c]

/// The block size of a depth/space op (stride H = stride W, 1 … 4096).
private func blockSize(_ ctx: OpPrepareContext) throws(LoadError) -> Int {
  let r = ctx.rec
  if r.strideH != r.strideW || r.strideH < 1 || r.strideH > Int32(ModelFormat.maxSpatialParameter) {
    throw ctx.fail(.badOp, "block size (stride H = stride W) must be 1 to 4096")
  }
  if r.dilationH != 1 || r.dilationW != 1 || r.filterH != 0 || r.filterW != 0 || r.extra != 0 {
    throw ctx.fail(.badOp, "dilation, filter and extra fields must keep their defaults")
  }
  return Int(r.strideH)
}

enum DepthToSpaceOp: RuntimeOp {
  static let name: StaticString = "DepthToSpace"
  static let arity = OpArity(inputs: 1...1)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> StridedCopy {
    let input = try ctx.activationInput(0, rank4: true)
    let output = ctx.output
    try ctx.requireRank4Output()
    try ctx.requireNoActivation()
    try ctx.requireSameQuantization(input, output)
    let b = try blockSize(ctx)
    let d = input.dims
    if d.c % (b * b) != 0 { throw ctx.fail(.shapeMismatch, "depth to space: channels must be a multiple of block size squared") }
    let oc = d.c / (b * b)
    let o = output.dims
    if o.n != d.n || o.h != d.h * b || o.w != d.w * b || o.c != oc {
      throw ctx.fail(.shapeMismatch, "depth to space: output must be [N, H*b, W*b, C/(b*b)]")
    }
    var c = Ints5(), s = Ints5()
    c[0] = d.n * d.h; s[0] = d.w * d.c
    c[1] = b; s[1] = b * oc
    c[2] = d.w; s[2] = d.c
    c[3] = b; s[3] = oc
    c[4] = oc; s[4] = 1
    let copy = StridedCopy(base: 0, counts: c, steps: s)
    try ctx.checkCopy(copy, input: input, output: output)
    return copy
  }

  static func eval(_ data: UnsafePointer<StridedCopy>, _ ctx: OpEvalContext) {
    stridedCopyReference(data.pointee, input: ctx.input(0), output: ctx.output)
  }
}

enum SpaceToDepthOp: RuntimeOp {
  static let name: StaticString = "SpaceToDepth"
  static let arity = OpArity(inputs: 1...1)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> StridedCopy {
    let input = try ctx.activationInput(0, rank4: true)
    let output = ctx.output
    try ctx.requireRank4Output()
    try ctx.requireNoActivation()
    try ctx.requireSameQuantization(input, output)
    let b = try blockSize(ctx)
    let d = input.dims
    if d.h % b != 0 || d.w % b != 0 {
      throw ctx.fail(.shapeMismatch, "space to depth: height and width must be multiples of the block size")
    }
    let oh = d.h / b, ow = d.w / b
    let o = output.dims
    if o.n != d.n || o.h != oh || o.w != ow || o.c != d.c * b * b {
      throw ctx.fail(.shapeMismatch, "space to depth: output must be [N, H/b, W/b, C*b*b]")
    }
    var c = Ints5(), s = Ints5()
    c[0] = d.n * oh; s[0] = b * d.w * d.c
    c[1] = ow; s[1] = b * d.c
    c[2] = b; s[2] = d.w * d.c
    c[3] = b; s[3] = d.c
    c[4] = d.c; s[4] = 1
    let copy = StridedCopy(base: 0, counts: c, steps: s)
    try ctx.checkCopy(copy, input: input, output: output)
    return copy
  }

  static func eval(_ data: UnsafePointer<StridedCopy>, _ ctx: OpEvalContext) {
    stridedCopyReference(data.pointee, input: ctx.input(0), output: ctx.output)
  }
}
