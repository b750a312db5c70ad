#!/usr/bin/env python3
"""Small ONNX models covering the importer's ops, with ONNX Runtime outputs
(Tests/Golden/onnx/ops). Run by hand from the repository root:

    build/venv-mnist/bin/python tools/onnx/make_op_goldens.py

Each case <name> writes <name>.onnx (opset 13, random weights, seed below),
<name>.input.f32 (float32 LE, NCHW as ONNX sees it) and <name>.output.f32
(ORT CPU, graph optimizations disabled). qdq_u8 is an ORT quantize_static QDQ
model with uint8 activations (zero point 128 style) and per-channel int8
weights; its output is ORT's run of the QDQ graph as ONNX defines it.
qdq_concat is one with int8 activations where a Concat joins two branches
that ORT quantizes differently, followed by a channel shuffle (Reshape,
Transpose, Reshape, each view with its own Q/DQ pair); it draws from its own
seeded generator, so adding it left the other cases' files unchanged.
"""
import json
import os
import platform
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Golden", "onnx", "ops")
SEED = 20261125
rng = np.random.default_rng(SEED)


def W(*shape, scale=0.3):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


class G:
    def __init__(self, name, shape):
        self.name, self.nodes, self.inits, self.k = name, [], [], 0
        self.input = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
        self.shape = shape

    def const(self, arr, dtype=None):
        self.k += 1
        n = f"c{self.k}"
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), n))
        return n

    def op(self, op, inputs, **attrs):
        self.k += 1
        out = f"t{self.k}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{op.lower()}_{self.k}", **attrs))
        return out

    def save(self, out, extra_outputs=()):
        def model(outputs):
            g = helper.make_graph(self.nodes, self.name, [self.input], outputs, self.inits)
            m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
            m.ir_version = 7
            return m
        inferred = onnx.shape_inference.infer_shapes(model([]), strict_mode=True)
        y = next(v for v in inferred.graph.value_info if v.name == out)
        m = model([y])
        onnx.checker.check_model(m, full_check=True)
        return m


def run(path_or_bytes, x):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(path_or_bytes, so, providers=["CPUExecutionProvider"])
    return s.run(None, {"x": x})[0]


def case_convs():
    g = G("convs", [1, 4, 8, 8])
    t = g.op("Pad", ["x", g.const(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))], mode="constant")
    t = g.op("Conv", [t, g.const(W(8, 4, 3, 3)), g.const(W(8))], kernel_shape=[3, 3])  # Pad folds: SAME
    t = g.op("Relu", [t])
    t = g.op("Conv", [t, g.const(W(16, 1, 3, 3))], group=8, kernel_shape=[3, 3], strides=[2, 2],
             pads=[1, 1, 1, 1])  # depthwise x2, pads 1/1 vs SAME 0/1: pad node
    t = g.op("Clip", [t, g.const(np.float32(0)), g.const(np.float32(6))])
    t = g.op("Conv", [t, g.const(W(8, 4, 1, 1))], group=4)  # grouped
    t = g.op("Add", [t, g.const(W(1, 8, 1, 1))])  # folds into the bias
    t = g.op("BatchNormalization", [t, g.const(W(8) + 1), g.const(W(8)), g.const(W(8)),
                                    g.const(np.abs(W(8)) + 0.5)], epsilon=1e-3)
    u = g.op("Conv", [t, g.const(W(8, 8, 1, 1)), g.const(W(8))])
    t = g.op("Add", [t, u])  # residual
    t = g.op("AveragePool", [t], kernel_shape=[3, 3], pads=[1, 1, 1, 1])  # SAME, count_include_pad=0
    t = g.op("MaxPool", [t], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1])  # 4x4 -> 2x2, pad node
    t = g.op("Flatten", [t])
    t = g.op("MatMul", [t, g.const(W(8 * 2 * 2, 10))])
    t = g.op("Add", [t, g.const(W(10))])
    t = g.op("Sigmoid", [t])
    return g.save(t)


def case_gap_gemm():
    g = G("gap_gemm", [1, 3, 6, 6])
    t = g.op("Conv", ["x", g.const(W(5, 3, 3, 3)), g.const(W(5))], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    t = g.op("AveragePool", [t], kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)
    u = g.op("Conv", [t, g.const(W(6, 5, 3, 3))], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")
    t = g.op("Reshape", [u, g.const(np.array([1, -1], np.int64))])  # NCHW flatten of [1,6,3,3]
    t = g.op("Gemm", [t, g.const(W(54, 7)), g.const(W(7))], alpha=0.5, beta=2.0)  # transB = 0
    t = g.op("BatchNormalization", [t, g.const(W(7) + 1), g.const(W(7)), g.const(W(7)), g.const(np.abs(W(7)) + 0.5)])
    t = g.op("Relu", [t])
    t = g.op("Gemm", [t, g.const(W(4, 7)), g.const(W(1, 4))], transB=1)
    t = g.op("Softmax", [t], axis=1)
    return g.save(t)


def case_pads():
    g = G("pads", [1, 2, 7, 7])
    t = g.op("Pad", ["x", g.const(np.array([0, 0, 1, 0, 0, 0, 2, 1], np.int64)), g.const(np.float32(0.5))])
    t = g.op("MaxPool", [t], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])  # pad node, lowest value
    t = g.op("Conv", [t, g.const(W(3, 2, 3, 3)), g.const(W(3))], kernel_shape=[3, 3], dilations=[2, 2],
             pads=[2, 2, 2, 2])
    t = g.op("Identity", [t])
    t = g.op("Dropout", [t])
    t = g.op("GlobalAveragePool", [t])
    return g.save(t)


def case_nhwc_input():
    # tf2onnx style: NHWC input, Transpose to NCHW, conv, Transpose back to NHWC.
    g = G("nhwc_input", [1, 6, 5, 3])
    t = g.op("Transpose", ["x"], perm=[0, 3, 1, 2])
    t = g.op("Conv", [t, g.const(W(4, 3, 3, 3)), g.const(W(4))], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    t = g.op("Relu", [t])
    t = g.op("Transpose", [t], perm=[0, 2, 3, 1])
    return g.save(t)


def case_qdq_u8(tmp):
    g = G("qdq_float", [1, 3, 8, 8])
    t = g.op("Conv", ["x", g.const(W(8, 3, 3, 3)), g.const(W(8))], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    t = g.op("Relu", [t])
    t = g.op("MaxPool", [t], kernel_shape=[2, 2], strides=[2, 2])
    t = g.op("Conv", [t, g.const(W(8, 1, 3, 3)), g.const(W(8))], group=8, kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    t = g.op("Relu", [t])
    t = g.op("GlobalAveragePool", [t])
    t = g.op("Flatten", [t])
    t = g.op("Gemm", [t, g.const(W(10, 8)), g.const(W(10))], transB=1)
    m = g.save(t)
    from onnxruntime.quantization import QuantType
    cal = rng.random((32, 1, 3, 8, 8), dtype=np.float32)
    return quantize_qdq(tmp, m, "qdq_u8", cal, QuantType.QUInt8)


def quantize_qdq(tmp, m, name, cal, activation_type):
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    fpath = os.path.join(tmp, name + "_float.onnx")
    onnx.save(m, fpath)

    class Reader:
        def __init__(self):
            self.i = 0

        def get_next(self):
            if self.i >= len(cal):
                return None
            self.i += 1
            return {"x": cal[self.i - 1]}

        def rewind(self):
            self.i = 0

    qpath = os.path.join(tmp, name + ".onnx")
    quantize_static(fpath, qpath, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=activation_type, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    return onnx.load(qpath)


def case_qdq_concat(tmp):
    from onnxruntime.quantization import QuantType
    r = np.random.default_rng(SEED + 1)

    def w(*shape):
        return (r.standard_normal(shape) * 0.3).astype(np.float32)
    g = G("qdq_concat_float", [1, 3, 8, 8])
    t = g.op("Conv", ["x", g.const(w(8, 3, 3, 3)), g.const(w(8))], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    t = g.op("Relu", [t])
    a = g.op("Relu", [g.op("Conv", [t, g.const(w(4, 8, 1, 1)), g.const(w(4))], kernel_shape=[1, 1])])
    # The second branch is larger, so ORT gives the two Concat inputs different scales.
    b = g.op("Relu", [g.op("Conv", [t, g.const(3 * w(4, 8, 3, 3)), g.const(w(4))], kernel_shape=[3, 3], pads=[1, 1, 1, 1])])
    t = g.op("Concat", [a, b], axis=1)
    t = g.op("Reshape", [t, g.const([1, 2, 4, 8, 8], np.int64)])
    t = g.op("Transpose", [t], perm=[0, 2, 1, 3, 4])
    t = g.op("Reshape", [t, g.const([1, 8, 8, 8], np.int64)])
    t = g.op("Conv", [t, g.const(w(6, 8, 1, 1)), g.const(w(6))], kernel_shape=[1, 1])
    t = g.op("GlobalAveragePool", [t])
    t = g.op("Flatten", [t])
    m = g.save(t)
    cal = r.random((32, 1, 3, 8, 8), dtype=np.float32)
    return quantize_qdq(tmp, m, "qdq_concat", cal, QuantType.QInt8)


def main():
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="onnx_ops_")
    cases = {"convs": case_convs(), "gap_gemm": case_gap_gemm(), "pads": case_pads(), "qdq_u8": case_qdq_u8(tmp),
             "nhwc_input": case_nhwc_input(), "qdq_concat": case_qdq_concat(tmp)}
    summary = {}
    for name, m in cases.items():
        shape = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
        x = rng.random(shape, dtype=np.float32)
        blob = m.SerializeToString()
        y = run(blob, x)
        with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
            f.write(blob)
        x.astype("<f4").tofile(os.path.join(OUT, name + ".input.f32"))
        y.astype("<f4").tofile(os.path.join(OUT, name + ".output.f32"))
        summary[name] = {"input": shape, "output": list(y.shape), "ops": [n.op_type for n in m.graph.node]}
        print(name, shape, "->", list(y.shape))
    prov = {"made_by": "tools/onnx/make_op_goldens.py", "seed": SEED,
            "oracle": "onnxruntime CPUExecutionProvider, graph optimizations disabled, 1 thread",
            "cases": summary,
            "versions": {"python": platform.python_version(), "onnx": onnx.__version__,
                         "onnxruntime": ort.__version__, "numpy": np.__version__}}
    with open(os.path.join(OUT, "provenance.json"), "w") as f:
        json.dump(prov, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
