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
//
// On the x86 and Arm paths, an alpha whose leading dimensions are 1 and
// whose trailing ones equal the output's (a scalar, one per channel, one per
// pixel and channel) repeats along the flat tensor with the period of those
// trailing dimensions; such an op runs the AVX2 kernel
// (_CNNKernelsAVX2/PreluAVX2.swift) or the NEON one (both Arm paths,
// _CNNKernelsNEON/ChannelOpsNEON.swift) over the flat tensor. A period shorter
// than 512 is tiled at load into a run of at most 1,023 bytes (whole
// periods), so that the kernel takes at least 512 elements per call.
#if canImport(_CNNKernelsAVX2)
import _CNNKernelsAVX2
#endif
#if canImport(_CNNKernelsNEON)
import _CNNKernelsNEON
#endif

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

/// The period of `alpha` along the flat tensor of shape `out`: the
/// product of the trailing dimensions in which alpha equals the output,
/// when every dimension before them is 1 (1 for a scalar alpha); nil when
/// alpha broadcasts otherwise (e.g. [1, H, 1, 1]).
func preluAlphaPeriod(_ a: Dims4, _ out: Dims4) -> Int? {
  var period = 1
  var leading = 4  // dimensions 0 ..< leading are not (yet) part of the period
  if a.c == out.c { period = out.c; leading = 3
    if a.w == out.w { period &*= out.w; leading = 2
      if a.h == out.h { period &*= out.h; leading = 1
        if a.n == out.n { period &*= out.n; leading = 0 } } } }
  if leading > 0 && a.n != 1 { return nil }
  if leading > 1 && a.h != 1 { return nil }
  if leading > 2 && a.w != 1 { return nil }
  if leading > 3 && a.c != 1 { return nil }
  return period
}

/// Alpha periods shorter than this are tiled at load (`PreluData.run`).
let preluShortPeriod = 512

/// Bytes of the tiled alpha run for `period` (< preluShortPeriod): whole
/// periods, at least preluShortPeriod bytes (less than twice that).
func preluRunCount(period: Int) -> Int { (preluShortPeriod + period - 1) / period * period }

/// Writes the run: runCount bytes, alpha repeated with `period`.
func preluFillRun(_ run: UnsafeMutablePointer<Int8>, runCount: Int, alpha: UnsafePointer<Int8>, period: Int) {
  var i = 0, k = 0
  while i < runCount {
    run[i] = alpha[k]
    i += 1
    k += 1
    if k == period { k = 0 }
  }
}

/// Whether path `isa` has a PReLU kernel.
@inline(__always)
func preluHasKernel(_ isa: Int32) -> Bool {
  isa == KernelISA.avx2 || isa == KernelISA.avx512 || isArmISA(isa)
}

/// PReLU of `count` elements on the `isa` path, element i reading
/// run[i mod runCount] (`run`: whole periods of the op's alpha along the
/// flat tensor). False (nothing written) when the path has no kernel.
func preluOptimized(isa: Int32, params q: PreluParams, count: Int, input: UnsafePointer<Int8>,
                    run: UnsafePointer<Int8>, runCount: Int, output: UnsafeMutablePointer<Int8>) -> Bool {
  #if canImport(_CNNKernelsNEON) && arch(arm64)
  if isArmISA(isa) {
    cnnrtPreluArm(input, count, run, runCount, q.inputZeroPoint, q.alphaZeroPoint, q.outputZeroPoint,
                  q.identityMultiplier, q.identityShift, q.alphaMultiplier, q.alphaShift, output)
    return true
  }
  #endif
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if isa == KernelISA.avx2 || isa == KernelISA.avx512 {
    cnnrtPreluAVX2(input, count, run, runCount, q.inputZeroPoint, q.alphaZeroPoint, q.outputZeroPoint,
                   q.identityMultiplier, q.identityShift, q.alphaMultiplier, q.alphaShift, output)
    return true
  }
  #endif
  return false
}

struct PreluData {
  var params: PreluParams
  var alpha: UnsafePointer<Int8>
  var alphaShape: Dims4
  /// x86 and Arm paths: alpha repeated over whole periods along the flat tensor (the
  /// alpha itself when its period is at least `preluShortPeriod`) and its
  /// length; nil: the reference.
  var run: UnsafePointer<Int8>?
  var runCount: Int
  var isa: Int32
}

enum PreluOp: RuntimeOp {
  static let name: StaticString = "PReLU"
  static let arity = OpArity(inputs: 2...2)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int {
    preluHasKernel(plan.isa) ? 2 * preluShortPeriod : 0
  }

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
    let alpha = data.assumingMemoryBound(to: Int8.self)
    var d = PreluData(params: p, alpha: alpha, alphaShape: a.dims, run: nil, runCount: 0, isa: ctx.isa)
    if preluHasKernel(ctx.isa), let period = preluAlphaPeriod(a.dims, output.dims),
       period > 0, output.count % period == 0 {
      if period >= preluShortPeriod {
        d.run = alpha
        d.runCount = period
      } else {
        let n = preluRunCount(period: period)
        let tiled = try ctx.allocate(bytes: n).bindMemory(to: Int8.self, capacity: n)
        preluFillRun(tiled, runCount: n, alpha: alpha, period: period)
        d.run = UnsafePointer(tiled)
        d.runCount = n
      }
    }
    return d
  }

  static func eval(_ data: UnsafePointer<PreluData>, _ ctx: OpEvalContext) {
    let d = data.pointee
    if let run = d.run, preluOptimized(isa: d.isa, params: d.params, count: ctx.outputDims.count, input: ctx.input(0),
                                       run: run, runCount: d.runCount, output: ctx.output) { return }
    preluReference(params: d.params, shape: ctx.outputDims, input: ctx.input(0), alphaShape: d.alphaShape,
                   alpha: d.alpha, output: ctx.output)
  }
}
