// PReLU (TFLite PRELU, int8): TFLM reference_ops::BroadcastPrelu4DSlow /
// Prelu. alpha (input 1) is a constant int8 tensor with per-tensor
// quantization whose shape broadcasts to the input's (each dimension equal
// or 1; Keras PReLU with shared_axes=[1, 2] gives one alpha per channel).
//
// At load: (M_1, s_1) = QuantizeMultiplier(double(s_in) / double(s_out)),
// (M_2, s_2) = QuantizeMultiplier(double(s_in) × double(s_a) / double(s_out)).
// Per element, d = x - zp_in:
//   d >= 0: out = MultiplyByQuantizedMultiplier(d, M_1, s_1)
//   d <  0: out = MultiplyByQuantizedMultiplier(d × (a - zp_a), M_2, s_2)
// then out + zp_out clamped to [-128, 127]. |d × (a - zp_a)| <= 255² < 2^16.

/// PReLU parameters (from `PreluOp.prepare`).
public struct PreluParams {
  public var inputZeroPoint: Int32
  public var alphaZeroPoint: Int32
  public var outputZeroPoint: Int32
  public var identityMultiplier: Int32
  public var identityShift: Int32
  public var alphaMultiplier: Int32
  public var alphaShift: Int32
}

@inline(__always)
func preluElement(_ p: PreluParams, _ x: Int8, _ a: Int8) -> Int8 {
  let d = Int32(x) &- p.inputZeroPoint
  let v: Int32
  if d >= 0 {
    v = multiplyByQuantizedMultiplier(d, p.identityMultiplier, p.identityShift)
  } else {
    v = multiplyByQuantizedMultiplier(d &* (Int32(a) &- p.alphaZeroPoint), p.alphaMultiplier, p.alphaShift)
  }
  return saturatingInt8(v &+ p.outputZeroPoint)
}

/// Int8 PReLU over NHWC shapes: every alpha dimension equals the output's
/// or is 1 (checked at load). The input has the output's shape.
public func preluReference(params: PreluParams, shape: Dims4, input: UnsafePointer<Int8>,
                           alphaShape: Dims4, alpha: UnsafePointer<Int8>,
                           output: UnsafeMutablePointer<Int8>) {
  let sc = alphaShape.c == 1 ? 0 : 1
  let sw = alphaShape.w == 1 ? 0 : alphaShape.c
  let sh = alphaShape.h == 1 ? 0 : alphaShape.w &* alphaShape.c
  let sn = alphaShape.n == 1 ? 0 : alphaShape.h &* alphaShape.w &* alphaShape.c
  var o = 0
  var b = 0
  while b < shape.n {
    var y = 0
    while y < shape.h {
      var x = 0
      while x < shape.w {
        let base = b &* sn &+ y &* sh &+ x &* sw
        var c = 0
        while c < shape.c {
          output[o] = preluElement(params, input[o], alpha[base &+ c &* sc])
          o &+= 1
          c &+= 1
        }
        x &+= 1
      }
      y &+= 1
    }
    b &+= 1
  }
}

struct PreluData {
  var params: PreluParams
  var alpha: UnsafePointer<Int8>
  var alphaShape: Dims4
}

enum PreluOp: RuntimeOp {
  static let name: StaticString = "PReLU"
  static let arity = OpArity(inputs: 2...2)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> PreluData {
    let input = try ctx.elementwiseInput()
    let output = ctx.output
    if input.rank > 4 { throw ctx.fail(.shapeMismatch, "prelu: tensors of rank 5 are not supported") }
    guard let a = ctx.constantInput(1), let data = a.constData, a.type == .int8, a.quantKind == .perTensor else {
      throw ctx.fail(.badOp, "prelu: alpha (input 1) must be a constant int8 tensor with per-tensor quantization")
    }
    if a.rank > 4 || !broadcasts(a.dims, to: output.dims) {
      throw ctx.fail(.shapeMismatch, "prelu: alpha must broadcast to the input's shape (dimensions equal or 1)")
    }
    let (m1, s1) = quantizeMultiplier(Double(input.scale) / Double(output.scale))
    let (m2, s2) = quantizeMultiplier(Double(input.scale) * Double(a.scale) / Double(output.scale))
    try ctx.checkRequantShift(s1)
    try ctx.checkRequantShift(s2)
    let p = PreluParams(inputZeroPoint: input.zeroPoint, alphaZeroPoint: a.zeroPoint, outputZeroPoint: output.zeroPoint,
                        identityMultiplier: m1, identityShift: s1, alphaMultiplier: m2, alphaShift: s2)
    return PreluData(params: p, alpha: data.assumingMemoryBound(to: Int8.self), alphaShape: a.dims)
  }

  static func eval(_ data: UnsafePointer<PreluData>, _ ctx: OpEvalContext) {
    let d = data.pointee
    preluReference(params: d.params, shape: ctx.outputDims, input: ctx.input(0), alphaShape: d.alphaShape,
                   alpha: d.alpha, output: ctx.output)
  }
}
