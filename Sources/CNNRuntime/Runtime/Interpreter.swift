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
}

/// The dispatcher: hands one prepared op to its unit (Ops/OpTable.swift).
@inline(__always)
func runOp(_ c: ContextState, _ op: PreparedOp) {
  var runner = OpRunner(ctx: OpEvalContext(context: c, op: op))
  op.code.visit(&runner)
}
