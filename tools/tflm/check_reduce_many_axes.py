#!/usr/bin/env python3
"""Is TFLM an oracle for int8 MEAN / SUM over three or more axes? (run by hand)

    build/venv-tflm/bin/python tools/tflm/check_reduce_many_axes.py

TFLM's EvalMeanHelper and EvalSumHelper pass `int resolved_axis[2]`
(kMaxNumberOfReducedAxis) from the stack to reference_ops::ResolveAxis,
which stores one entry per distinct axis with no bound: three or more axes
write past the array. This script builds single-op models over 2 to 5 axes
(ranks 4 and 5), runs them through TFLM and through an independent numpy
model of TFLM's arithmetic, and prints per case how many output bytes
differ. The 2-axis cases check the model itself (TFLM is defined there);
whatever the 3+-axis cases print, they are undefined behaviour in TFLM and
never goldens. The numpy model (the one cnnrt's Reduce5Tests writes out in
Swift):

    acc   = int32 sum of the reduced elements (wrapping)
    x     = acc - zp_in * n                       (int32, wrapping)
    (M,s) = QuantizeMultiplier(in_scale / out_scale)
    SUM:  out = MultiplyByQuantizedMultiplier(x, M, s) + zp_out
    MEAN: k = min(floor(log2 n), 32, 31 + s); M' = (M << k) // n; s' = s - k
          out = MultiplyByQuantizedMultiplier(x, M', s') + zp_out
    clamp to [-128, 127]
"""
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.argv = sys.argv[:1]
import make_goldens as G  # noqa: E402  (defines the cases; main() is not run)
import tflm_run  # noqa: E402


def quantize_multiplier(d):
    if d == 0:
        return 0, 0
    q, shift = math.frexp(d)
    qf = int(math.floor(abs(q) * 2**31 + 0.5)) * (1 if q >= 0 else -1)  # std::round
    if qf == 2**31:
        qf //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return qf, shift


def wrap32(v):
    return (int(v) + 2**31) % 2**32 - 2**31


def srdhm(a, b):
    if a == b == -2**31:
        return 2**31 - 1
    ab = a * b
    nudge = 2**30 if ab >= 0 else 1 - 2**30
    t = ab + nudge
    return int(t / 2**31) if abs(t) < 2**52 else (abs(t) // 2**31) * (1 if t >= 0 else -1)


def rdbpot(x, e):
    mask = (1 << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > thr else 0)


def mbqm(x, m, s):
    left = s if s > 0 else 0
    right = 0 if s > 0 else -s
    return rdbpot(srdhm(wrap32(x * (1 << left)), m), right)


def model(x, axes, keep, in_q, out_q, compute_sum):
    (si, zi), (so, zo) = in_q, out_q
    n = int(np.prod([x.shape[a] for a in axes]))
    acc = x.astype(np.int64).sum(axis=tuple(axes), keepdims=keep)
    m, s = quantize_multiplier(float(np.float32(si)) / float(np.float32(so)))
    if not compute_sum:
        k = min(n.bit_length() - 1, 32, 31 + s)
        m, s = (m << k) // n, s - k
    out = np.vectorize(lambda a: max(-128, min(127, mbqm(wrap32(wrap32(a) - wrap32(zi * n)), m, s) + zo)))(acc)
    return out.astype(np.int8)


CHECKS = [
    ("MEAN", (2, 3, 4, 5), [1, 2]), ("SUM", (2, 3, 4, 5), [1, 2]),
    ("MEAN", (2, 3, 4, 3, 5), [1, 3]), ("SUM", (2, 3, 4, 3, 5), [0, 4]),
    ("MEAN", (2, 3, 4, 5), [1, 2, 3]), ("SUM", (2, 3, 4, 5), [1, 2, 3]),
    ("SUM", (2, 3, 4, 5), [0, 1, 2, 3]),
    ("MEAN", (2, 3, 4, 3, 5), [1, 2, 3]), ("SUM", (2, 3, 4, 3, 5), [0, 2, 4]),
    ("SUM", (2, 3, 2, 3, 5), [0, 1, 3, 4]), ("MEAN", (2, 3, 2, 3, 5), [0, 1, 2, 3, 4]),
]


def main():
    tf = G.tf
    for op, shape, axes in CHECKS:
        for keep, post in ((True, None), (False, G.requantize_output(1.7, -20))):
            name = f"check_{op.lower()}_r{len(shape)}_{''.join(map(str, axes))}_{'keep' if keep else 'nokeep_requant'}"
            fn = tf.reduce_mean if op == "MEAN" else tf.reduce_sum
            c = {"name": name, "op": op, "inputs": [(list(shape), (-1.0, 2.0))], "per_channel_dense": True,
                 "post": post, "build": lambda rng, fn=fn, axes=axes, keep=keep:
                 (lambda x: fn(x, axis=axes, keepdims=keep))}
            mbytes = G.convert(c)
            info = tflm_run.model_info(mbytes)
            assert [o["op"] for o in info["operators"]] == [op], info["operators"]
            it, ot = info["tensors"][info["inputs"][0]], info["tensors"][info["outputs"][0]]
            in_q = (it["scales"][0], it["zero_points"][0])
            out_q = (ot["scales"][0], ot["zero_points"][0])
            samples = G.make_inputs(name, info, 20)
            try:
                r = tflm_run.run_tflm(mbytes, samples)
                got = [o[0] for o in r["outputs"]]
                want = [model(s[0], axes, keep, in_q, out_q, op == "SUM") for s in samples]
                diff = sum(int(np.count_nonzero(g.reshape(-1) != w.reshape(-1))) for g, w in zip(got, want))
                total = sum(w.size for w in want)
                verdict = f"{diff} of {total} bytes differ from the model"
            except Exception as e:  # noqa: BLE001
                verdict = f"TFLM failed: {type(e).__name__}: {str(e)[:120]}"
            print(f"{name:44s} axes {len(axes)}: {verdict}", flush=True)


if __name__ == "__main__":
    main()
