#!/usr/bin/env python3
"""Cross-layer channel equalization of an ONNX CNN, exact in float: does it help int8?

    build/venv-torch/bin/python tools/onnx_zoo/equalize_channels.py IN.onnx OUT.onnx CALIB.npz [--alpha A]

Per-tensor int8 activation grids give a channel with a small range few steps.
A tensor whose producer is a Conv (optionally followed by Relu, which is
positively homogeneous) can have each channel c divided by s_c > 0 with the
float model unchanged: the producer's output channel c (weights and bias) is
divided by s_c, and every reader compensates: a Conv reading it multiplies
its input channel c by s_c (a depthwise Conv its channel c's weights), and
Relu, GlobalAveragePool and a Mul by a gate (the squeeze-excitation product)
pass the scaling on to their own readers. A tensor with any other reader (an
Add, a HardSigmoid, a graph output) is left alone. s_c = (r_c / max r)^A,
where r_c is the channel's largest |value| over the first 256 calibration
samples (float NHWC, as `cnnrt quantize --calibration` reads them) and A is
--alpha (default 1: every channel's range becomes the tensor's largest; 0.5
meets halfway between the activation and the weights that absorb the
scaling), floored at 0.01. Tensors are equalized in graph order; the one
read by a Relu is the Relu's output. Prints each equalized tensor and the
largest output difference between the two float models on those samples.
Quantize OUT.onnx with `cnnrt quantize` and compare `cnnrt eval --float OUT.onnx`
with the unequalized model's (docs/ZOO.md).
"""
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    alpha = float(sys.argv[sys.argv.index("--alpha") + 1]) if "--alpha" in sys.argv else 1.0
    if "--alpha" in sys.argv:
        args.remove(sys.argv[sys.argv.index("--alpha") + 1])
    src, dst, calib = args
    m = onnx.load(src)
    g = m.graph
    weights = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    readers = {}
    for n in g.node:
        for x in set(n.input):
            readers.setdefault(x, []).append(n)
    outputs = {o.name for o in g.output}

    def group(n):
        return next((a.i for a in n.attribute if a.name == "group"), 1)

    def scalable(t):  # the producer can divide channel c by s_c
        n = producer.get(t)
        if n is not None and n.op_type == "Relu":
            return len(readers[n.input[0]]) == 1 and scalable(n.input[0])
        return n is not None and n.op_type == "Conv" and n.input[1] in weights

    def compensable(t):  # every reader can take channel c multiplied by s_c
        if t in outputs:
            return False
        for n in readers.get(t, []):
            if n.op_type == "Conv" and n.input[0] == t and n.input[1] in weights:
                continue
            if n.op_type in ("Relu", "GlobalAveragePool") or (n.op_type == "Mul" and n.input[0] != n.input[1]):
                if compensable(n.output[0]):
                    continue
            return False
        return True

    def divide_producer(t, s):
        n = producer[t]
        if n.op_type == "Relu":
            return divide_producer(n.input[0], s)
        w = weights[n.input[1]]
        w /= s.reshape((-1,) + (1,) * (w.ndim - 1))
        if len(n.input) > 2:
            weights[n.input[2]] /= s

    def compensate(t, s):
        for n in readers.get(t, []):
            if n.op_type == "Conv":
                w = weights[n.input[1]]
                if group(n) == 1:
                    w *= s.reshape((1, -1) + (1,) * (w.ndim - 2))
                else:  # depthwise: channel c's filter
                    w *= s.reshape((-1,) + (1,) * (w.ndim - 1))
            else:
                compensate(n.output[0], s)

    feeds_relu = lambda t: any(r.op_type == "Relu" for r in readers.get(t, []))
    tensors = [n.output[0] for n in g.node if n.op_type in ("Relu", "Conv")]
    tensors = [t for t in tensors if not (producer[t].op_type == "Conv" and feeds_relu(t))
               and scalable(t) and compensable(t)]

    x = np.load(calib)["x"][:256].astype(np.float32)
    feed = lambda v: {g.input[0].name: np.ascontiguousarray(v.transpose(2, 0, 1)[None])}
    probe = onnx.ModelProto()
    probe.CopyFrom(m)
    probe.graph.output.extend([helper.make_empty_tensor_value_info(t) for t in tensors])
    sess = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    peak = {}
    for v in x:
        for t, val in zip(tensors, sess.run(tensors, feed(v))):
            p = np.abs(val).max(axis=(0, 2, 3))
            peak[t] = np.maximum(peak[t], p) if t in peak else p
    for t in tensors:
        r = peak[t].astype(np.float64)
        if r.max() <= 0:
            continue
        s = np.maximum(np.where(r > 0, (r / r.max()) ** alpha, 1.0), 0.01)
        divide_producer(t, s)
        compensate(t, s)
        print(f"equalized {t} ({len(s)} channels, smallest s {s.min():.3f})")
    for i in g.initializer:
        if i.name in weights:
            i.CopyFrom(numpy_helper.from_array(weights[i.name].astype(numpy_helper.to_array(i).dtype), i.name))
    onnx.save(m, dst)
    a = ort.InferenceSession(src, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(dst, providers=["CPUExecutionProvider"])
    diff = max(float(np.abs(a.run(None, feed(v))[0] - b.run(None, feed(v))[0]).max()) for v in x[:32])
    ref = max(float(np.abs(a.run(None, feed(v))[0]).max()) for v in x[:32])
    print(f"{len(tensors)} tensors equalized; largest output difference on 32 samples {diff:.3g} "
          f"(largest output {ref:.3g})")


if __name__ == "__main__":
    sys.exit(main())
