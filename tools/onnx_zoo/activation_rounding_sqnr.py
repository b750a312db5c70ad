#!/usr/bin/env python3
"""Which activation roundings cost a net its output SQNR? A float simulation.

    build/venv-torch/bin/python tools/onnx_zoo/activation_rounding_sqnr.py OUT_DIR NET [CNNRT] [--groups] [--weights] [--per-channel]

Takes the tensors that `cnnrt eval --float` reports for OUT_DIR/NET.minmax.eval.json
(the int8 model's op outputs that have a float twin in OUT_DIR/NET.onnx) and runs
the float ONNX model in ONNX Runtime with some of them rounded to an int8 grid:
asymmetric, min-max over OUT_DIR/calib.npz and widened to include 0, like
`cnnrt quantize --method minmax` (the input gets the cnnrt model's own scale and
zero point). Weights, biases and all arithmetic stay float, so this isolates
activation rounding and clipping. Reported: the output SQNR (dB) against the
plain float model on the first 100 images of OUT_DIR/eval.npz with
  - every tensor rounded,
  - every tensor rounded except those of one op type (with --groups), and
  - each tensor rounded alone (the 8 that cost most are listed).
This approximates the int8 model (the ranges come from ONNX Runtime, not from
cnnrt's calibration; no weight rounding); it is a diagnostic, not a test.
The rounded models run with ONNX Runtime's graph optimizations off: with them
on, ORT fuses a DequantizeLinear-op-QuantizeLinear chain into its own int8
kernels (QLinearAdd, QLinearMul, QLinearGlobalAveragePool, ...), whose
arithmetic is not float. (Until 2026-12-07 the script ran with them on; the
figures it gave then, quoted in docs/ZOO.md with that date, include ORT's
int8 arithmetic of those ops.)
With --per-channel it also rounds every 4-D tensor with one min-max grid per
channel instead of one per tensor (all of them, then one op type at a time):
how much per-tensor activation grids cost, which is what equalizing channel
ranges across layers could at best recover.
With --weights it also reports the other half: every Conv and Gemm weight
rounded per output channel to symmetric int8 in [-127, 127] (as `cnnrt
quantize` does), activations and biases float.
"""
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


def sqnr(ref, got):
    ref = ref.astype(np.float64)
    return 10 * np.log10(np.sum(ref ** 2) / np.sum((ref - got) ** 2))


def run(sess, names, x):
    outs = [sess.run(names, {"input": np.ascontiguousarray(v.transpose(2, 0, 1)[None])}) for v in x]
    return [np.concatenate([o[i] for o in outs]) for i in range(len(names))]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out, net = args[0], args[1]
    cnnrt = args[2] if len(args) > 2 else ".build/release/cnnrt"
    groups = "--groups" in sys.argv
    model = onnx.load(os.path.join(out, net + ".onnx"))
    produced = {o for n in model.graph.node for o in n.output}
    report = json.load(open(os.path.join(out, net + ".minmax.eval.json")))
    layers = [(l["name"], l["type"]) for l in sorted(report["layers"], key=lambda l: l["index"])
              if l["name"] in produced]
    names = [n for n, _ in layers]
    kind = dict(layers)
    logits = model.graph.output[0].name

    info = json.loads(subprocess.run([cnnrt, "inspect", os.path.join(out, net + ".minmax.cnnrt"), "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    in_s, in_z = info["inputs"][0]["scale"], info["inputs"][0]["zero_point"]

    # Ranges of every tensor over the calibration set (float model).
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for n in names:
        if n != logits:
            probe.graph.output.extend([helper.make_empty_tensor_value_info(n)])
    sess = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    calib = np.load(os.path.join(out, "calib.npz"))["x"]
    ev = np.load(os.path.join(out, "eval.npz"))["x"][:100]
    vals = dict(zip(names, run(sess, names, calib)))
    grid, channel_grid = {}, {}
    for n in names:
        lo, hi = min(0.0, float(vals[n].min())), max(0.0, float(vals[n].max()))
        s = (hi - lo) / 255 if hi > lo else 1.0
        grid[n] = (s, int(np.clip(np.round(-128 - lo / s), -128, 127)))
        if vals[n].ndim == 4:  # NCHW: one grid per channel (axis 1)
            axes = (0, 2, 3)
            lo = np.minimum(0.0, vals[n].min(axis=axes))
            hi = np.maximum(0.0, vals[n].max(axis=axes))
            s = np.where(hi > lo, (hi - lo) / 255, 1.0)
            channel_grid[n] = (s.astype(np.float32), np.clip(np.round(-128 - lo / s), -128, 127).astype(np.int8))
    no_fusion = ort.SessionOptions()
    no_fusion.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL

    def simulate(rounded, quant_input=True, per_channel=frozenset()):
        """The float model with the tensors in `rounded` (and the input) replaced by Q/DQ of themselves;
        those also in `per_channel` (and 4-D) with one grid per channel."""
        m = onnx.ModelProto()
        m.CopyFrom(model)
        g = m.graph
        todo = (["input"] if quant_input else []) + [n for n in names if n in rounded]
        new_nodes = []
        for t in todo:
            axis = {}
            if t in per_channel and t in channel_grid:
                s, z = channel_grid[t]
                g.initializer.extend([numpy_helper.from_array(s, t + "_qs"), numpy_helper.from_array(z, t + "_qz")])
                axis = {"axis": 1}
            else:
                s, z = (in_s, in_z) if t == "input" else grid[t]
                g.initializer.extend([helper.make_tensor(t + "_qs", TensorProto.FLOAT, [], [s]),
                                      helper.make_tensor(t + "_qz", TensorProto.INT8, [], [z])])
            new_nodes += [helper.make_node("QuantizeLinear", [t, t + "_qs", t + "_qz"], [t + "_q"], **axis),
                          helper.make_node("DequantizeLinear", [t + "_q", t + "_qs", t + "_qz"], [t + "_fq"], **axis)]
        ren = {t: t + "_fq" for t in todo}
        for node in g.node:
            for i, x in enumerate(node.input):
                if x in ren:
                    node.input[i] = ren[x]
        # Q/DQ of the input first, the others right after their producers (topological order).
        nodes = list(g.node)
        by_out = {t: [q, d] for t, q, d in zip(todo, new_nodes[0::2], new_nodes[1::2])}
        order = by_out.pop("input", [])
        for node in nodes:
            order.append(node)
            for o in node.output:
                order += by_out.get(o, [])
        del g.node[:]
        g.node.extend(order)
        if logits in ren:  # the graph output itself is rounded: expose the rounded tensor
            g.output[0].name = logits + "_fq"
        s = ort.InferenceSession(m.SerializeToString(), no_fusion, providers=["CPUExecutionProvider"])
        return run(s, [g.output[0].name], ev)[0]

    ref = run(ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]), [logits], ev)[0]
    if "--weights" in sys.argv:
        print(f"{net}: output SQNR with only the weights rounded: {sqnr(ref, weights_rounded(model, logits, ev)):6.1f} dB")
    print(f"{net}: {len(names)} rounded tensors; output SQNR of the float model with")
    print(f"  only the input rounded:             {sqnr(ref, simulate(set())):6.1f} dB")
    print(f"  every tensor rounded:               {sqnr(ref, simulate(set(names))):6.1f} dB")
    if groups:
        for t in sorted(set(kind.values())):
            keep = {n for n in names if kind[n] != t}
            print(f"  every tensor but the {t:<14} ones ({len(names) - len(keep):3d}): "
                  f"{sqnr(ref, simulate(keep)):6.1f} dB")
        keep = {n for n in names if n != logits}
        print(f"  every tensor but the output logits:  {sqnr(ref, simulate(keep)):6.1f} dB")
    if "--per-channel" in sys.argv:
        every = set(names)
        print(f"  every tensor, the 4-D ones per channel ({len(channel_grid)}): "
              f"{sqnr(ref, simulate(every, per_channel=every)):6.1f} dB")
        for t in sorted({kind[n] for n in channel_grid}):
            sel = {n for n in channel_grid if kind[n] == t}
            print(f"  every tensor, the {t:<16} ones per channel ({len(sel):3d}): "
                  f"{sqnr(ref, simulate(every, per_channel=sel)):6.1f} dB")
    alone = sorted(((sqnr(ref, simulate({n}, quant_input=False)), n) for n in names))
    print("  each tensor rounded alone (input float), the 8 worst:")
    for v, n in alone[:8]:
        print(f"    {v:6.1f} dB  {kind[n]:<16} {n}")


def weights_rounded(model, logits, ev):
    """The float model's output with each Conv / Gemm weight (input 1) rounded
    per output channel (axis 0) to symmetric int8 in [-127, 127]."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    weights = {n.input[1] for n in m.graph.node if n.op_type in ("Conv", "Gemm")}
    for init in m.graph.initializer:
        if init.name not in weights:
            continue
        w = numpy_helper.to_array(init).astype(np.float64)
        peak = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
        s = np.where(peak > 0, peak / 127, 1.0).reshape((-1,) + (1,) * (w.ndim - 1))
        init.CopyFrom(numpy_helper.from_array((np.clip(np.round(w / s), -127, 127) * s).astype(np.float32), init.name))
    return run(ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]), [logits], ev)[0]


if __name__ == "__main__":
    sys.exit(main())
