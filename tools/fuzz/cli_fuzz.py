#!/usr/bin/env python3
"""Mutation fuzzing of the cnnrt command line tool's file readers.

    python3 tools/fuzz/cli_fuzz.py CNNRT SECONDS [--seed N] [--kind models|data|both]
                                   [--artifacts DIR]

`make fuzz` covers the runtime (libFuzzer on the C API). This covers the
Swift readers in front of it, which a user reaches with any file:

  models  TFLite flatbuffers (`cnnrt import`, `cnnrt quantize` for float ones)
          and ONNX protobufs (`cnnrt quantize`, with a seeded calibration
          array of the original model's input shape, which cnnrt names);
  data    PNG (chunk CRCs recomputed after most mutations, so the changes
          reach the decoder), JPEG, PGM (`cnnrt classify`), NumPy .npy and
          .npz, stored and deflated (`cnnrt eval --data`).

Standard library only (the arrays are written by hand), so that `make test`
runs it with the system python3. Seeds are the project's own files
(Tests/Golden, samples/, models/). Each
case mutates one seed 1 to 6 times (bit flip, random byte, a 32-bit field set
to an edge value, bytes deleted or inserted), runs the tool on it with a
timeout and counts exit statuses. A crash is a death by signal, a timeout, or
a Swift runtime trap ("Fatal error"); the file is kept in --artifacts and the
run exits 1. Exit statuses 2-6 and 64 are the tool's documented errors.
"""
import argparse
import glob
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EDGE32 = (0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0, 1)


def write_npy(path, shape, dtype, data):
    """A NumPy .npy file (format 1.0), written without numpy."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        dtype, "".join(f"{d}, " for d in shape))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + data)


def model_input_shape(cnnrt, onnx_model, work):
    """The NHWC input shape of an ONNX model, from cnnrt's own refusal of a
    one-value calibration array ("... samples of the model input [1, H, W, C]")."""
    probe = os.path.join(work, "probe.npy")
    write_npy(probe, (1,), "<f4", struct.pack("<f", 0))
    r = subprocess.run([cnnrt, "quantize", onnx_model, "-o", os.path.join(work, "probe.cnnrt"),
                        "--calibration", probe], capture_output=True, text=True)
    m = re.search(r"model input \[([0-9, ]+)\]", r.stderr)
    return [int(d) for d in m.group(1).split(",")] if m else None


def model_seeds(cnnrt, work, rng):
    """[(argv builder, seed file)] for the model readers."""
    seeds = []
    for f in sorted(glob.glob(os.path.join(REPO, "Tests", "Golden", "**", "*.tflite"), recursive=True)):
        if os.sep + "float" + os.sep not in f:
            seeds.append((lambda m: ["import", m, "-o", os.path.join(work, "out.cnnrt")], f))
    onnx = sorted(glob.glob(os.path.join(REPO, "Tests", "Golden", "onnx", "**", "*.onnx"), recursive=True))
    onnx += [os.path.join(REPO, "models", n) for n in ("mnist_float.onnx", "mnist_qdq.onnx")]
    for k, f in enumerate(onnx):
        # Four seeded samples of the unmutated model's input shape (the
        # mutated copy may or may not still match it).
        shape = model_input_shape(cnnrt, f, work)
        if shape is None:
            sys.exit(f"cli_fuzz: cnnrt did not name the input shape of {f}")
        cal = os.path.join(work, f"calib{k}.npy")
        n = 4 * shape[1] * shape[2] * shape[3]
        write_npy(cal, [4] + shape[1:], "<f4", struct.pack(f"<{n}f", *(rng.gauss(0, 1) for _ in range(n))))
        seeds.append((lambda m, c=cal: ["quantize", m, "-o", os.path.join(work, "out.cnnrt"), "--calibration", c],
                      f))
    return seeds


def data_seeds(work, rng):
    """[(argv builder, seed file)] for the image and array readers."""
    model = os.path.join(REPO, "models", "mnist.cnnrt")
    pixels = bytes(rng.randrange(256) for _ in range(3 * 28 * 28))
    labels = struct.pack("<3q", 1, 2, 3)
    write_npy(os.path.join(work, "x.npy"), (3, 28, 28, 1), "|u1", pixels)
    write_npy(os.path.join(work, "f.npy"), (3, 28, 28, 1), "<f4", struct.pack("<2352f", *(p / 255 for p in pixels)))
    write_npy(os.path.join(work, "y.npy"), (3,), "<i8", labels)
    arrays = [os.path.join(work, n) for n in ("u8.npz", "f32_deflated.npz", "u8.npy")]
    for path, x, how in ((arrays[0], "x.npy", zipfile.ZIP_STORED), (arrays[1], "f.npy", zipfile.ZIP_DEFLATED)):
        with zipfile.ZipFile(path, "w", how) as z:
            z.write(os.path.join(work, x), "x.npy")
            z.write(os.path.join(work, "y.npy"), "y.npy")
    shutil.copy(os.path.join(work, "x.npy"), arrays[2])
    images = sorted(glob.glob(os.path.join(REPO, "Tests", "Golden", "images", "*")))
    images += sorted(glob.glob(os.path.join(REPO, "samples", "mnist", "*.pgm")))[:3]
    seeds = [(lambda m: ["classify", model, m], f) for f in images]
    seeds += [(lambda m: ["eval", model, "--data", m, "--no-progress"], f) for f in arrays]
    return seeds


def fix_png_crcs(b):
    """Recompute each chunk's CRC so that a mutated PNG is not rejected on
    its checksum before the decoder sees the change."""
    if b[:8] != b"\x89PNG\r\n\x1a\n":
        return b
    b, p = bytearray(b), 8
    while p + 12 <= len(b):
        n = int.from_bytes(b[p:p + 4], "big")
        if p + 12 + n > len(b):
            break
        b[p + 8 + n:p + 12 + n] = zlib.crc32(bytes(b[p + 4:p + 8 + n])).to_bytes(4, "big")
        p += 12 + n
    return bytes(b)


def mutate(b, rng):
    b = bytearray(b)
    for _ in range(rng.randint(1, 6)):
        n = len(b)
        if n == 0:
            break
        k, p = rng.randrange(5), rng.randrange(n)
        if k == 0:
            b[p] ^= 1 << rng.randrange(8)
        elif k == 1:
            b[p] = rng.randrange(256)
        elif k == 2 and p + 4 <= n:
            v = rng.choice(EDGE32 + (rng.randrange(1 << 32), n, n - p))
            b[p:p + 4] = v.to_bytes(4, rng.choice(("little", "big")))
        elif k == 3:
            del b[p:p + rng.randint(1, 16)]
        else:
            b[p:p] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cnnrt")
    ap.add_argument("seconds", type=float)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kind", choices=("models", "data", "both"), default="both")
    ap.add_argument("--artifacts", default=os.path.join(REPO, "build", "fuzz", "cli-artifacts"))
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix="cnnrt-cli-fuzz-")
    seeds = []
    if a.kind in ("models", "both"):
        seeds += model_seeds(a.cnnrt, work, rng)
    if a.kind in ("data", "both"):
        seeds += data_seeds(work, rng)
    print(f"cli_fuzz: {len(seeds)} seed files, {a.seconds:g} s, seed {a.seed}", flush=True)
    os.makedirs(a.artifacts, exist_ok=True)
    t0, runs, statuses, crashes = time.time(), 0, {}, 0
    while time.time() - t0 < a.seconds:
        argv, seed = rng.choice(seeds)
        data = mutate(open(seed, "rb").read(), rng)
        if rng.random() < 0.7:
            data = fix_png_crcs(data)
        case = os.path.join(work, "case" + os.path.splitext(seed)[1])
        with open(case, "wb") as f:
            f.write(data)
        try:
            r = subprocess.run([a.cnnrt] + argv(case), capture_output=True, timeout=a.timeout)
            status, err = r.returncode, r.stderr.decode(errors="replace")
        except subprocess.TimeoutExpired:
            status, err = "timeout", ""
        runs += 1
        statuses[status] = statuses.get(status, 0) + 1
        if status == "timeout" or status < 0 or status >= 128 or "Fatal error" in err:
            crashes += 1
            keep = os.path.join(a.artifacts, f"crash-{a.seed}-{runs}{os.path.splitext(seed)[1]}")
            with open(keep, "wb") as f:
                f.write(data)
            print(f"CRASH ({status}) from {os.path.relpath(seed, REPO)}: kept {keep}\n{err[-600:]}", flush=True)
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0])))
    print(f"cli_fuzz: {runs} mutated files in {time.time() - t0:.0f} s, {crashes} crashes; exit statuses {summary}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
