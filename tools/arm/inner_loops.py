#!/usr/bin/env python3
"""Work per instruction of the Arm kernels' inner loops, counted from the
disassembly (aarch64-linux-gnu-objdump) of the two kernel objects the
Makefile builds: build/aarch64/obj/kernels_neon.o (Armv8.0 NEON) and
kernels_dotprod.o (Armv8.2 SDOT).

For each kernel function, every innermost working loop (a backward branch
whose body multiplies, or for kernels without multiplies loads a 128-bit
vector, and holds no other such loop) is found and its work per instruction
reported for the best and the worst loop (e.g. Conv2D's interior loop and
its loop over padded taps). Work is counted per instruction:
  SDOT                      16 int8 multiply-accumulates
  SMULL/SMULL2 (.8h)         8 (int8 x int8 -> int16 products)
  SMLAL/SMLAL2 (.4s)         4 (int16 x int16 + int32)
Kernels without multiplies (Add, pooling, Mean) process 16 int8 lanes per
iteration of their inner loop (one vector of channels); they report the
instructions per iteration and lanes per instruction.
The instruction limit for comparison: 16 MACs per SDOT.

  usage: inner_loops.py [--objdump CMD] OBJ... > table.md
"""
import argparse
import re
import subprocess
import sys

KERNELS = [
    ("Conv2D", "cnnrtConv2DArm"),
    ("Depthwise Conv2D", "cnnrtDepthwiseArm"),
    ("FullyConnected", "cnnrtFullyConnectedArm"),
    ("Add", "cnnrtAddArm"),
    ("MaxPool2D", "cnnrtMaxPoolArm"),
    ("AveragePool2D", "cnnrtAveragePoolArm"),
    ("Mean", "cnnrtMeanArm"),
]

LINE = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
BRANCH = re.compile(r"^(b(\.\w+)?|cbn?z|tbn?z)$")


def macs(op, args):
    if op == "sdot":
        return 16
    if op in ("smull", "smull2") and ".8h" in args:
        return 8
    if op in ("smlal", "smlal2") and ".4s" in args:
        return 4
    return 0


def loads(op, args):
    if op in ("ldr", "ldur") and re.match(r"q\d+,", args):
        return 16
    if op == "ldp" and re.match(r"q\d+, q\d+,", args):
        return 32
    if op == "ld1" and ".16b" in args:
        return 16
    return 0


def functions(objdump, obj):
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", obj], check=True,
                         capture_output=True, text=True).stdout
    funcs, name, body = {}, None, []
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            if name:
                funcs[name] = body
            name, body = m.group(1), []
            continue
        m = LINE.match(line)
        if m and name:
            body.append((int(m.group(1), 16), m.group(2), m.group(3)))
    if name:
        funcs[name] = body
    return funcs


def loops(body):
    """(start, end) address pairs of every loop (backward branch)."""
    found = []
    for addr, op, args in body:
        if BRANCH.match(op):
            t = re.search(r"\b([0-9a-f]+) <", args)
            if t and int(t.group(1), 16) < addr:
                found.append((int(t.group(1), 16), addr))
    return found


def work_loops(body):
    """Every loop that does work and has no working loop inside it:
    [(mac work, instructions, instruction list)]."""
    def work(s, e):
        insns = [(op, args) for a, op, args in body if s <= a <= e]
        return sum(macs(op, args) for op, args in insns), sum(loads(op, args) for op, args in insns), insns
    all_loops = loops(body)
    found = []
    for s, e in all_loops:
        mac, ld, insns = work(s, e)
        if mac == 0 and ld == 0:
            continue
        inner = [(s2, e2) for s2, e2 in all_loops if (s2, e2) != (s, e) and s <= s2 and e2 <= e]
        if any(work(s2, e2)[0] > 0 or (mac == 0 and work(s2, e2)[1] > 0) for s2, e2 in inner):
            continue
        found.append((mac, len(insns), insns))
    # Kernels with multiplies: only their multiplying loops.
    if any(m for m, _, _ in found):
        found = [f for f in found if f[0]]
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objdump", default="aarch64-linux-gnu-objdump")
    ap.add_argument("objs", nargs="+")
    a = ap.parse_args()
    print("| kernel | build | inner loops | instructions per iteration | work per iteration | per instruction (best / worst loop) |")
    print("|---|---|---:|---|---|---:|")
    for obj in a.objs:
        build = "dotprod (SDOT)" if "dotprod" in obj else "neon"
        funcs = functions(a.objdump, obj)
        for label, key in KERNELS:
            names = [n for n in funcs if key in n]
            if not names:
                print(f"inner_loops: {key} not found in {obj}", file=sys.stderr)
                return 1
            found = work_loops(funcs[names[0]])
            if not found:
                print(f"inner_loops: no working loop in {key}", file=sys.stderr)
                return 1
            rates = sorted(((m if m else 16) / n, m, n, insns) for m, n, insns in found)
            worst, best = rates[0], rates[-1]
            sizes = ", ".join(str(n) for n in sorted({n for _, _, n, _ in rates}))
            if best[1]:
                kinds = sorted({op for op, args in best[3] if macs(op, args)})
                works = ", ".join(sorted({f"{m} MACs" for _, m, _, _ in rates}))
                print(f"| {label} | {build} | {len(found)} | {sizes} | {works} ({', '.join(kinds)}) "
                      f"| {best[0]:.2f} / {worst[0]:.2f} MACs |")
            else:
                print(f"| {label} | {build} | {len(found)} | {sizes} | 16 int8 lanes | {best[0]:.2f} / {worst[0]:.2f} lanes |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
