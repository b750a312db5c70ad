#!/usr/bin/env python3
"""Static throughput of a kernel's inner loop, from the built object file, by
llvm-mca's scheduling models of other CPUs (for kernels this machine cannot
time, e.g. the AVX-512 ones on an AVX2-only CPU).

    make mca        # installs llvm-22 (llvm-mca-22: znver4, znver5, sapphirerapids, ...),
                    # builds the library, runs the AVX-512 3x3 depthwise loop
    make mca MCA_ARGS="build/obj/kernels_avx2.o depthwiseRowsWhole --mnemonic vpmaddwd --cpu znver3"
    python3 tools/bench/mca_loop.py build/obj/kernels_avx512.o depthwiseBand --count 12 --drop 'vpunpck.*'

A loop is the instructions from the target of a backward branch to that
branch. The script disassembles the symbol (the first whose mangled name
contains SYMBOL), lists every loop with its instruction count and the count
of --mnemonic, and runs llvm-mca on each loop with exactly --count of them
(every loop with at least one without --count), branches removed, for each
--cpu. llvm-mca
reports cycles per iteration of the loop body as a straight block: no
branch mispredictions, no cache misses, every load an L1 hit. Its models
are approximate; its znver5 model is, in LLVM 22, the same as its znver4
one (512-bit operations as two 256-bit halves), which Zen 5 does not do.
"""
import argparse
import re
import subprocess
import sys


def disassemble(objdump, obj, symbol):
    nm = objdump.replace("objdump", "nm")  # the same LLVM's nm
    names = subprocess.run([nm, obj], check=True, capture_output=True, text=True).stdout.split("\n")
    matches = [l.split()[-1] for l in names if symbol in l and " T " in l]
    if not matches:
        sys.exit(f"mca_loop: no text symbol containing {symbol!r} in {obj}")
    sym = matches[0]
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", f"--disassemble-symbols={sym}", obj], check=True,
                         capture_output=True, text=True).stdout
    insns = []
    for line in out.split("\n"):
        m = re.match(r"\s+([0-9a-f]+):\s+(\S.*)$", line)
        if m:
            text = re.sub(r"<[^>]*>", "", m.group(2).split("#")[0]).strip()
            insns.append((int(m.group(1), 16), text))
    return sym, insns


def loops(insns):
    """(start, end) index pairs: a backward branch at `end` to `start`."""
    index = {a: i for i, (a, _) in enumerate(insns)}
    found = []
    for i, (a, text) in enumerate(insns):
        m = re.match(r"j\w+\s+0x([0-9a-f]+)", text)
        if m:
            target = int(m.group(1), 16)
            if target <= a and target in index:
                found.append((index[target], i))
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("object")
    ap.add_argument("symbol", help="part of the function's mangled name")
    ap.add_argument("--mnemonic", default="vpdpbusd")
    ap.add_argument("--count", type=int, help="only loops with this many --mnemonic instructions")
    ap.add_argument("--cpu", nargs="*", default=["znver4", "sapphirerapids"])
    ap.add_argument("--mca", default="llvm-mca-22")
    ap.add_argument("--objdump", default="llvm-objdump-22")
    ap.add_argument("--save", help="write the (last) selected loop's assembly here")
    ap.add_argument("--drop", help="a what-if: leave out the instructions whose mnemonic matches this regex")
    a = ap.parse_args()
    sym, insns = disassemble(a.objdump, a.object, a.symbol)
    found = loops(insns)
    print(f"{sym}: {len(insns)} instructions, {len(found)} loops")
    for s, e in found:
        body = [t for _, t in insns[s:e + 1] if not t.startswith("j")]
        n = sum(1 for t in body if t.split()[0] == a.mnemonic)
        if n == 0 or (a.count is not None and n != a.count):
            continue
        print(f"  loop {insns[s][0]:#x}..{insns[e][0]:#x}: {len(body)} instructions, {n} {a.mnemonic}")
        if a.drop:
            kept = [t for t in body if not re.fullmatch(a.drop, t.split()[0])]
            print(f"    what-if: {len(body) - len(kept)} instructions matching {a.drop!r} left out")
            body = kept
        asm = "\n".join(body) + "\n"
        if a.save:
            open(a.save, "w").write(asm)
        for cpu in a.cpu:
            r = subprocess.run([a.mca, "-mtriple=x86_64", f"-mcpu={cpu}", "-iterations=200", "-bottleneck-analysis"],
                               input=asm, capture_output=True, text=True)
            cycles = re.search(r"Total Cycles:\s+(\d+)", r.stdout)
            rthr = re.search(r"Block RThroughput:\s+([\d.]+)", r.stdout)
            pressure = re.findall(r"- (\w+)\s+\[ ([\d.]+)% \]", r.stdout)
            busy = ", ".join(f"{p} {v}%" for p, v in pressure if float(v) >= 50)
            if not cycles:
                print(f"    {cpu}: llvm-mca failed: {r.stderr.strip()[:200]}")
                continue
            print(f"    {cpu}: {int(cycles.group(1)) / 200:.1f} cycles per iteration (block reciprocal throughput "
                  f"{rthr.group(1) if rthr else '?'}); resources over 50 % busy: {busy or 'none'}")


if __name__ == "__main__":
    main()
