// The run loop: ops in file order, each handed to its kernel with the
// parameters prepared at load. No allocation, no floating point.
import _CNNRuntimeShims

/// Runs every op of the model on the context's current input tensors.
func runModel(_ ctx: UnsafeMutablePointer<ContextState>) {
  let c = ctx.pointee
  let m = c.model.pointee
  let times = c.opTimes
  var o = 0
  // One clock read per op boundary: an op's end is the next op's start,
  // unless something runs in between (the observer, the ASan poisoning).
  var start = cnnrt_shim_now_ns()
  while o < m.opCount {
    #if CNNRT_ASAN_POISON
    asanExposeOnly(c, o)
    start = cnnrt_shim_now_ns()
    #endif
    runOp(c, m.ops[o])
    let end = cnnrt_shim_now_ns()
    times[o] = end &- start
    start = end
    if let observer = c.observer {
      let t = Int(m.ops[o].output)
      observer(c.observerUserData, Int32(o), UnsafePointer(c.tensorData(t).assumingMemoryBound(to: Int8.self)),
               m.tensors[t].count)
      start = cnnrt_shim_now_ns()
    }
    o += 1
  }
  #if CNNRT_ASAN_POISON
  asanMarkAll(c, poison: false)
  #endif
}

#if CNNRT_ASAN_POISON
/// AddressSanitizer builds only (tests; one context of a model runs at a
/// time): poisons everything `asanMarkAll` covers but op `o`'s own tensors,
/// tensor list and region, so that a kernel (reference or SIMD, on any path)
/// that touches a byte outside them fails at once, even where that byte
/// belongs to another tensor of the arena or of the model. runModel
/// unpoisons everything after the last op.
func asanExposeOnly(_ c: ContextState, _ o: Int) {
  let m = c.model.pointee
  let op = m.ops[o]
  asanMarkAll(c, poison: true)
  // Op regions lie one after another in op order: op o's runs to op o + 1's.
  if o + 1 < m.opCount { cnnrt_shim_asan_unpoison(op.data, m.ops[o + 1].data - op.data) }
  // The op's tensor list (file bytes, read below and by the op's eval) may
  // share bytes with a constant in a crafted file.
  cnnrt_shim_asan_unpoison(UnsafeMutableRawPointer(mutating: op.tensorList), 4 * (op.inputCount + op.outputCount))
  var k = 0
  while k < op.inputCount + op.outputCount {
    let t = Int(k < op.inputCount ? op.input(k) : op.output(k - op.inputCount))
    if t >= 0 { cnnrt_shim_asan_unpoison(c.tensorData(t), m.tensors[t].byteSize) }
    k += 1
  }
}

/// Poisons or unpoisons the activation pool, every constant tensor's data (in
/// the model bytes) and the op regions before the last op's (their prepared
/// data, requantization tables and packed weights; the last op's is bounded
/// by the block's end).
func asanMarkAll(_ c: ContextState, poison: Bool) {
  let m = c.model.pointee
  @inline(__always) func mark(_ p: UnsafeMutableRawPointer, _ n: Int) {
    if poison { cnnrt_shim_asan_poison(p, n) } else { cnnrt_shim_asan_unpoison(p, n) }
  }
  mark(c.pool, m.activationBytes)
  mark(m.ops[0].data, m.ops[m.opCount - 1].data - m.ops[0].data)
  var t = 0
  while t < m.tensorCount {
    if let d = m.tensors[t].constData { mark(UnsafeMutableRawPointer(mutating: d), m.tensors[t].byteSize) }
    t += 1
  }
}
#endif

/// The dispatcher: hands one prepared op to its unit (Ops/OpTable.swift).
@inline(__always)
func runOp(_ c: ContextState, _ op: PreparedOp) {
  var runner = OpRunner(ctx: OpEvalContext(context: c, op: op))
  op.code.visit(&runner)
}
