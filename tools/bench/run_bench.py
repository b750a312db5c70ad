#!/usr/bin/env python3
"""cnnrt benchmark: cnnrt (C API) vs TFLite + XNNPACK vs TFLite Micro, side by
side on the same int8 inputs, single-threaded. Run by `make bench`, which
builds what it needs and runs this in build/venv-tflm:

    build/venv-tflm/bin/python tools/bench/run_bench.py --cli .build/debug/cnnrt \
        --bench-bin build/bench/bench_cnnrt --peak-bin build/bench/vnni_peak

For every model:
  * cnnrt: tools/bench/bench_cnnrt.c, linked against build/lib/libcnnrt.so,
    times cnn_run() with clock_gettime(CLOCK_MONOTONIC) and reports per-op
    times (cnn_context_op_time_ns);
  * XNNPACK: ai_edge_litert.interpreter.Interpreter(num_threads=1), whose
    default op resolver applies the XNNPACK delegate; only invoke() is timed;
  * TFLM: tflite_micro's Python interpreter (reference kernels); only invoke()
    is timed.
cnnrt runs on its default kernel path and again with CNNRT_ISA=<path> for
each kernel path this CPU has (portable, avx2, avx512 on x86-64; flags from
/proc/cpuinfo, confirmed by the path bench_cnnrt reports). All these runs
take turns in R rounds (order rotated each round) so that load from other
processes on the shared machine hits them alike; the median and quartiles
are over every timed iteration of every round. Iterations per
round are chosen from a calibration run so that each (model, runtime) round
takes about --round-seconds. Then every bench input goes once through cnnrt
(every path) and TFLM and the output bytes are compared (0 differing bytes
expected). Packed-weight bytes per kernel path (all five, computed or
loaded) come from `cnnrt inspect --json`.

Writes --out (Markdown, generated: do not edit) and prints the tables. Without
--out, the report of this kind of CPU: docs/BENCHMARKS.md when the default
path is AVX-512, docs/BENCHMARKS-AVX2.md when it is AVX2 (REPORT_FILES).

--zoo (`make bench-zoo`) times the Keras nets of `make zoo-test`'s big tier
the same way instead (no MUL micro-benchmark, no packed-weight table) and
adds each net's time by op type: docs/BENCHMARKS-ZOO.md or
docs/BENCHMARKS-ZOO-AVX2.md (ZOO_REPORT_FILES).
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "tflm"))

import tflm_run  # noqa: E402
from tflite_micro.python.tflite_micro import runtime as tflm_runtime  # noqa: E402

SEED = 20261125
LARGE_SEED = 2024


def rel(p):
    return os.path.relpath(p, REPO)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


# ---------------------------------------------------------------------------
# Machine and versions
# ---------------------------------------------------------------------------
def cpuinfo():
    text = open("/proc/cpuinfo").read()
    first = text.split("\n\n")[0]

    def field(name):
        m = re.search(rf"^{name}\s*:\s*(.*)$", first, re.M)
        return m.group(1).strip() if m else "?"

    # x86-64 lists "flags", aarch64 "Features".
    flags = set(field("flags").split()) | set(field("Features").split())
    return {"model": field("model name"), "family": field("cpu family"), "cpu_model": field("model"),
            "mhz": field("cpu MHz"), "flags": flags,
            "logical": text.count("processor\t:"), "hypervisor": "hypervisor" in flags}


# cnnrt's kernel paths (CNNRT_ISA names, cnnrt_cpu.h), each with the
# /proc/cpuinfo flags it needs on top of the previous path of its
# architecture: AVX2 is x86-64-v3 (lzcnt is "abm"), AVX-512 is x86-64-v4
# plus VNNI (the OS state checks of cnnrt_cpu.h are not in /proc/cpuinfo; the
# kernel path the library reports settles it).
KERNEL_PATHS = {
    "x86_64": (("portable", ()), ("avx2", ("avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm")),
               ("avx512", ("avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512_vnni"))),
    "aarch64": (("portable", ()), ("neon", ("asimd",)), ("dotprod", ("asimddp",))),
}
# Which AVX-512 kernels have run on AVX-512 VNNI hardware and which only under
# the instruction emulation of `make avx512-emu-test` (tools/simd). A record
# of the project's test history, not something this script measures: update
# it when a kernel first passes `make test` on such a CPU.
AVX512_HARDWARE_NOTE = (
    "**AVX-512 kernels: real hardware and emulation.** Every AVX-512 kernel has run on an AVX-512 VNNI CPU "
    "with 0 bytes different. Three kinds: an Intel Xeon (family 6 model 207) and an AMD EPYC Zen 5 (family 26 "
    "model 2), both 2026-12-06, and an AMD EPYC Zen 4 (family 25 model 17), 2026-12-07. Four kernels have run on "
    "the Zen 4 only (and under the emulation below): the depthwise column kernel (3×3, stride_h 1 or 2, depth "
    "multiplier 1), the repeated-row Add and Mul kernels (`cnnrtAddRowsAVX512`, `cnnrtMulRowsAVX512`: a "
    "per-channel operand or SE gate over every row of the other) and the AVX512-VBMI byte table "
    "(`cnnrtByteTableAVX512`, both its `vpermt2b` and its `vpermb` form, which the byte-table activations "
    "ReLU, ReLU6, LeakyReLU, HardSwish, Tanh, Logistic, Quantize and LookupTable run where the CPU has VBMI). "
    "The kernels changed on the Zen 5 have run there, on the Zen 4 and under the emulation, not yet on the Intel "
    "Xeon: the Add's split output stage, the `vpermt2b` byte tables (AMD only), the depthwise band kernel's 3×3 "
    "loop and the stride-2 1×1 convolutions run as one row; those changed on the Zen 4 (the short-reduction "
    "tiles per requantization form and their block-by-block epilogue, the per-channel Add's forms chosen once per "
    "call) only there and under the emulation. "
    "The kernels: Conv2D (the band kernel with its "
    "register tiles of 16 pixels × 16 channels, 12 × 32 and 6 × 64, row mode for 1- or 3-channel "
    "first layers, and the per-tap kernel for rows too wide for its stack scratch), depthwise Conv2D (the band "
    "kernel, 4 or 2 pixels per vector for 16 or 32 channels, the column kernel, and the per-tap kernel), "
    "FullyConnected, Add, Mul, "
    "MaxPool, AveragePool and Mean, through `make ctest` and `make ctest-asan` on `CNNRT_ISA=avx512` (all 316 "
    "golden cases, the random single-op models against the portable path, the no-allocation test) and the C check of "
    "`make zoo-test` (`Tests/C/zoo_paths.c`: the Keras nets of the big tier, every op's output against the "
    "portable path's: 12 nets and 0 of 97,266,984 bytes different on the Intel Xeon, 11 nets and 0 of 46,621,348 "
    "on the Zen 4, also on the AddressSanitizer build). Where the CPU lacks AVX-512, `make avx512-emu-test` runs the same tests on the unchanged "
    "sources compiled against a bit-level emulation of every AVX-512 instruction they use "
    "(`tools/simd/AVX512Emulation.swift`, itself checked against the native AVX2 instructions), and compares "
    "the elementwise, pooling, Mean and byte-table kernels with their AVX2 counterparts on 25,500 random cases. "
    "Pad and Concatenation use libc's copies on the AVX-512 path; the byte-table activations use the AVX2 kernel "
    "there on a CPU without VBMI, and bilinear resize always.\n")

PATH_LABEL = {"portable": "portable", "avx2": "AVX2", "avx512": "AVX-512", "neon": "NEON", "dotprod": "dotprod"}
ALL_PATHS = ("portable", "avx2", "avx512", "neon", "dotprod")


def cpu_kernel_paths(flags, machine=None):
    """[(path, have, missing flags)] for this architecture's paths, in order;
    a path is had when its flags and every earlier path's are listed."""
    out, have = [], True
    for path, need in KERNEL_PATHS.get(machine or platform.machine(), (("portable", ()),)):
        missing = [f for f in need if f not in flags]
        have = have and not missing
        out.append((path, have, missing))
    return out


def os_name():
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def versions(cnnrt_lib):
    import ai_edge_litert
    import tensorflow as tf
    v = {"cnnrt (libcnnrt.so)": cnnrt_lib,
         "ai-edge-litert": getattr(ai_edge_litert, "__version__", "?"),
         "tflite-micro": tflm_run.TFLM_VERSION,
         "tensorflow (converter)": tf.__version__,
         "numpy": np.__version__,
         "Python": platform.python_version()}
    for name, cmd in (("gcc", ["gcc", "--version"]), ("Swift", ["swift", "--version"])):
        try:
            v[name] = subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
        except (OSError, IndexError):
            v[name] = "?"
    try:
        head = sh(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]).strip()
        dirty = sh(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"]).strip()
        v["cnnrt git"] = head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        v["cnnrt git"] = "?"
    return v


# ---------------------------------------------------------------------------
# Peak
# ---------------------------------------------------------------------------
def measure_peak(peak_bin, flags):
    """The core's int8 MAC peak from tools/bench/vnni_peak.c, for the best
    ISA this CPU lists in /proc/cpuinfo."""
    runs = []
    for mode, flag in (("avx512vnni", "avx512_vnni"), ("avxvnni", "avx_vnni"), ("avx2", "avx2"),
                       ("avx2-madd", "avx2")):
        if flag in flags:
            runs.append(json.loads(sh([peak_bin, mode])))
    peak = runs[0] if runs else None
    return peak, runs


def best_peaks(a, b):
    """Per instruction, the faster of two measure_peak results: a peak taken
    while the shared host is busy reads low (one run read 367 instead of 648
    GOPS), so the peak is measured before and after the models and the best
    of the two kept."""
    if not a[1]:
        return b
    by = {p["instruction"]: p for p in a[1]}
    for p in b[1]:
        if p["instruction"] not in by or p["gops"] > by[p["instruction"]]["gops"]:
            by[p["instruction"]] = p
    runs = [by[p["instruction"]] for p in a[1]]
    return runs[0], runs


# ---------------------------------------------------------------------------
# Runtimes
# ---------------------------------------------------------------------------
class CnnrtRunner:
    """bench_cnnrt on one model: the default kernel path (isa None: the
    environment as it is) or CNNRT_ISA=isa. Each round's JSON names the
    kernel path that ran (cnn_model_kernel_path)."""

    def __init__(self, bench_bin, model, inputs, isa=None):
        self.bin, self.model, self.inputs, self.isa = bench_bin, model, inputs, isa
        self.name = "cnnrt" if isa is None else f"cnnrt {PATH_LABEL[isa]}"
        self.env = None if isa is None else dict(os.environ, CNNRT_ISA=isa)
        self.rounds = []  # bench_cnnrt JSON of each round

    def run(self, warmup, iterations):
        out = json.loads(sh([self.bin, self.model, "-i", self.inputs, "-w", str(warmup), "-n", str(iterations),
                             "--json"], env=self.env))
        self.rounds.append(out)
        return [t / 1e9 for t in out["times_ns"]]

    def kernel_paths(self):
        return sorted({rd["kernel_path"] for rd in self.rounds})

    def outputs(self, path):
        sh([self.bin, self.model, "-i", self.inputs, "-w", "0", "-n", "1", "-o", path], env=self.env)
        with open(path, "rb") as f:
            return f.read()


class PythonRunner:
    """Timing and output collection shared by the in-process Python runtimes:
    subclasses provide self.interp (with invoke()), self.samples, _set(k)
    and _output_arrays()."""

    def run(self, warmup, iterations):
        for w in range(warmup):
            self._set(w)
            self.interp.invoke()
        ts = []
        clock = time.perf_counter_ns
        for it in range(iterations):
            self._set(it)
            t0 = clock()
            self.interp.invoke()
            ts.append(clock() - t0)
        return [t / 1e9 for t in ts]

    def outputs(self):
        out = b""
        for k in range(len(self.samples)):
            self._set(k)
            self.interp.invoke()
            for a in self._output_arrays():
                out += np.ascontiguousarray(a).tobytes()
        return out


class XnnpackRunner(PythonRunner):
    name = "XNNPACK"

    def __init__(self, tflite, samples):
        from ai_edge_litert.interpreter import Interpreter
        with tflm_run._CaptureStderr() as cap:
            self.interp = Interpreter(model_path=tflite, num_threads=1)
            self.interp.allocate_tensors()
        # The "Created ... XNNPACK delegate" message is logged once per
        # process, so the delegate is recognised by its DELEGATE nodes.
        ii = self.interp._interpreter
        names = [ii.NodeName(k) for k in range(ii.NumNodes())]
        self.partitions = names.count("DELEGATE")
        self.delegated = self.partitions > 0
        self.in_idx = [d["index"] for d in self.interp.get_input_details()]
        self.out_idx = [d["index"] for d in self.interp.get_output_details()]
        self.samples = samples

    def _set(self, k):
        for j, a in enumerate(self.samples[k % len(self.samples)]):
            self.interp.set_tensor(self.in_idx[j], a)

    def _output_arrays(self):
        return [self.interp.get_tensor(i) for i in self.out_idx]

    def call_overhead_ns(self):
        """Timer bracket around the cheapest Python -> C++ call of the same
        binding (what a timed invoke() pays on top of the model)."""
        interp, clock, ts = self.interp, time.perf_counter_ns, []
        for _ in range(2000):
            t0 = clock()
            interp._ensure_safe()
            interp._interpreter.NumNodes()
            ts.append(clock() - t0)
        return float(np.median(ts))


class TflmRunner(PythonRunner):
    name = "TFLM"

    def __init__(self, model_bytes, samples):
        self.arena_size = tflm_run.default_arena_size(model_bytes)
        self.interp = tflm_runtime.Interpreter.from_bytes(model_bytes, arena_size=self.arena_size)
        self.samples = samples
        self.n_out = len(tflm_run.model_info(model_bytes)["outputs"])

    def _set(self, k):
        for j, a in enumerate(self.samples[k % len(self.samples)]):
            self.interp.set_input(a, j)

    def _output_arrays(self):
        return [self.interp.get_output(j) for j in range(self.n_out)]

    def arena(self):
        return tflm_run.arena_figures(self.interp)


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------
def prepare_models(a, workdir):
    """[(key, title, tflite or None, cnnrt path)], importing TFLite models."""
    data = a.data_dir
    large = os.path.join(workdir, "mobilenet_224.tflite")
    stamp = os.path.join(workdir, "mobilenet_224.stamp")
    gen = os.path.join(REPO, "tools", "bench", "make_large_model.py")
    want = hashlib.sha256(open(gen, "rb").read() + str(LARGE_SEED).encode()).hexdigest()
    if not (os.path.exists(large) and os.path.exists(stamp) and open(stamp).read() == want):
        print(f"building {rel(large)} (seeded random weights, TFLiteConverter full-integer int8) ...", flush=True)
        subprocess.run([sys.executable, gen, large, "--seed", str(LARGE_SEED)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(stamp, "w") as f:
            f.write(want)
    # The bundled MNIST CNN as TFLite full-integer int8 (so XNNPACK and TFLM can
    # run it too): rebuilt from models/mnist_float.onnx and converted by
    # TensorFlow (tools/bench/make_mnist_tflite.py, calibration from MNIST in
    # ../shared/data); cached until the script or the ONNX file changes.
    mnist = os.path.join(workdir, "mnist_tflite_int8.tflite")
    mstamp = os.path.join(workdir, "mnist_tflite_int8.stamp")
    mgen = os.path.join(REPO, "tools", "bench", "make_mnist_tflite.py")
    monnx = os.path.join(REPO, "models", "mnist_float.onnx")
    mwant = hashlib.sha256(open(mgen, "rb").read() + open(monnx, "rb").read()).hexdigest()
    if not (os.path.exists(mnist) and os.path.exists(mstamp) and open(mstamp).read() == mwant):
        print(f"building {rel(mnist)} (models/mnist_float.onnx → Keras → TFLiteConverter int8) ...", flush=True)
        subprocess.run([sys.executable, mgen, mnist, "--data-dir", os.path.dirname(os.path.abspath(data))],
                       check=True, stdout=subprocess.DEVNULL)
        with open(mstamp, "w") as f:
            f.write(mwant)
    models = [
        ("resnet8", "MLPerf Tiny ResNet-8 (IC)", os.path.join(data, "mlperf_tiny_ic_resnet8_int8.tflite")),
        ("dscnn", "MLPerf Tiny DS-CNN (KWS)", os.path.join(data, "mlperf_tiny_kws_dscnn_int8.tflite")),
        ("mnist", "bundled MNIST CNN (TFLite int8)", mnist),
        ("mobilenet_224", "MobileNet-v1-like 224×224 (generated)", large),
        ("mnist_cnnrt", "bundled MNIST CNN (models/mnist.cnnrt)", None),
    ]
    out = []
    for key, title, tfl in models:
        if a.models and key not in a.models:
            continue
        if tfl is None:
            out.append((key, title, None, os.path.join(REPO, "models", "mnist.cnnrt")))
            continue
        if not os.path.exists(tfl):
            sys.exit(f"run_bench: {tfl} is missing (MLPerf Tiny models come from ../shared/data/models)")
        dst = os.path.join(workdir, key + ".cnnrt")
        sh([a.cli, "import", tfl, "-o", dst])
        out.append((key, title, tfl, dst))
    return out


ZOO_MANIFEST = os.path.join(REPO, "build", "golden-slow", "manifest-slow_zoo.json")
ZOO_TITLES = {
    "keras_mobilenet_v1_025": "MobileNet v1 α=0.25", "keras_mobilenet_v2_035": "MobileNetV2 α=0.35",
    "keras_mobilenet_v3_small": "MobileNetV3 Small", "keras_mobilenet_v3_small_minimalistic":
    "MobileNetV3 Small minimalistic", "keras_mobilenet_v3_large": "MobileNetV3 Large",
    "keras_mobilenet_v3_large_minimalistic": "MobileNetV3 Large minimalistic",
    "keras_efficientnet_b0": "EfficientNet-B0", "keras_resnet50": "ResNet50", "keras_densenet121": "DenseNet121",
    "keras_nasnet_mobile": "NASNetMobile", "keras_inception_v3": "InceptionV3"}


def prepare_zoo_models(a, workdir):
    """The big-tier zoo (`make zoo-test`'s Keras nets, TFLite full-int8 from
    tools/tflm/cases_slow_zoo.py): [(key, title, tflite, cnnrt path)]."""
    if not os.path.exists(a.zoo_manifest):
        sys.exit(f"run_bench: {a.zoo_manifest} is missing (make bench-zoo generates it, as make zoo-test does)")
    base = os.path.dirname(a.zoo_manifest)
    os.makedirs(os.path.join(workdir, "zoo"), exist_ok=True)
    out = []
    for c in json.load(open(a.zoo_manifest))["cases"]:
        key = c["name"]
        if c["op"] != "MODEL" or (a.models and key not in a.models):
            continue
        tfl = os.path.join(base, c["model"])
        dst = os.path.join(workdir, "zoo", key + ".cnnrt")
        sh([a.cli, "import", tfl, "-o", dst])
        out.append((key, ZOO_TITLES.get(key, key), tfl, dst))
    return out


def make_samples(inspect, count, seed):
    """count samples; each = one int8 array per model input, seeded uniform
    over the full int8 range."""
    rng = np.random.default_rng(seed)
    return [[rng.integers(-128, 128, size=t["shape"], dtype=np.int16).astype(np.int8) for t in inspect["inputs"]]
            for _ in range(count)]


def short_name(name, max_len=40):
    first = name.split(";")[0] if name else name
    if len(first) <= max_len:
        return first
    return first[:max_len // 2 - 1] + "…" + first[-(max_len // 2):]


def stats(times):
    t = np.asarray(times)
    return {"median": float(np.median(t)), "p25": float(np.percentile(t, 25)), "p75": float(np.percentile(t, 75)),
            "min": float(t.min()), "max": float(t.max()), "n": int(t.size)}


SLOW_FACTOR = 10


def paired_ratios(round_medians):
    """Per runtime, its round medians over XNNPACK's round medians, round by
    round: the median, lowest and highest of these ratios, and a 95 %
    bootstrap interval of the median (seeded resampling of the rounds). The
    ratio columns and the targets use the median: a ratio of two runs made
    close together, so that a slow phase of the shared host that falls on
    some rounds counts for both runtimes, not only for whichever one's rounds
    it met."""
    x = round_medians.get("XNNPACK")
    if not x:
        return {}
    out = {}
    for name, meds in round_medians.items():
        if name == "XNNPACK":
            continue
        q = np.asarray(meds) / np.asarray(x)
        boot = np.median(np.random.default_rng(SEED).choice(q, size=(2000, q.size)), axis=1)
        out[name] = {"median": float(np.median(q)), "min": float(q.min()), "max": float(q.max()), "n": int(q.size),
                     "ci95": [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))]}
    return out


def bench_model(a, key, title, tfl, cnnrt_path, workdir, paths):
    """One model on cnnrt's default path, on each kernel path in `paths`
    (CNNRT_ISA), XNNPACK and TFLM, in the same rotated rounds."""
    inspect = json.loads(sh([a.cli, "inspect", "--json", cnnrt_path]))
    macs = inspect["total_macs"]
    samples = make_samples(inspect, a.samples, SEED + sum(map(ord, key)))
    inputs_path = os.path.join(workdir, key + ".inputs.bin")
    with open(inputs_path, "wb") as f:
        for s in samples:
            for arr in s:
                f.write(arr.tobytes())

    runners = [CnnrtRunner(a.bench_bin, cnnrt_path, inputs_path)]
    runners += [CnnrtRunner(a.bench_bin, cnnrt_path, inputs_path, isa) for isa in paths]
    model_bytes = None
    if tfl:
        model_bytes = open(tfl, "rb").read()
        runners.append(XnnpackRunner(tfl, samples))
        runners.append(TflmRunner(model_bytes, samples))

    # Calibrate: one warm-up run each, then iterations per round from its time.
    # The per-path runs get a shorter round (--path-round-seconds) so that the
    # slow portable path does not stretch the run; still medians of rounds.
    plan, per_iter = {}, {}
    for r in runners:
        r.run(1, 1)
        t = min(r.run(0, 2))
        target = a.path_round_seconds if getattr(r, "isa", None) else a.round_seconds
        n = int(min(a.max_iterations, max(a.min_iterations, round(target / max(t, 1e-7)))))
        w = 1 if t > 0.2 else 3
        plan[r.name] = (w, n)
        per_iter[r.name] = t
    # A path run that the library capped to another path is not timed under
    # that path's name (its column says what ran instead).
    capped = {}
    for r in [r for r in runners if getattr(r, "isa", None)]:
        if r.kernel_paths() != [r.isa]:
            capped[r.isa] = ", ".join(r.kernel_paths())
            runners.remove(r)
    for r in runners:
        if isinstance(r, CnnrtRunner):
            r.rounds.clear()
    # Each round runs the fast runtimes (within SLOW_FACTOR of the fastest
    # per iteration: cnnrt's SIMD paths and XNNPACK) back to back, then the
    # slow ones (the portable path, TFLM), each group's order rotated. So a
    # fast runtime's round and XNNPACK's are at most a few tenths of a second
    # apart, and a ratio of the two (paired_ratios) compares runs the host's
    # load changes of seconds met alike.
    fastest = min(per_iter[r.name] for r in runners)
    fast = [r for r in runners if per_iter[r.name] <= SLOW_FACTOR * fastest]
    slow = [r for r in runners if per_iter[r.name] > SLOW_FACTOR * fastest]
    times = {r.name: [] for r in runners}
    round_medians = {r.name: [] for r in runners}
    for rnd in range(a.rounds):
        order = [g[rnd % len(g):] + g[:rnd % len(g)] for g in (fast, slow) if g]
        for r in sum(order, []):
            w, n = plan[r.name]
            ts = r.run(w, n)
            times[r.name] += ts
            round_medians[r.name].append(float(np.median(ts)))
        print(f"  {key}: round {rnd + 1}/{a.rounds} done", flush=True)

    cnnrt_runs = [r for r in runners if isinstance(r, CnnrtRunner)]
    for r in cnnrt_runs[1:]:
        if r.kernel_paths() != [r.isa]:
            sys.exit(f"run_bench: {key}: CNNRT_ISA={r.isa} ran {r.kernel_paths()} in the timed rounds")
    res = {"key": key, "title": title, "tflite": tfl, "cnnrt": cnnrt_path, "macs": macs, "inspect": inspect,
           "input_shape": inspect["inputs"][0]["shape"], "plan": {k: v for k, v in plan.items() if k in times},
           "stats": {name: stats(ts) for name, ts in times.items()},
           "round_medians": round_medians, "slow": [r.name for r in slow],
           "paired": paired_ratios(round_medians),
           "kernel_path": ", ".join(cnnrt_runs[0].kernel_paths()),
           "paths": {r.isa: r.name for r in cnnrt_runs[1:]}, "capped": capped}

    # cnnrt per-op: median over rounds of each round's per-op median.
    cr = runners[0]
    per_op = np.median(np.array([[op["median_ns"] for op in rd["ops"]] for rd in cr.rounds]), axis=0)
    res["per_op_ns"] = [float(x) for x in per_op]
    res["per_op_ns_path"] = {r.isa: [float(x) for x in np.median(np.array(
        [[op["median_ns"] for op in rd["ops"]] for rd in r.rounds]), axis=0)] for r in cnnrt_runs[1:]}
    res["cnnrt_arena"] = cr.rounds[0]["arena_bytes"]
    res["cnnrt_lib"] = cr.rounds[0]["library"]

    # Bit-exactness on the bench inputs.
    c_out = cr.outputs(os.path.join(workdir, key + ".cnnrt-outputs.bin"))
    if tfl:
        xr = next(r for r in runners if isinstance(r, XnnpackRunner))
        tr = next(r for r in runners if isinstance(r, TflmRunner))
        t_out = tr.outputs()
        x_out = xr.outputs()
        res["diff_tflm"] = diff_bytes(c_out, t_out)
        res["diff_tflm_path"] = {r.isa: diff_bytes(r.outputs(os.path.join(workdir, f"{key}.{r.isa}.out.bin")), t_out)
                                 for r in cnnrt_runs[1:]}
        res["diff_xnn_tflm"] = diff_bytes(x_out, t_out)
        res["out_bytes"] = len(t_out)
        arena = tr.arena()
        res["tflm_arena"] = arena["total"]
        res["tflm_arena_head"] = arena["head"]
        res["xnn_delegated"] = xr.delegated
        res["xnn_partitions"] = xr.partitions
        res["xnn_overhead_ns"] = xr.call_overhead_ns()
    return res


def packed_weights(a, key, title, cnnrt_path, paths):
    """Packed-weight bytes of one model on every kernel path: `cnnrt inspect
    --json` lays the model block out for each path (computed, whatever the
    CPU); on each path of this CPU, inspect run with CNNRT_ISA=path loads
    it too, and the loaded figures must equal the computed ones."""
    insp = json.loads(sh([a.cli, "inspect", "--json", cnnrt_path]))
    per = {p["kernel_path"]: dict(p, how="computed") for p in insp["packed_weights_per_path"]}
    fields = ("model_block_bytes", "packed_weight_bytes", "packed_filter_file_bytes")
    for isa in paths:
        j = json.loads(sh([a.cli, "inspect", "--json", cnnrt_path], env=dict(os.environ, CNNRT_ISA=isa)))
        if j.get("kernel_path") != isa or isa not in per:
            continue  # the CLI's load was capped: the computed figures stand alone
        same = all(j[f] == per[isa][f] for f in fields)
        per[isa]["how"] = "loaded" if same else "loaded ≠ computed: " + ", ".join(
            f"{f} {j[f]:,} vs {per[isa][f]:,}" for f in fields if j[f] != per[isa][f])
    return {"key": key, "title": title, "file_bytes": insp["file_bytes"], "per_path": per}


def diff_bytes(x, y):
    if len(x) != len(y):
        return f"size {len(x)} vs {len(y)}"
    return int(np.count_nonzero(np.frombuffer(x, np.int8) != np.frombuffer(y, np.int8)))


# ---------------------------------------------------------------------------
# Kernel micro-benchmark: MUL, portable vs AVX2 (cnnrt's two paths side by side)
# ---------------------------------------------------------------------------
MUL_CASES = [
    # key, title, shape a, shape b
    ("mul_same", "same shape 56×56×64", [1, 56, 56, 64], [1, 56, 56, 64]),
    ("mul_se", "SE gate 56×56×64 × 1×1×64", [1, 56, 56, 64], [1, 1, 1, 64]),
    ("mul_pixel", "per-pixel 56×56×64 × 56×56×1", [1, 56, 56, 64], [1, 56, 56, 1]),
]
MUL_PATHS = ("portable", "avx2")


def make_mul_model(path, shape_a, shape_b, seed):
    """A single-MUL full-integer int8 TFLite model (TensorFlow's converter),
    inputs over [-2, 2] and [0, 1] (an SE gate's range)."""
    import tensorflow as tf
    specs = [tf.TensorSpec(shape_a, tf.float32), tf.TensorSpec(shape_b, tf.float32)]
    fn = tf.function(lambda a, b: a * b, input_signature=specs, autograph=False)
    rng = np.random.default_rng(seed)

    def representative():
        for _ in range(16):
            yield [rng.uniform(-2, 2, size=shape_a).astype(np.float32),
                   rng.uniform(0, 1, size=shape_b).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    with open(path, "wb") as f:
        f.write(conv.convert())


def bench_mul_micro(a, workdir):
    """Each MUL case on cnnrt's portable and AVX2 paths (CNNRT_ISA), rounds
    alternating the paths; outputs of both paths compared with TFLM's."""
    cpu = cpuinfo()
    if "avx2" not in cpu["flags"]:
        return []
    out = []
    for key, title, sa, sb in MUL_CASES:
        tfl = os.path.join(workdir, key + ".tflite")
        stamp = os.path.join(workdir, key + ".stamp")
        want = hashlib.sha256(repr((sa, sb, SEED, "mul-v1")).encode()).hexdigest()
        if not (os.path.exists(tfl) and os.path.exists(stamp) and open(stamp).read() == want):
            make_mul_model(tfl, sa, sb, SEED)
            with open(stamp, "w") as f:
                f.write(want)
        cpath = os.path.join(workdir, key + ".cnnrt")
        sh([a.cli, "import", tfl, "-o", cpath])
        rng = np.random.default_rng(SEED + sum(map(ord, key)))
        samples = [[rng.integers(-128, 128, size=s, dtype=np.int16).astype(np.int8) for s in (sa, sb)]
                   for _ in range(a.samples)]
        inputs = os.path.join(workdir, key + ".inputs.bin")
        with open(inputs, "wb") as f:
            for smp in samples:
                for arr in smp:
                    f.write(arr.tobytes())

        def run(isa, w, n, outputs=None):
            env = dict(os.environ, CNNRT_ISA=isa)
            cmd = [a.bench_bin, cpath, "-i", inputs, "-w", str(w), "-n", str(n), "--json"]
            if outputs:
                cmd = [a.bench_bin, cpath, "-i", inputs, "-w", "0", "-n", "1", "-o", outputs]
                subprocess.run(cmd, check=True, capture_output=True, env=env)
                return open(outputs, "rb").read()
            r = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
            return [t / 1e9 for t in json.loads(r.stdout)["times_ns"]]

        plan = {}
        for isa in MUL_PATHS:
            t = min(run(isa, 1, 3))
            plan[isa] = int(min(a.max_iterations * 4, max(a.min_iterations, round(a.round_seconds / 2 / max(t, 1e-7)))))
        times = {isa: [] for isa in MUL_PATHS}
        for rnd in range(a.rounds):
            for isa in (MUL_PATHS if rnd % 2 == 0 else MUL_PATHS[::-1]):
                times[isa] += run(isa, 3, plan[isa])
        outs = {isa: run(isa, 0, 1, os.path.join(workdir, f"{key}.{isa}.out.bin")) for isa in MUL_PATHS}
        t_out = TflmRunner(open(tfl, "rb").read(), samples).outputs()
        res = {"key": key, "title": title, "elements": int(np.prod(sa)), "plan": plan,
               "stats": {isa: stats(ts) for isa, ts in times.items()},
               "diff_tflm": {isa: diff_bytes(outs[isa], t_out) for isa in MUL_PATHS}, "out_bytes": len(t_out)}
        print(f"  {title}: " + ", ".join(f"{isa} {ms(res['stats'][isa]['median'])} ms" for isa in MUL_PATHS),
              flush=True)
        out.append(res)
    return out


def mul_micro_table(results):
    lines = ["| MUL case | elements | portable ms | AVX2 ms | AVX2 speed-up | portable Melem/s · AVX2 Melem/s "
             "| bytes ≠ TFLM (portable · AVX2) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        p, v = r["stats"]["portable"], r["stats"]["avx2"]
        d = r["diff_tflm"]
        lines.append(f"| {r['title']} | {r['elements']:,} | {cell(p)} | {cell(v)} | {p['median'] / v['median']:.1f}× | "
                     f"{r['elements'] / p['median'] / 1e6:,.0f} · {r['elements'] / v['median'] / 1e6:,.0f} | "
                     f"{d['portable']} · {d['avx2']} of {r['out_bytes']:,} |")
    return "\n".join(lines)


def mul_micro_section(results, a):
    if not results:
        return []
    return ["## Kernel micro-benchmark: MUL, portable vs AVX2\n",
            "One int8 MUL op (TensorFlow's converter, full-integer; imported with `cnnrt import`) timed by "
            "`bench_cnnrt` with `CNNRT_ISA=portable` and `CNNRT_ISA=avx2` in alternating rounds "
            f"({a.rounds} rounds; median [quartiles] over every iteration). The three row kinds of the AVX2 "
            "kernels: both inputs contiguous (same shape), an SE gate `[1,1,1,C]` broadcast over `[1,H,W,C]` "
            "(rows of C), and a per-pixel factor `[1,H,W,1]` (a row times one value). Both paths are checked "
            "against TFLM on the bench inputs.\n",
            mul_micro_table(results), ""]


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
PACKED_TARGET = 1.15  # issue #16: packed weights at most 1.15x the file's int8 filter bytes


def ms(s):
    v = s * 1e3
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.1f}"


def cell(st):
    return f"{ms(st['median'])} [{ms(st['p25'])}–{ms(st['p75'])}]"


def gops(macs, sec):
    return 2.0 * macs / sec / 1e9 if macs and sec > 0 else 0.0


def path_stats(r, isa):
    """Stats of the CNNRT_ISA=isa run of result r, or why there are none."""
    if isa in r["paths"]:
        return r["stats"][r["paths"][isa]], None
    return None, f"capped to {r['capped'][isa]}" if isa in r["capped"] else "n/a"


def table(results, peak, paths):
    """The main latency table: `cnnrt` is the default path; one column per
    kernel path in `paths` (CNNRT_ISA runs of the same rounds), each also
    as a ratio to XNNPACK."""
    peak_gops = peak["gops"] if peak else None
    head = (["model", "input", "MACs", "cnnrt ms"] + [f"cnnrt {PATH_LABEL[p]} ms" for p in paths]
            + ["XNNPACK ms", "TFLM ms", "cnnrt / XNNPACK"] + [f"{PATH_LABEL[p]} / XNNPACK" for p in paths]
            + ["cnnrt / TFLM", "GOPS cnnrt · XNNPACK · TFLM", "cnnrt % of peak", "arena cnnrt", "arena TFLM",
               "bytes ≠ TFLM"])
    rows = []
    for r in results:
        s = r["stats"]
        c = s["cnnrt"]
        x, t = s.get("XNNPACK"), s.get("TFLM")
        g = [gops(r["macs"], c["median"])] + [gops(r["macs"], v["median"]) if v else None for v in (x, t)]
        per = [path_stats(r, p) for p in paths]
        diff = ((f"{r['diff_tflm']} / {r['out_bytes']:,}" if isinstance(r["diff_tflm"], int) else r["diff_tflm"])
                + "".join(f"; {PATH_LABEL[p]} {d}" for p, d in r.get("diff_tflm_path", {}).items())
                if "diff_tflm" in r else "n/a (no TFLite model)")
        rows.append([
            r["title"], "×".join(map(str, r["input_shape"][1:])), f"{r['macs'] / 1e6:,.2f} M", cell(c)]
            + [cell(st) if st else why for st, why in per]
            + [cell(x) if x else "n/a", cell(t) if t else "n/a",
               f"{r['paired']['cnnrt']['median']:.2f}×" if x else "n/a"]
            + [f"{r['paired'][r['paths'][p]]['median']:.2f}×" if st and x else "n/a"
               for p, (st, _) in zip(paths, per)] + [
            f"{c['median'] / t['median']:.2f}×" if t else "n/a",
            " · ".join("n/a" if v is None else f"{v:.2f}" for v in g),
            f"{100 * g[0] / peak_gops:.2f} %" if peak_gops else "n/a",
            f"{r['cnnrt_arena']:,} B",
            f"{r['tflm_arena']:,} B" if r.get("tflm_arena") is not None else "n/a", diff,
        ])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" if i < 2 else "---:" for i in range(len(head))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def packed_table(packed):
    """Packed-weight bytes per kernel path: the packed filter copies in the
    model block against the int8 bytes of those filters in the file."""
    head = ["model", "file bytes"] + [PATH_LABEL[p] for p in ALL_PATHS]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for m in packed:
        cells = []
        for isa in ALL_PATHS:
            p = m["per_path"].get(isa)
            if p is None:
                cells.append("n/a")
            elif p["packed_filter_file_bytes"] == 0:
                cells.append(f"0 (filters used in place; {p['how']})")
            else:
                ratio = p["packed_weight_bytes"] / p["packed_filter_file_bytes"]
                rt = f"{ratio:.2f}×" if ratio <= PACKED_TARGET else f"**{ratio:.2f}×** (over {PACKED_TARGET:.2f}×)"
                cells.append(f"{p['packed_weight_bytes']:,} / {p['packed_filter_file_bytes']:,} B = {rt}; "
                             f"{p['how']}")
        lines.append(f"| {m['title']} | {m['file_bytes']:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def packed_summary(packed):
    """Per path: the largest packed / file ratio and the models over target."""
    out = []
    for isa in ALL_PATHS:
        rs = [(m["per_path"][isa]["packed_weight_bytes"] / m["per_path"][isa]["packed_filter_file_bytes"],
               m["title"]) for m in packed
              if isa in m["per_path"] and m["per_path"][isa]["packed_filter_file_bytes"] > 0]
        if not rs:
            out.append(f"{PATH_LABEL[isa]}: nothing packed")
            continue
        over = [f"{t} {v:.2f}×" for v, t in rs if v > PACKED_TARGET]
        out.append(f"{PATH_LABEL[isa]}: at most {max(rs)[0]:.2f}×" + (f" (**over target: {', '.join(over)}**)"
                                                                    if over else ""))
    return "; ".join(out)


def spread_table(results):
    head = ["model", "runtime", "warm-up + iterations per round × rounds", "median ms", "IQR ms", "min ms", "max ms"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        for name, st in r["stats"].items():
            w, n = r["plan"][name]
            rounds = st["n"] // n
            lines.append(f"| {r['title']} | {name} | {w} + {n} × {rounds} | {ms(st['median'])} | "
                         f"{ms(st['p25'])}–{ms(st['p75'])} | {ms(st['min'])} | {ms(st['max'])} |")
    return "\n".join(lines)


def paired_table(results):
    names = []
    for r in results:
        names += [n for n in r.get("paired", {}) if n not in names]
    head = ["model"] + [f"{n} / XNNPACK" for n in names]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * len(names)]
    for r in results:
        p = r.get("paired")
        if not p:
            continue
        lines.append(f"| {r['title']} | " + " | ".join(
            f"{p[n]['median']:.2f}× ({p[n]['ci95'][0]:.2f}–{p[n]['ci95'][1]:.2f}×) [{p[n]['min']:.2f}–{p[n]['max']:.2f}×]"
            if n in p else "n/a" for n in names)
            + " |")
    return "\n".join(lines)


def layer_table(r, peak=None):
    """Per-op medians; with the measured peak, each op's share of it, and for
    a model with Conv2D ops of at least 20 M MACs (the MobileNet-like 224's
    pointwise convolutions) a line with their range against the peak (issue
    #16 asks >= 60 % of the vpdpbusd peak on an AVX-512 VNNI CPU)."""
    layers = r["inspect"]["layers"]
    total = sum(r["per_op_ns"]) or 1.0
    pk = peak["gops"] if peak else None
    head = "| # | layer | type | output shape | MACs | median µs | % | GOPS |" + (" % of peak |" if pk else "")
    lines = [head, "|---:|---|---|---|---:|---:|---:|---:|" + ("---:|" if pk else "")]
    for L, t in zip(layers, r["per_op_ns"]):
        g = gops(L["macs"], t / 1e9)
        name = short_name(L["name"]) or "op" + str(L["index"])
        shape = "×".join(map(str, L["output_shape"]))
        if L["macs"]:
            lines.append(f"| {L['index']} | {name} | {L['type']} | {shape} | {L['macs']:,} | {t / 1e3:,.1f} | "
                         f"{100 * t / total:.1f} | {g:.2f} |" + (f" {100 * g / pk:.1f} |" if pk else ""))
        else:
            lines.append(f"| {L['index']} | {name} | {L['type']} | {shape} | 0 | {t / 1e3:,.1f} | "
                         f"{100 * t / total:.1f} | – |" + (" – |" if pk else ""))
    lines.append(f"| | **total (sum of op medians)** | | | {r['macs']:,} | {total / 1e3:,.1f} | 100 | "
                 f"{gops(r['macs'], total / 1e9):.2f} |" + (f" {100 * gops(r['macs'], total / 1e9) / pk:.1f} |" if pk else ""))
    shares = big_conv_shares(r, peak)
    if shares:
        lines.append("")
        lines.append(f"Conv2D ops of at least 20 M MACs ({len(shares)}): {shares[0]:.1f}–{shares[-1]:.1f} % of the "
                     f"measured {peak['instruction']} peak ({pk:.1f} GOPS), median {shares[len(shares) // 2]:.1f} %; "
                     f"together (their MACs over the sum of their medians) {big_conv_together(r, peak):.1f} %.")
    return "\n".join(lines)


def big_conv_shares(r, peak):
    """Each Conv2D op of at least 20 M MACs (the MobileNet-like 224's
    pointwise convolutions) as a share (%) of the measured peak, ascending."""
    if not peak:
        return []
    return sorted(100 * gops(L["macs"], t / 1e9) / peak["gops"] for L, t in big_convs(r))


def big_convs(r):
    """(layer, median ns) of each Conv2D op of at least 20 M MACs."""
    return [(L, t) for L, t in zip(r["inspect"]["layers"], r["per_op_ns"])
            if L["type"] == "Conv2D" and L["macs"] >= 20_000_000]


def big_conv_together(r, peak):
    """Those ops together (their MACs over the sum of their medians) as a
    share (%) of the measured peak; None without a peak or such ops."""
    ops = big_convs(r)
    if not peak or not ops:
        return None
    return 100 * gops(sum(L["macs"] for L, _ in ops), sum(t for _, t in ops) / 1e9) / peak["gops"]


TARGET_MODELS = ("resnet8", "dscnn", "mnist", "mobilenet_224")

# One report per kind of CPU, named by its default kernel path, so that a run
# on an AVX2-only CPU does not replace the last run on an AVX-512 one: each
# decides the targets of its own kind (targets_table).
REPORT_FILES = {"avx512": "BENCHMARKS.md", "avx2": "BENCHMARKS-AVX2.md", "portable": "BENCHMARKS-portable.md"}
ZOO_REPORT_FILES = {"avx512": "BENCHMARKS-ZOO.md", "avx2": "BENCHMARKS-ZOO-AVX2.md",
                    "portable": "BENCHMARKS-ZOO-portable.md"}


def report_file(default_paths, files=REPORT_FILES):
    one = next(iter(default_paths)) if len(default_paths) == 1 else "avx512"
    return os.path.join(REPO, "docs", files.get(one, files["avx512"]))


def targets_table(results, packed, peak):
    """The x86 targets (issue #16), each with the figures of this run that
    decide it and whether this CPU can decide it: the AVX-512 ones only when
    the default path is AVX-512 (and the peak is vpdpbusd's), the AVX2 one
    only when it is AVX2."""
    by = {r["key"]: r for r in results}
    default = {r["kernel_path"] for r in results}
    on512, on2 = default == {"avx512"}, default == {"avx2"}
    here = ", ".join(sorted(PATH_LABEL.get(d, d) for d in default))

    def ratio(r):
        return r["paired"]["cnnrt"]["median"] if "cnnrt" in r.get("paired", {}) else None

    def verdict(ok, applies, why):
        return ("met" if ok else "**not met**") if applies else f"not decided here ({why})"

    rows = []
    for limit, keys, applies, why in (
            (1.0, TARGET_MODELS, on512, f"default path {here}, not AVX-512"),
            (0.8, ("resnet8", "dscnn"), on2, f"default path {here}, not AVX2")):
        got = [(by[k]["title"], ratio(by[k])) for k in keys if k in by and ratio(by[k]) is not None]
        if not got:
            continue
        cpu = "an AVX-512 VNNI CPU" if limit == 1.0 else "an AVX2-only CPU"
        rows.append([f"cnnrt ≤ {limit:.1f}× TFLite + XNNPACK on {cpu}",
                     "; ".join(f"{t.split(' (')[0]} {v:.2f}×" for t, v in got),
                     verdict(all(v <= limit for _, v in got), applies, why)])
    big = big_conv_shares(by["mobilenet_224"], peak) if "mobilenet_224" in by else []
    if big:
        vnni = "vpdpbusd" in peak["instruction"]
        rows.append(["MobileNet-like 224: every Conv2D of ≥ 20 M MACs ≥ 60 % of the vpdpbusd peak",
                     f"{len(big)} ops, {big[0]:.1f}–{big[-1]:.1f} % of the {peak['instruction']} peak "
                     f"({big_conv_together(by['mobilenet_224'], peak):.1f} % together; the target is per op)",
                     verdict(big[0] >= 60, vnni and on512, f"the peak here is {peak['instruction']}")])
    worst = max(((p["packed_weight_bytes"] / p["packed_filter_file_bytes"], m["title"], isa)
                 for m in packed for isa, p in m["per_path"].items() if p["packed_filter_file_bytes"] > 0),
                default=None)
    if worst:
        rows.append([f"packed weights ≤ {PACKED_TARGET:.2f}× the file's filter bytes, every path",
                     f"largest {worst[0]:.2f}× ({worst[1].split(' (')[0]}, {PATH_LABEL[worst[2]]})",
                     verdict(worst[0] <= PACKED_TARGET, True, "")])
    checked = [r for r in results if "diff_tflm" in r]
    if checked:
        diffs = [r["diff_tflm"] for r in checked] + [v for r in checked for v in r.get("diff_tflm_path", {}).values()]
        rows.append(["0 bytes different from TFLM, every path this CPU runs",
                     f"{len(diffs)} runs ({len(checked)} models × default and per-path), "
                     f"{sum(d for d in diffs if isinstance(d, int))} bytes different"
                     + ("; size mismatch" if any(not isinstance(d, int) for d in diffs) else ""),
                     verdict(all(d == 0 for d in diffs), True, "")])
    lines = ["| target | this run | verdict |", "|---|---|---|"] + ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def paths_text(results, cpu_paths, paths):
    """What the per-path columns are, and why a path of this architecture
    has none (not on this CPU, or capped by the library)."""
    default = sorted({r["kernel_path"] for r in results})
    t = ("Columns `cnnrt <path> ms`: the same `bench_cnnrt` with `CNNRT_ISA=<path>`, one column per kernel path "
         "this CPU has (from /proc/cpuinfo, the flags `cnnrt_cpu.h` checks), timed in the same rotated rounds as "
         "the default run, XNNPACK and TFLM; each run's path is the one `cnn_model_kernel_path()` reported "
         "(a run the library capped to another path would get no time under that name). "
         "`cnnrt / XNNPACK` and `<path> / XNNPACK`: **paired ratios**, the median over rounds of that round's "
         "median over XNNPACK's median in the same round (see the per-round table below), so they need not "
         "equal the ratio of the pooled medians of the ms columns. The `cnnrt ms` column and the ratios named `cnnrt` are the **default path**, "
         f"which the library reported as **{', '.join(PATH_LABEL.get(d, d) for d in default)}** on every model"
         + (f" (`CNNRT_ISA={os.environ['CNNRT_ISA']}` was set)" if os.environ.get("CNNRT_ISA") else "")
         + "; its column and that path's column measure the same code, so they differ only by noise. ")
    for isa, have, missing in cpu_paths:
        if not have:
            t += (f"**{PATH_LABEL[isa]}: not on this CPU** (/proc/cpuinfo lacks "
                  f"{', '.join(missing) or 'a flag of an earlier path'}); on a CPU with it the table gets "
                  f"`cnnrt {PATH_LABEL[isa]} ms` and `{PATH_LABEL[isa]} / XNNPACK` columns"
                  + (" (the default path on such a CPU)" if isa == "avx512" else "") + ". ")
    capped = sorted({f"{PATH_LABEL[i]} → {v}" for r in results for i, v in r["capped"].items()})
    if capped:
        t += f"Capped by the library (listed by /proc/cpuinfo, not run): {', '.join(capped)}. "
    return t + "\n"


def machine_section(cpu, vers):
    """The report's Machine and Versions sections (lines)."""
    L = []
    vnni = "avx512_vnni" in cpu["flags"]
    L.append("## Machine\n")
    L.append(f"- CPU: {cpu['model']} (family {cpu['family']}, model {cpu['cpu_model']}"
             + (" — AMD Zen 3 / Milan" if cpu["family"] == "25" and cpu["cpu_model"] in ("1", "8") else "")
             + f"), {cpu['logical']} logical cores, reported {cpu['mhz']} MHz"
             + (", virtual machine (KVM guest)" if cpu["hypervisor"] else "") + ".")
    isa = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni") if f in cpu["flags"]]
    L.append(f"- ISA flags of note: {', '.join(isa) or 'none'}"
             + ("" if vnni else " (**no AVX-512 VNNI**: the vpdpbusd peak cannot be measured here; the peak "
                "above is AVX2 `vpmaddubsw`)") + ".")
    L.append(f"- OS: {os_name()}, Linux {platform.release()}.")
    L.append("- Shared machine: the cores are shared with other engineers' builds; results are noisy, "
             "hence medians, quartiles and interleaved rounds.\n")
    L.append("## Versions\n")
    for k, v in vers.items():
        L.append(f"- {k}: {v}")
    L.append("")
    return L


def op_type_table(results, paths):
    """Per model: each op type's share of the default path's time (sum of
    its ops' medians) and, with the portable path measured, the portable
    time of those ops over the default path's (how much a SIMD kernel
    gains on that type; about 1× where the type has none on this path)."""
    portable = "portable" in paths
    head = ["model", "ops", "sum of op medians ms", "op types by share of time"
            + (" (portable time / default path time)" if portable else "")]
    lines = ["| " + " | ".join(head) + " |", "|---|---:|---:|---|"]
    for r in results:
        types = [L["type"] for L in r["inspect"]["layers"]]
        total = sum(r["per_op_ns"]) or 1.0
        port = r.get("per_op_ns_path", {}).get("portable")
        by = {}
        for k, t in enumerate(types):
            d = by.setdefault(t, [0.0, 0.0, 0])
            d[0] += r["per_op_ns"][k]
            d[1] += port[k] if port else 0.0
            d[2] += 1
        cells, rest = [], 0.0
        for t, (ns, pns, n) in sorted(by.items(), key=lambda kv: -kv[1][0]):
            if ns / total < 0.01:
                rest += ns
                continue
            cells.append(f"{t} ×{n} {100 * ns / total:.1f} %" + (f" ({pns / ns:.1f}×)" if port and ns > 0 else ""))
        if rest:
            cells.append(f"others {100 * rest / total:.1f} %")
        lines.append(f"| {r['title']} | {len(types)} | {ms(total / 1e9)} | " + "; ".join(cells) + " |")
    return "\n".join(lines)


def write_zoo_report(a, results, peak, cpu, vers, started, elapsed, command, cpu_paths, paths):
    """The zoo report (`make bench-zoo`): the latency, ratio and spread
    tables of `make bench` over the Keras zoo nets, and time by op type."""
    main = table(results, peak, paths)
    default = sorted({r["kernel_path"] for r in results})
    L = ["# Benchmarks: the Keras network zoo\n",
         "<!-- GENERATED by tools/bench/run_bench.py --zoo (`make bench-zoo`). Do not edit: re-run the benchmark. -->\n",
         f"Generated {started} UTC in {elapsed / 60:.1f} min by\n\n```sh\n{command}\n```\n",
         "The eleven Keras applications of the zoo's big tier (docs/ZOO.md, `make zoo-test`): untrained seeded "
         "weights, 10 classes, converted by TensorFlow's TFLiteConverter to full-integer int8 "
         "(`tools/tflm/cases_slow_zoo.py`), each imported with `cnnrt import`. They are timed as `make bench` "
         "times its models (docs/BENCHMARKS.md, docs/BENCHMARKS-AVX2.md describe the method): cnnrt through its C "
         f"API on its default path (**{', '.join(PATH_LABEL.get(d, d) for d in default)}** here) and on each "
         "kernel path of this CPU, TFLite + XNNPACK and TFLite Micro, single-threaded, on the same "
         f"{a.samples} seeded int8 inputs per net, in {a.rounds} rotated rounds; ratios are paired by round. "
         "The last column of the latency table counts output bytes of cnnrt that differ from TFLM's on those "
         "inputs. Peak of one core (the `% of peak` column): "
         + (f"**{peak['gops']:.1f} GOPS** ({peak['instruction']}, `tools/bench/vnni_peak.c`)" if peak else "n/a")
         + ".\n",
         "## Latency\n", main + "\n", paths_text(results, cpu_paths, paths),
         "### Per-round ratios to XNNPACK\n",
         "Median over rounds of each round's cnnrt median over XNNPACK's, its 95 % bootstrap interval, then the "
         "lowest and highest round.\n",
         paired_table(results) + "\n",
         "### Spread and iteration counts\n", spread_table(results) + "\n",
         "## Time by op type\n",
         "cnnrt's per-op medians (`cnn_context_op_time_ns()`, median over rounds) summed per op type on the "
         "default path, as a share of their sum; op types under 1 % are summed as *others*. In parentheses, "
         "where the portable path was timed: the same ops' portable time over the default path's.\n",
         op_type_table(results, paths) + "\n"]
    L += machine_section(cpu, vers)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write("\n".join(L))
    return main


def write_report(a, results, peak, peaks, cpu, vers, started, elapsed, command, micro=(), cpu_paths=(), paths=(),
                 packed=()):
    main = table(results, peak, paths)
    peak_txt = (f"{peak['gops']:.1f} GOPS ({peak['instruction']}, {peak['macs_per_instruction']} MACs/instruction, "
                f"{peak['ginstr_per_s']:.2f} G instructions/s)" if peak else "n/a")
    overhead = [r["xnn_overhead_ns"] for r in results if "xnn_overhead_ns" in r]
    partitions = ", ".join(f"{r['title'].split(' (')[0]}: {r['xnn_partitions']}" for r in results
                           if "xnn_partitions" in r)
    xnn_diffs = ", ".join(f"{r['title'].split(' (')[0]}: {r['diff_xnn_tflm']} of {r['out_bytes']:,}"
                          for r in results if "diff_xnn_tflm" in r)
    L = []
    L.append("# Benchmarks\n")
    L.append("<!-- GENERATED by tools/bench/run_bench.py (`make bench`). Do not edit: re-run the benchmark. -->\n")
    L.append(f"Generated {started} UTC in {elapsed / 60:.1f} min by\n\n```sh\n{command}\n```\n")
    if all(r["kernel_path"] == "avx2" for r in results):
        L.append("cnnrt runs its **default kernel path**, chosen at model load by CPU detection: **AVX2** here "
                 "(`Sources/_CNNKernelsAVX2`, bit-exact with the reference kernels) for Conv2D, depthwise "
                 "Conv2D (any depth multiplier and channel count whose scratch rows fit, else multiplier 1 with channels a multiple of 8), "
                 "Add and Mul (same shape and per-channel / per-pixel / scalar broadcast), FullyConnected, AveragePool2D, MaxPool2D, "
                 "Mean, bilinear resize, the byte-table activations, PReLU, the two-group channel shuffle (a Gather "
                 "that interleaves two halves) and TransposeConv; every other op (softmax, …) runs the portable reference kernels (Swift, "
                 "compiled `-O` for generic x86-64). On a CPU with AVX-512 VNNI the default is the AVX-512 "
                 "path; this CPU has none. All runtimes run **single-threaded** on the same seeded int8 "
                 "inputs.\n")
    elif all(r["kernel_path"] == "avx512" for r in results):
        L.append("cnnrt runs its **default kernel path**, chosen at model load by CPU detection: **AVX-512 VNNI** "
                 "here (`Sources/_CNNKernelsAVX512`: Conv2D, depthwise Conv2D and FullyConnected with `vpdpbusd`; "
                 "Add, Mul, MaxPool2D, AveragePool2D and Mean on 64-lane kernels; the byte-table activations on "
                 "the AVX512-VBMI kernel where the CPU has VBMI; bilinear resize, PReLU, the two-group channel shuffle and TransposeConv on the AVX2 kernels). All runtimes run **single-threaded** on the same "
                 "seeded int8 inputs.\n")
    else:
        L.append("cnnrt runs its **portable reference kernels** (Swift, no SIMD intrinsics; compiled `-O` "
                 "for generic x86-64, i.e. SSE2): this CPU has no AVX2 or `CNNRT_ISA` selects another path "
                 f"(`CNNRT_ISA={os.environ.get('CNNRT_ISA', '')}`). All runtimes run **single-threaded** on "
                 "the same seeded int8 inputs.\n")
    L.append(AVX512_HARDWARE_NOTE)
    L.append("## Targets\n")
    L.append("The x86 speed, memory and exactness targets, decided from this run's figures (the tables below). "
             "A target for another kind of CPU is not decided here: the AVX-512 ones need the AVX-512 path as "
             "the default and the `vpdpbusd` peak; the AVX2 one needs AVX2 as the default (an AVX2-only CPU). "
             "`make bench` writes one report per kind of CPU, named by its default path, each the last run on "
             "its kind: [docs/BENCHMARKS.md](BENCHMARKS.md) (AVX-512), [docs/BENCHMARKS-AVX2.md](BENCHMARKS-AVX2.md) "
             "(AVX2), and docs/BENCHMARKS-portable.md on a CPU without AVX2.\n")
    L.append(targets_table(results, packed, peak) + "\n")
    L.append("## Latency\n")
    L.append("Milliseconds per inference: median [interquartile range] over every timed iteration of every "
             "round. GOPS = 2 × MACs / median time (MACs from `cnnrt inspect --json`). "
             f"Peak of one core: **{peak_txt}**, measured by `tools/bench/vnni_peak.c`. "
             "Arena: cnnrt `cnn_context_arena_size()`; TFLM `arena_used_bytes` from its allocation report "
             "(as `tools/tflm/make_goldens.py` reads it); TFLite + XNNPACK has no single arena (n/a). "
             "Last column: output bytes of cnnrt that differ from TFLM's on the "
             f"{a.samples} bench inputs (every sample's outputs concatenated): the default path, then each "
             "`CNNRT_ISA` path.\n")
    L.append(main + "\n")
    L.append(paths_text(results, cpu_paths, paths))
    L.append("### Spread and iteration counts\n")
    L.append(f"The runtimes take turns: {a.rounds} rounds. Each round runs the fast runtimes back to back "
             f"(at most {SLOW_FACTOR}× the fastest one's calibration time per iteration: cnnrt's SIMD paths and "
             "XNNPACK), then the slow ones (the portable path, TFLM), the order within each group rotated each "
             "round. Iterations per round were chosen from a calibration run to take about "
             f"{a.round_seconds:g} s each ({a.path_round_seconds:g} s for the `CNNRT_ISA` path runs "
             f"`cnnrt <path>`), between {a.min_iterations} and {a.max_iterations} iterations.\n")
    L.append(spread_table(results) + "\n")
    if any(r.get("paired") for r in results):
        L.append("### Per-round ratios to XNNPACK\n")
        L.append("Each round's median time of a cnnrt run over XNNPACK's median in the same round: the median "
                 "over rounds (the ratio columns and the targets use it), in parentheses its 95 % bootstrap "
                 "interval (2,000 seeded resamples of the rounds), then the lowest and highest round. "
                 "The host is shared: a slow phase of seconds to minutes lengthens every run it falls on, and "
                 "the pooled medians of the ms columns move with how many of a runtime's rounds it met; a "
                 "round's two runs, a few tenths of a second apart, mostly meet the same phase.\n")
        L.append(paired_table(results) + "\n")
    if packed:
        L.append("## Packed weights per kernel path\n")
        L.append("At load, cnnrt copies the filters of the ops a SIMD path runs into that path's layout (int8, "
                 "zero-padded to whole lane blocks and pairs or quads, each copy rounded up to 64 bytes) inside "
                 "the model block (`cnn_model_memory_size`). Each cell: packed weight bytes / the int8 bytes of the "
                 "same filters in the model file = ratio (issue #16's target: at most "
                 f"{PACKED_TARGET:.2f}× on every path). From `cnnrt inspect --json` (`packed_weights_per_path`, "
                 "`packed_weight_bytes`, `packed_filter_file_bytes`): *computed* = the block laid out for that "
                 "path without running it (any path, whatever the CPU); *loaded* = `inspect` run with "
                 "`CNNRT_ISA=<path>` on this CPU loaded the model on that path and its figures equal the "
                 "computed ones. Filters a path uses in place are in neither count; the portable path packs "
                 "nothing. File bytes: the whole `.cnnrt` file.\n")
        L.append(packed_table(packed) + "\n")
        L.append(f"Largest ratio per path: {packed_summary(packed)}.\n")
    L.append("## cnnrt per layer\n")
    L.append("Median per-op time from `cnn_context_op_time_ns()` (median over rounds of each round's median); "
             "names shortened as `cnnrt inspect` does.\n")
    for r in results:
        L.append(f"### {r['title']}\n")
        L.append(layer_table(r, peak) + "\n")
    L += machine_section(cpu, vers)
    L.append("## Notes\n")
    L.append("- **cnnrt** is timed in C (`tools/bench/bench_cnnrt.c`, `-O2`, linked against "
             "`build/lib/libcnnrt.so`): `cnn_run()` between two `clock_gettime(CLOCK_MONOTONIC)` calls, the "
             "arena supplied by the caller (`cnn_context_init`); inputs are copied in with `cnn_set_input()` "
             "outside the timed region. Per-layer times come from `cnn_context_op_time_ns()`; their sum is "
             "within a few per cent of the whole-run median (each is a median on its own, and the dispatch "
             "between ops is in no op).")
    L.append("- **TFLite + XNNPACK**: `ai_edge_litert.interpreter.Interpreter(model_path, num_threads=1)`; its "
             "default op resolver applies the XNNPACK delegate "
             + ("(checked: every model's graph has XNNPACK partitions)" if all(r.get("xnn_delegated", True)
                                                                         for r in results) else
                "(**but some model got no XNNPACK partition**)")
             + f". XNNPACK partitions per model: {partitions}; ops XNNPACK does not take "
             "stay on TFLite's builtin optimised kernels. Only `invoke()` is timed (`time.perf_counter_ns`).")
    L.append("- **TFLM**: `tflite_micro`'s Python interpreter (`runtime.Interpreter.from_bytes`), i.e. TFLM's "
             "portable reference kernels as built into the x86-64 wheel (no optimised kernels). Only "
             "`invoke()` is timed.")
    if overhead:
        fastest = min(v["median"] for r in results for k, v in r["stats"].items() if k != "cnnrt")
        share = np.median(overhead) / 1e9 / fastest
        L.append(f"- **Python overhead**: a timer bracket around the cheapest Python → C++ call of the same "
                 f"binding (what a timed `invoke()` pays besides the model) takes {np.median(overhead) / 1e3:.2f} µs "
                 f"(median), {100 * share:.2f} % of the fastest Python-timed median in the table "
                 f"({ms(fastest)} ms) and far less of the others: negligible against model time.")
    L.append("- **Bit-exactness**: the last column of the latency table counts differing output bytes of cnnrt "
             "vs TFLM on the bench inputs, in the same run (the default path, then each `CNNRT_ISA` path); 0 "
             "expected on every path (cnnrt implements TFLM's int8 arithmetic). For information, XNNPACK vs TFLM: {xnn_diffs or 'n/a'} bytes differ (XNNPACK "
             "does not promise TFLM's rounding).")
    L.append("- **Peak**: `tools/bench/vnni_peak.c` runs 12 independent chains of one instruction and reports "
             "the best of 15 repeats of 0.1 s; it runs before and after the models and the better figure is kept. " + "; ".join(f"{p['instruction']}: {p['gops']:.1f} GOPS" for p in peaks)
             + ". `vpmaddubsw` sums pairs into saturating int16, so it is an upper bound rather than what a "
             "bit-exact kernel reaches; `vpmaddwd` (int16 × int16 → int32) is the exact AVX2 path. On a "
             "Zen 4 host with AVX-512 VNNI the same program measures `vpdpbusd zmm` "
             "(docs: ≈ 467 GOPS at 3.65 GHz).")
    L.append("- **Bundled MNIST CNN**: `models/mnist_float.onnx` (trained by the project) rebuilt in Keras and "
             "converted by TensorFlow's TFLiteConverter to full-integer int8 (`tools/bench/make_mnist_tflite.py`, "
             "500 MNIST training images for calibration, checked against ONNX Runtime) so all three runtimes run "
             "the same int8 model; cnnrt imports it. The row `models/mnist.cnnrt` times the bundled model as "
             "`cnnrt quantize` made it (same network, cnnrt's own calibration); no TFLite twin with those exact "
             "parameters exists, so only cnnrt runs it.")
    L.append("- **MobileNet-v1-like 224×224** is made by `tools/bench/make_large_model.py` (seeded random "
             "He-normal weights, TensorFlow's converter, full-integer int8 with per-channel weights): "
             "the first 11 layers of MobileNet v1 (conv 3×3 s2 to 32, then depthwise/pointwise blocks up "
             "to 256 channels at 28×28), mean, fully connected 256 → 1000, softmax; 0.20 GMAC. It is "
             f"imported with `cnnrt import` like the MLPerf models. Bench inputs: {a.samples} seeded uniform "
             "int8 samples per model.")
    L.append("")
    L += mul_micro_section(micro, a)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    # Keep the sections written elsewhere: how to compare two commits (by
    # hand), the Arm one (`make arm-report`, tools/arm/report.sh) and the
    # classify one (`make bench-jobs`, tools/bench/classify_jobs.py).
    old = open(a.out).read() if os.path.exists(a.out) else ""
    for tag in ("compare-commits", "arm", "classify-jobs"):
        kept = re.search(r"<!-- %s:begin.*?<!-- %s:end -->" % (tag, tag), old, flags=re.S)
        if kept:
            L += ["", kept.group(0), ""]
    with open(a.out, "w") as f:
        f.write("\n".join(L))
    return main


def tflm_mismatches(results):
    """The models (and kernel paths) whose outputs differ from TFLM's."""
    bad = [r["title"] for r in results if r.get("diff_tflm", 0) != 0]
    return bad + [f"{r['title']} ({isa})" for r in results for isa, v in r.get("diff_tflm_path", {}).items() if v != 0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", required=True, help="the cnnrt command (for import and inspect)")
    ap.add_argument("--bench-bin", default=os.path.join(REPO, "build", "bench", "bench_cnnrt"))
    ap.add_argument("--peak-bin", default=os.path.join(REPO, "build", "bench", "vnni_peak"))
    ap.add_argument("--data-dir", default=os.path.join(REPO, "..", "shared", "data", "models"))
    ap.add_argument("--workdir", default=os.path.join(REPO, "build", "bench"))
    ap.add_argument("--out", default=None,
                    help="report file; default: the one for this CPU's default kernel path (REPORT_FILES)")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--round-seconds", type=float, default=1.0, help="target time of one round per runtime")
    ap.add_argument("--path-round-seconds", type=float, default=0.5,
                    help="target time of one round per CNNRT_ISA path run")
    ap.add_argument("--min-iterations", type=int, default=3)
    ap.add_argument("--max-iterations", type=int, default=500)
    ap.add_argument("--samples", type=int, default=8, help="seeded random input samples per model")
    ap.add_argument("--models", nargs="*", help="subset: resnet8 dscnn mnist mobilenet_224 mnist_cnnrt")
    ap.add_argument("--command", default=None, help="command line to record in the report")
    ap.add_argument("--zoo", action="store_true",
                    help="time the Keras zoo nets (make zoo-test's big tier) instead, into docs/BENCHMARKS-ZOO*.md")
    ap.add_argument("--zoo-manifest", default=ZOO_MANIFEST, help="the zoo's golden manifest (make_goldens.py)")
    ap.add_argument("--micro", choices=("on", "off", "only"), default="on",
                    help="MUL micro-benchmark (portable vs AVX2): with the models, skipped, or alone "
                         "(printed, no report written)")
    a = ap.parse_args()

    t_start = time.time()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    os.makedirs(a.workdir, exist_ok=True)
    cpu = cpuinfo()
    print(f"cnnrt bench on {cpu['model']}, {cpu['logical']} cores", flush=True)
    micro = []
    if a.micro != "off" and not a.zoo:
        print("MUL micro-benchmark (portable vs AVX2):", flush=True)
        micro = bench_mul_micro(a, a.workdir)
    if a.micro == "only":
        print()
        print(mul_micro_table(micro))
        return 1 if any(v != 0 for r in micro for v in r["diff_tflm"].values()) else 0

    peak, peaks = measure_peak(a.peak_bin, cpu["flags"])
    print("peak: " + ("; ".join(f"{p['instruction']} {p['gops']:.1f} GOPS" for p in peaks) or "n/a"), flush=True)

    cpu_paths = cpu_kernel_paths(cpu["flags"])
    paths = [isa for isa, have, _ in cpu_paths if have]
    print("kernel paths of this CPU: " + ", ".join(paths), flush=True)
    results, packed = [], []
    for key, title, tfl, cpath in (prepare_zoo_models if a.zoo else prepare_models)(a, a.workdir):
        print(f"{title}:", flush=True)
        if not a.zoo:
            packed.append(packed_weights(a, key, title, cpath, paths))
        results.append(bench_model(a, key, title, tfl, cpath, a.workdir, paths))
    if not results:
        sys.exit("run_bench: no model selected")
    peak, peaks = best_peaks((peak, peaks), measure_peak(a.peak_bin, cpu["flags"]))
    print("peak after the models: " + ("; ".join(f"{p['instruction']} {p['gops']:.1f} GOPS" for p in peaks) or "n/a"),
          flush=True)
    vers = versions(results[0]["cnnrt_lib"])
    elapsed = time.time() - t_start
    command = a.command or " ".join([os.path.relpath(sys.executable, REPO)] + [rel(sys.argv[0])] + sys.argv[1:])
    if a.out is None:
        a.out = report_file({r["kernel_path"] for r in results}, ZOO_REPORT_FILES if a.zoo else REPORT_FILES)
    if a.zoo:
        main_table = write_zoo_report(a, results, peak, cpu, vers, started, elapsed, command, cpu_paths, paths)
        print()
        print(main_table)
        print()
        print(op_type_table(results, paths))
    else:
        main_table = write_report(a, results, peak, peaks, cpu, vers, started, elapsed, command, micro, cpu_paths,
                                  paths, packed)
        print()
        print(main_table)
        print()
        print("Targets:")
        print(targets_table(results, packed, peak))
        print()
        print("Packed weights per kernel path:")
        print(packed_table(packed))
        print()
        for r in results:
            print(f"{r['title']} (cnnrt per layer):")
            print(layer_table(r, peak))
            print()
        if micro:
            print("MUL micro-benchmark:")
            print(mul_micro_table(micro))
            print()
    bad = tflm_mismatches(results)
    bad += [f"MUL micro {r['title']} ({isa})" for r in micro for isa, v in r["diff_tflm"].items() if v != 0]
    print(f"wrote {rel(a.out)} ({elapsed / 60:.1f} min)")
    if bad:
        print("cnnrt differs from TFLM on: " + ", ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
