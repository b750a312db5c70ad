// The run loop: ops in file order, each handed to its kernel with the
// parameters prepared at load. No allocation, no floating point.
import _CNNRuntimeShims

/// Runs every op of the model on the context's current input tensors.
func runModel(_ ctx: UnsafeMutablePointer<ContextState>) {
  let c = ctx.pointee
  let m = c.model.pointee
  let times = c.opTimes
  var o = 0
  while o < m.opCount {
    #if CNNRT_ASAN_POISON
    asanExposeOnly(c, o)
    #endif
    let start = cnnrt_shim_now_ns()
    runOp(c, m.ops[o])
    times[o] = cnnrt_shim_now_ns() &- start
    if let observer = c.observer {
      let t = Int(m.ops[o].output)
      observer(c.observerUserData, Int32(o), UnsafePointer(c.tensorData(t).assumingMemoryBound(to: Int8.self)),
               m.tensors[t].count)
    }
    o += 1
  }
  #if CNNRT_ASAN_POISON
  cnnrt_shim_asan_unpoison(c.pool, m.activationBytes)
  asanConstants(m, poison: false)
  asanOpRegions(m, poison: false)
  #endif
}

#if CNNRT_ASAN_POISON
/// AddressSanitizer builds only (tests; one context of a model runs at a
/// time): poisons the whole activation pool, every constant tensor's data and
/// the other ops' regions (their prepared data, requantization tables and
/// packed weights; the regions lie one after another in op order, so the last
/// op's is bounded by the block's end) but op `o`'s own tensors and region, so
/// that a kernel (reference or SIMD, on any path) that touches a byte outside
/// them fails at once, even where that byte belongs to another tensor of the
/// arena or of the model. Everything is unpoisoned again after the last op.
func asanExposeOnly(_ c: ContextState, _ o: Int) {
  let m = c.model.pointee
  let op = m.ops[o]
  cnnrt_shim_asan_poison(c.pool, m.activationBytes)
  asanConstants(m, poison: true)
  asanOpRegions(m, poison: true)
  if o + 1 < m.opCount { cnnrt_shim_asan_unpoison(op.data, m.ops[o + 1].data - op.data) }
  // The op's tensor list (file bytes, read below and by the op's eval) may
  // share bytes with a constant in a crafted file.
  cnnrt_shim_asan_unpoison(UnsafeMutableRawPointer(mutating: op.tensorList), 4 * (op.inputCount + op.outputCount))
  var k = 0
  while k < op.inputCount + op.outputCount {
    let t = Int(k < op.inputCount ? op.input(k) : op.output(k - op.inputCount))
    if t >= 0 {
      if let d = m.tensors[t].constData {
        cnnrt_shim_asan_unpoison(UnsafeMutableRawPointer(mutating: d), m.tensors[t].byteSize)
      } else {
        cnnrt_shim_asan_unpoison(c.pool + m.tensors[t].arenaOffset, m.tensors[t].byteSize)
      }
    }
    k += 1
  }
}

/// Poisons or unpoisons the op regions before the last op's.
func asanOpRegions(_ m: ModelState, poison: Bool) {
  let first = m.ops[0].data, n = m.ops[m.opCount - 1].data - first
  if poison { cnnrt_shim_asan_poison(first, n) } else { cnnrt_shim_asan_unpoison(first, n) }
}

/// Poisons or unpoisons the data of every constant tensor (in the model bytes).
func asanConstants(_ m: ModelState, poison: Bool) {
  var t = 0
  while t < m.tensorCount {
    if let d = m.tensors[t].constData {
      let p = UnsafeMutableRawPointer(mutating: d), n = m.tensors[t].byteSize
      if poison { cnnrt_shim_asan_poison(p, n) } else { cnnrt_shim_asan_unpoison(p, n) }
    }
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
