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

@inline(__always)
func int8In(_ c: ContextState, _ i: Int32) -> UnsafePointer<Int8> {
  UnsafePointer(c.tensorData(Int(i)).assumingMemoryBound(to: Int8.self))
}

@inline(__always)
func optionalBias(_ c: ContextState, _ i: Int32) -> UnsafePointer<Int32>? {
  i < 0 ? nil : UnsafePointer(c.tensorData(Int(i)).assumingMemoryBound(to: Int32.self))
}

/// The dispatcher: picks the kernel for one prepared op.
func runOp(_ c: ContextState, _ op: PreparedOp) {
  let m = c.model.pointee
  let out = c.tensorData(Int(op.output)).assumingMemoryBound(to: Int8.self)
  let outT = m.tensors[Int(op.output)]
  switch op.kernel {
  case .conv(let p, let rq):
    let inT = m.tensors[Int(op.inputs.0)], fT = m.tensors[Int(op.inputs.1)]
    conv2DReference(params: p, requant: rq, inputShape: inT.dims, input: int8In(c, op.inputs.0),
                    filterShape: fT.dims, filter: int8In(c, op.inputs.1), bias: optionalBias(c, op.inputs.2),
                    outputShape: outT.dims, output: out)
  case .convPacked(let isa, let region):
    conv2DPacked(isa: isa, region: region, input: int8In(c, op.inputs.0), output: out)
  case .depthwisePacked(let isa, let region):
    depthwiseConv2DPacked(isa: isa, region: region, input: int8In(c, op.inputs.0), output: out)
  case .depthwise(let p, let rq):
    let inT = m.tensors[Int(op.inputs.0)], fT = m.tensors[Int(op.inputs.1)]
    depthwiseConv2DReference(params: p, requant: rq, inputShape: inT.dims, input: int8In(c, op.inputs.0),
                             filterShape: fT.dims, filter: int8In(c, op.inputs.1), bias: optionalBias(c, op.inputs.2),
                             outputShape: outT.dims, output: out)
  case .fullyConnected(let p, let rq, let batches, let depth, let units):
    fullyConnectedReference(params: p, requant: rq, batches: batches, depth: depth, units: units,
                            input: int8In(c, op.inputs.0), filter: int8In(c, op.inputs.1),
                            bias: optionalBias(c, op.inputs.2), output: out)
  case .fullyConnectedOptimized(let isa, let args):
    fullyConnectedOptimized(isa: isa, args: args, input: int8In(c, op.inputs.0), output: out)
  case .maxPool(let p):
    maxPool2DReference(params: p, inputShape: m.tensors[Int(op.inputs.0)].dims, input: int8In(c, op.inputs.0),
                       outputShape: outT.dims, output: out)
  case .averagePool(let p):
    averagePool2DOptimized(isa: m.kernelISA, params: p, inputShape: m.tensors[Int(op.inputs.0)].dims,
                           input: int8In(c, op.inputs.0), outputShape: outT.dims, output: out)
  case .add(let p):
    addReference(params: p, count: outT.count, input1: int8In(c, op.inputs.0), input2: int8In(c, op.inputs.1),
                 output: out)
  case .addOptimized(let isa, let args):
    addOptimized(isa: isa, args: args, count: outT.count, input1: int8In(c, op.inputs.0),
                 input2: int8In(c, op.inputs.1), output: out)
  case .addBroadcast(let p):
    addBroadcastReference(params: p, outputShape: outT.dims,
                          input1Shape: m.tensors[Int(op.inputs.0)].dims, input1: int8In(c, op.inputs.0),
                          input2Shape: m.tensors[Int(op.inputs.1)].dims, input2: int8In(c, op.inputs.1), output: out)
  case .reshape:
    let src = c.tensorData(Int(op.inputs.0))
    if src != UnsafeMutableRawPointer(out) { cnnrt_shim_memcpy(out, src, outT.count) }
  case .softmax(let p, let rows, let depth):
    softmaxReference(params: p, rows: rows, depth: depth, input: int8In(c, op.inputs.0), output: out)
  case .logistic(let p):
    logisticReference(params: p, count: outT.count, input: int8In(c, op.inputs.0), output: out)
  case .mean(let p):
    meanReference(params: p, inputShape: m.tensors[Int(op.inputs.0)].dims, input: int8In(c, op.inputs.0), output: out)
  case .pad(let p):
    padReference(params: p, inputShape: m.tensors[Int(op.inputs.0)].dims, input: int8In(c, op.inputs.0),
                 outputShape: outT.dims, output: out)
  }
}
