#!/usr/bin/env python3
"""ONNX Runtime's own runs of the QDQ files `run_zoo.sh SIZE ort` makes, for
comparison with cnnrt's run of the same parameters:

    build/venv-torch/bin/python tools/onnx_zoo/ort_runs.py DIR [NET ...] [--layers N]

For each NET (default: every net in DIR/export.json) with DIR/NET.ort.onnx,
prints the output SQNR in dB against the float DIR/NET.onnx (both run by ONNX
Runtime's CPU provider) over the images of DIR/eval.npz: once with graph
optimizations off (the QDQ graph executed as ONNX defines it: quantize,
dequantize, float op) and once with ORT's defaults (QDQ groups fused into its
int8 kernels). With --layers N, also every quantized tensor's SQNR over the
first N images (optimizations off) beside the row `cnnrt eval` wrote for the
same tensor in DIR/NET.ort.eval.json.
"""
import argparse
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper


def session(model, optimize, extra=()):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for t in extra:
        if t not in have:
            m.graph.output.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    if not optimize:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])


def nchw(v):
    return {"input": np.ascontiguousarray(v.transpose(2, 0, 1)[None])}


def sqnr(signal, noise):
    return 10 * np.log10(signal / noise) if noise > 0 else float("inf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("nets", nargs="*")
    ap.add_argument("--layers", type=int, default=0)
    a = ap.parse_args()
    ev = np.load(os.path.join(a.dir, "eval.npz"))["x"].astype(np.float32)
    nets = a.nets or list(json.load(open(os.path.join(a.dir, "export.json")))["nets"])
    for net in nets:
        qpath = os.path.join(a.dir, f"{net}.ort.onnx")
        if not os.path.exists(qpath):
            print(f"{net}: no {qpath} (run run_zoo.sh SIZE ort first)")
            continue
        fm, qm = onnx.load(os.path.join(a.dir, f"{net}.onnx")), onnx.load(qpath)
        fs = session(fm, True)
        ref = np.concatenate([fs.run(None, nchw(v))[0] for v in ev]).astype(np.float64)
        row = []
        for optimize in (False, True):
            qs = session(qm, optimize)
            got = np.concatenate([qs.run(None, nchw(v))[0] for v in ev]).astype(np.float64)
            row.append(sqnr((ref ** 2).sum(), ((ref - got) ** 2).sum()))
        print(f"{net:<20} ORT, optimizations off {row[0]:6.2f} dB   ORT defaults {row[1]:6.2f} dB   ({len(ev)} images)")
        if a.layers:
            layers(a, net, fm, qm, ev[:a.layers])


def layers(a, net, fm, qm, ev):
    # A quantized tensor T: QuantizeLinear(T) -> DequantizeLinear -> its dequantized twin.
    q_of = {n.output[0]: n.input[0] for n in qm.graph.node if n.op_type == "QuantizeLinear"}
    twin = {q_of[n.input[0]]: n.output[0] for n in qm.graph.node
            if n.op_type == "DequantizeLinear" and n.input[0] in q_of}
    float_names = {o for n in fm.graph.node for o in n.output}
    names = [t for t in twin if t in float_names]
    fs, qs = session(fm, True, names), session(qm, False, [twin[t] for t in names])
    fo, qo = [o.name for o in fs.get_outputs()], [o.name for o in qs.get_outputs()]
    acc = {t: [0.0, 0.0] for t in names}
    for v in ev:
        f = dict(zip(fo, fs.run(fo, nchw(v))))
        q = dict(zip(qo, qs.run(qo, nchw(v))))
        for t in names:
            x, y = f[t].astype(np.float64), q[twin[t]].astype(np.float64)
            acc[t][0] += (x ** 2).sum()
            acc[t][1] += ((x - y) ** 2).sum()
    path = os.path.join(a.dir, f"{net}.ort.eval.json")
    cnnrt = {l["name"]: l["sqnr_db"] for l in json.load(open(path))["layers"]} if os.path.exists(path) else {}
    print(f"  {'ORT dB':>7} {'cnnrt dB':>8}  tensor (first {len(ev)} images; cnnrt eval's rows from {os.path.basename(path)})")
    for t in names:
        c = cnnrt.get(t)
        print(f"  {sqnr(*acc[t]):7.2f} {('%.2f' % c) if c is not None else '-':>8}  {t}")


if __name__ == "__main__":
    main()
