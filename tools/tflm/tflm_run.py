#!/usr/bin/env python3
"""Run a .tflite model through TensorFlow Lite Micro (the project's oracle).

Used by hand and by `cnnrt compare`; runs in the venv made by
tools/tflm/setup-venv.sh (build/venv-tflm/bin/python).

    tflm_run.py MODEL.tflite --inputs FILE.bin [--count N] [--intermediates]
                [--intermediate-samples K] [--arena-size BYTES] --out DIR

FILE.bin holds N samples back to back; one sample is every model input, in
the model's input order, as raw little-endian bytes of the input's type
(int8 for the models cnnrt targets). DIR receives:

    outputs.bin        per sample: every model output, in order, raw bytes
    t<I>.s<K>.bin      (--intermediates) tensor I after sample K, raw bytes
    index.json         model, versions, inputs/outputs (shape, dtype,
                       quantization), arena figures, the intermediates list

TFLM runs single-threaded with its reference kernels (the x86 wheel has no
optimized kernels). Outputs of the default interpreter (arena recording)
are the results; intermediates come from a second interpreter created with
kPreserveAllTensors (each tensor keeps its own memory so GetTensor() can
read it after Invoke); its outputs are checked to be identical.

Also importable: make_goldens.py uses model_info(), run_tflm() and friends.
"""
import argparse
import json
import os
import re
import sys
import tempfile

import numpy as np

from tflite_micro.python.tflite_micro import runtime as tflm_runtime
from tflite_micro.python.tflite_micro import _version as tflm_version_mod
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

TFLM_VERSION = tflm_version_mod.__version__

_OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
_NP_TYPES = {
    "FLOAT32": np.float32, "INT32": np.int32, "UINT8": np.uint8, "INT64": np.int64,
    "BOOL": np.bool_, "INT16": np.int16, "INT8": np.int8, "UINT16": np.uint16,
    "UINT32": np.uint32, "FLOAT16": np.float16, "FLOAT64": np.float64,
}


def _s(b):
    return b.decode("utf-8", "replace") if isinstance(b, (bytes, bytearray)) else (b or "")


def model_info(model_bytes):
    """Tensors, operators, inputs and outputs of subgraph 0, from the flatbuffer."""
    m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model_bytes, 0))
    g = m.subgraphs[0]
    tensors = []
    for i, t in enumerate(g.tensors):
        q = t.quantization
        scales = [] if q is None or q.scale is None else [float(x) for x in q.scale]
        zps = [] if q is None or q.zeroPoint is None else [int(x) for x in q.zeroPoint]
        buf = m.buffers[t.buffer] if t.buffer < len(m.buffers) else None
        const = buf is not None and ((buf.data is not None and len(buf.data) > 0) or (buf.size or 0) > 0)
        tensors.append({
            "index": i,
            "name": _s(t.name),
            "shape": [int(x) for x in (t.shape if t.shape is not None else [])],
            "dtype": _TYPE_NAMES.get(t.type, str(t.type)),
            "scales": scales,
            "zero_points": zps,
            "quantized_dimension": int(q.quantizedDimension) if q is not None else 0,
            "constant": bool(const),
        })
    ops = []
    for op in g.operators:
        oc = m.operatorCodes[op.opcodeIndex]
        code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
        ops.append({
            "op": _OP_NAMES.get(code, str(code)),
            "inputs": [int(x) for x in (op.inputs if op.inputs is not None else [])],
            "outputs": [int(x) for x in (op.outputs if op.outputs is not None else [])],
        })
    return {
        "tensors": tensors,
        "operators": ops,
        "inputs": [int(x) for x in g.inputs],
        "outputs": [int(x) for x in g.outputs],
        "subgraphs": len(m.subgraphs),
    }


def activation_tensors(info):
    """Indices of every operator output, in execution order (no duplicates)."""
    seen, out = set(), []
    for op in info["operators"]:
        for t in op["outputs"]:
            if t >= 0 and t not in seen:
                seen.add(t)
                out.append(t)
    return out


def _np_dtype(t):
    return np.dtype(_NP_TYPES[t["dtype"]])


def sample_nbytes(info, which="inputs"):
    return sum(int(np.prod(info["tensors"][i]["shape"])) * _np_dtype(info["tensors"][i]).itemsize
               for i in info[which])


def split_inputs(info, raw, count=None):
    """raw bytes -> list of samples, each a list of arrays (one per model input)."""
    per = sample_nbytes(info, "inputs")
    if per == 0:
        raise ValueError("model has no input bytes")
    if count is None:
        if len(raw) % per:
            raise ValueError(f"inputs file has {len(raw)} bytes, not a multiple of {per} per sample")
        count = len(raw) // per
    if len(raw) % per or len(raw) < count * per:
        raise ValueError(f"inputs file has {len(raw)} bytes, expected a multiple of {per}"
                         f" bytes per sample and at least {count} samples")
    samples = []
    for k in range(count):
        off, arrs = k * per, []
        for i in info["inputs"]:
            t = info["tensors"][i]
            dt = _np_dtype(t)
            n = int(np.prod(t["shape"])) * dt.itemsize
            arrs.append(np.frombuffer(raw[off:off + n], dtype=dt).reshape(t["shape"]).copy())
            off += n
        samples.append(arrs)
    return samples


class _CaptureStderr:
    """Capture what C/C++ code writes to file descriptor 2 (TFLM's DebugLog)."""

    def __enter__(self):
        sys.stderr.flush()
        self._tmp = tempfile.TemporaryFile(mode="w+b")
        self._saved = os.dup(2)
        os.dup2(self._tmp.fileno(), 2)
        return self

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._tmp.seek(0)
        self.text = self._tmp.read().decode("utf-8", "replace")
        self._tmp.close()
        return False


_ARENA_RE = {
    "total": re.compile(r"Arena allocation total (\d+) bytes"),
    "head": re.compile(r"Arena allocation head (\d+) bytes"),
    "tail": re.compile(r"Arena allocation tail (\d+) bytes"),
}


def arena_figures(interp):
    """Parse RecordingMicroAllocator's report (the Python API has no getter).

    total = arena_used_bytes(); head = the non-persistent section (the
    activation plan of the greedy memory planner, plus kernel scratch
    buffers); tail = persistent allocations (eval tensors, quantization
    params, kernel op data, node structs: these sizes depend on the host's
    pointer width and are larger on a 64-bit host than on a Cortex-M)."""
    with _CaptureStderr() as cap:
        interp.print_allocations()
    out = {"report": [l.strip() for l in cap.text.splitlines() if l.strip()]}
    for k, rx in _ARENA_RE.items():
        mt = rx.search(cap.text)
        out[k] = int(mt.group(1)) if mt else None
    return out


def default_arena_size(model_bytes):
    return max(16 * len(model_bytes), 1 << 20)


def run_tflm(model_bytes, samples, intermediates_for=(), arena_size=None):
    """Run every sample; returns dict with outputs, arena, intermediates.

    outputs: list (per sample) of lists (per model output) of np arrays.
    intermediates: {(sample, tensor_index): np array} for samples listed in
    intermediates_for, covering every operator output tensor."""
    info = model_info(model_bytes)
    if arena_size is None:
        arena_size = default_arena_size(model_bytes)
    interp = tflm_runtime.Interpreter.from_bytes(model_bytes, arena_size=arena_size)
    n_out = len(info["outputs"])
    outputs = []
    for arrs in samples:
        for j, a in enumerate(arrs):
            interp.set_input(a, j)
        interp.invoke()
        outputs.append([np.array(interp.get_output(j), copy=True) for j in range(n_out)])
    arena = arena_figures(interp)
    del interp

    inter = {}
    if intermediates_for:
        pinterp = tflm_runtime.Interpreter.from_bytes(
            model_bytes, arena_size=4 * arena_size,
            intrepreter_config=tflm_runtime.InterpreterConfig.kPreserveAllTensors)
        acts = activation_tensors(info)
        for k in intermediates_for:
            for j, a in enumerate(samples[k]):
                pinterp.set_input(a, j)
            pinterp.invoke()
            for j in range(n_out):
                if not np.array_equal(pinterp.get_output(j), outputs[k][j]):
                    raise RuntimeError(f"sample {k}: kPreserveAllTensors output {j} differs from default run")
            for ti in acts:
                t = info["tensors"][ti]
                d = pinterp.GetTensor(ti, 0)
                arr = np.asarray(d["tensor_data"]).astype(_np_dtype(t), copy=False)
                inter[(k, ti)] = arr.reshape(t["shape"]).copy()
        del pinterp
    return {"info": info, "outputs": outputs, "arena": arena, "intermediates": inter,
            "arena_size": arena_size}


def tensor_summary(t):
    return {k: t[k] for k in ("index", "name", "shape", "dtype", "scales", "zero_points",
                              "quantized_dimension")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help=".tflite file")
    ap.add_argument("--inputs", required=True, help="raw input samples, back to back")
    ap.add_argument("--count", type=int, default=None, help="run the first N samples (default: all in the file)")
    ap.add_argument("--intermediates", action="store_true",
                    help="also dump every operator output tensor")
    ap.add_argument("--intermediate-samples", type=int, default=None,
                    help="with --intermediates: only the first K samples (default: all)")
    ap.add_argument("--arena-size", type=int, default=None, help="TFLM arena bytes (default: max(16 x model, 1 MiB))")
    ap.add_argument("--out", required=True, help="output directory (created)")
    a = ap.parse_args(argv)

    with open(a.model, "rb") as f:
        model = f.read()
    info = model_info(model)
    with open(a.inputs, "rb") as f:
        raw = f.read()
    try:
        samples = split_inputs(info, raw, a.count)
    except ValueError as e:
        ap.error(str(e))
    inter_for = ()
    if a.intermediates:
        k = len(samples) if a.intermediate_samples is None else min(a.intermediate_samples, len(samples))
        inter_for = tuple(range(k))
    r = run_tflm(model, samples, inter_for, a.arena_size)

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "outputs.bin"), "wb") as f:
        for outs in r["outputs"]:
            for o in outs:
                f.write(np.ascontiguousarray(o).tobytes())
    inter_list = []
    for (k, ti), arr in sorted(r["intermediates"].items()):
        fn = f"t{ti}.s{k}.bin"
        with open(os.path.join(a.out, fn), "wb") as f:
            f.write(np.ascontiguousarray(arr).tobytes())
        t = info["tensors"][ti]
        inter_list.append({"sample": k, "tensor": ti, "name": t["name"], "file": fn,
                           "shape": t["shape"], "dtype": t["dtype"],
                           "scales": t["scales"], "zero_points": t["zero_points"]})
    arena = r["arena"]
    index = {
        "tool": "tools/tflm/tflm_run.py",
        "tflite_micro": TFLM_VERSION,
        "model": os.path.abspath(a.model),
        "count": len(samples),
        "inputs": [tensor_summary(info["tensors"][i]) for i in info["inputs"]],
        "outputs": [tensor_summary(info["tensors"][i]) for i in info["outputs"]],
        "outputs_file": "outputs.bin",
        "ops": [op["op"] for op in info["operators"]],
        "arena_size": r["arena_size"],
        "arena_used_bytes": arena["total"],
        "arena_head_bytes": arena["head"],
        "arena_tail_bytes": arena["tail"],
        "arena_report": arena["report"],
        "intermediates": inter_list,
    }
    with open(os.path.join(a.out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    print(f"{len(samples)} samples -> {a.out} (arena used {arena['total']} B, "
          f"{len(inter_list)} intermediate tensors)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
