#!/usr/bin/env python3
"""Size, RAM and instruction-count figures of the Cortex-M firmware test.

Reads the firmware's linker map (what each object put in flash and RAM) and
the log of its QEMU run (per model: arena, model block, painted peak stack,
instructions per inference under -icount shift=0) and prints a Markdown
table, or rewrites the part of --out between the figures markers.
Run by `make embedded-figures ARCH=cortex-m4` (docs/EMBEDDED.md)."""
import argparse
import collections
import re
import sys

def markers(arch):
    return f"<!-- figures:{arch}:begin -->", f"<!-- figures:{arch}:end -->"


def map_sizes(path):
    """{(group, kind): bytes} for the allocated input sections of the map."""
    lines = open(path).read().split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith("Linker script and memory map"))
    sizes = collections.Counter()
    pending = None
    for line in lines[start:]:
        m = re.match(r"^ (\.\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
        if m:
            sec, size, obj = m.group(1), int(m.group(3), 16), m.group(4)
        else:
            m1 = re.match(r"^ (\.\S+)$", line)
            m2 = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
            if m1:
                pending = m1.group(1)
                continue
            if not (m2 and pending):
                pending = None
                continue
            sec, size, obj = pending, int(m2.group(2), 16), m2.group(3)
            pending = None
        kind = sec.split(".")[1] if sec.count(".") >= 1 else sec
        if kind not in ("text", "rodata", "data", "bss", "vectors"):
            continue  # debug info, ARM.exidx/attributes, notes, linker stubs
        if kind == "vectors":
            kind = "rodata"
        if "libcnnrt.a" in obj:
            group = "library"
        elif "libgcc.a" in obj or "libc_nano.a" in obj or "libc.a" in obj:
            group = "libgcc+libc"
        else:
            name = obj.split("/")[-1]
            mm = re.match(r"(\w+)_model\.o$", name)
            group = "model:" + mm.group(1) if mm else ("goldens" if name == "goldens.o" else "harness")
        sizes[(group, kind)] += size
    return sizes


def log_figures(path):
    """{model: {field: value}} from the firmware's output."""
    models, current, result = collections.OrderedDict(), None, None
    for line in open(path, errors="replace"):
        m = re.match(r"^(\w+): (\d+) of (\d+) golden samples run, (\d+) of (\d+) output bytes differ from TFLM", line)
        if m:
            current = m.group(1)
            models[current] = {"check": f"{m.group(2)} of {m.group(3)} TFLM samples, {m.group(4)} of {m.group(5)} bytes differ"}
            continue
        m = re.match(r"^(\w+): (\d+) images classified, (\d+) with a class other.*?, (\d+) of (\d+) output bytes differ from the x86-64 library", line)
        if m:
            current = m.group(1)
            models[current] = {"check": f"{m.group(2)} images via cnn_classify: {m.group(3)} wrong classes, "
                                        f"{m.group(4)} of {m.group(5)} bytes differ from the x86-64 library"}
            continue
        m = re.match(r"^\s+instructions per (?:inference|cnn_classify) (\d+) .*MACs (\d+), MACs per 1000 instructions (\d+)", line)
        if m and current:
            models[current].update(insns=int(m.group(1)), macs=int(m.group(2)), mpki=int(m.group(3)))
            continue
        m = re.match(r"^\s+model array (\d+) B \(flash\), model block (\d+) B, arena (\d+) B \(RAM\), peak stack (\d+) B", line)
        if m and current:
            models[current].update(array=int(m.group(1)), block=int(m.group(2)), arena=int(m.group(3)), stack=int(m.group(4)))
            continue
        m = re.match(r"^\s+op (\w+) (\w+): (\d+) ops, instructions (\d+), MACs (\d+), per mille of the inference (\d+)", line)
        if m and m.group(1) in models:
            models[m.group(1)].setdefault("ops", []).append(
                (m.group(2), int(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6))))
            continue
        if line.startswith("RESULT:"):
            result = line.strip()
    return models, result


def kib(n):
    return f"{n:,} B ({n / 1024:.1f} KiB)"


def ops_run(path):
    """(OPS list, RESULT line, ResNet-8 line) of the reduced-op firmware's log."""
    ops = result = check = None
    for line in open(path, errors="replace"):
        m = re.match(r'^library built with only ResNet-8\'s ops: OPS="(.*)"', line)
        if m:
            ops = m.group(1)
        m = re.match(r"^resnet8: (\d+) of (\d+) golden samples run, (\d+) of (\d+) output bytes differ from TFLM", line)
        if m:
            check = f"{m.group(1)} of {m.group(2)} TFLM samples, {m.group(3)} of {m.group(4)} bytes differ"
        if line.startswith("RESULT:"):
            result = line.strip()
    return ops, result, check


def table(sizes, models, result, arch, command, ops_sizes=None, ops_info=None):
    lib_text, lib_ro = sizes[("library", "text")], sizes[("library", "rodata")]
    lib_data, lib_bss = sizes[("library", "data")], sizes[("library", "bss")]
    support = sizes[("libgcc+libc", "text")] + sizes[("libgcc+libc", "rodata")]
    out = [f"Target `{arch}`, measured by `{command}` ({result or 'no RESULT line'}).", ""]
    out.append("| | |")
    out.append("|---|---:|")
    out.append(f"| Library flash: `.text` | {kib(lib_text)} |")
    out.append(f"| Library flash: `.rodata` | {kib(lib_ro)} |")
    out.append(f"| Library flash: `.text` + `.rodata` (every op linked; no model) | **{kib(lib_text + lib_ro)}** |")
    if ops_sizes is not None:
        ops, ops_result, ops_check = ops_info
        t, r = ops_sizes[("library", "text")], ops_sizes[("library", "rodata")]
        out.append(f"| Library flash with only ResNet-8's ops (`OPS=\"{ops}\"`): `.text` + `.rodata` "
                   f"(ResNet-8 firmware: {ops_check}; {ops_result or 'no RESULT line'}) | **{kib(t + r)}** |")
    out.append(f"| Library RAM: `.data` + `.bss` | {lib_data + lib_bss:,} B |")
    out.append(f"| libgcc + newlib code it pulls in with the test harness (memcpy/memset, 64-bit and soft-double helpers) | {kib(support)} |")
    out.append("")
    out.append("| Model | Model array (flash) | Model block (RAM) | Arena (RAM) | Peak stack (painted) | "
               "Instructions / inference | MACs / inference | MACs per instruction | Check |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, f in models.items():
        mpi = f"{f['macs'] / f['insns']:.3f}" if f.get("insns") else "-"
        out.append(f"| {name} | {f.get('array', 0):,} B | {f.get('block', 0):,} B | {f.get('arena', 0):,} B | "
                   f"{f.get('stack', 0):,} B | {f.get('insns', 0):,} | {f.get('macs', 0):,} | {mpi} | {f['check']} |")
    profiled = [(name, f["ops"]) for name, f in models.items() if f.get("ops")]
    if profiled:
        out.append("")
        out.append("Where the instructions go (one inference with an op observer; per op type):")
        out.append("")
        out.append("| Model | Op type | Ops | Instructions | Share | MACs | MACs per instruction |")
        out.append("|---|---|---:|---:|---:|---:|---:|")
        for name, ops in profiled:
            for typ, count, insns, macs, permille in sorted(ops, key=lambda o: -o[2]):
                mpi = f"{macs / insns:.3f}" if insns and macs else "-"
                out.append(f"| {name} | {typ} | {count} | {insns:,} | {permille / 10:.1f} % | {macs:,} | {mpi} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--map", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ops-map", help="map of the firmware linked with the reduced-op library (firmware-ops-test)")
    ap.add_argument("--ops-log", help="log of that firmware's run")
    ap.add_argument("--arch", required=True)
    ap.add_argument("--command", default="make embedded-figures ARCH=cortex-m4")
    ap.add_argument("--out", help="Markdown file whose figures section is replaced")
    a = ap.parse_args()
    models, result = log_figures(a.log)
    ops_sizes = map_sizes(a.ops_map) if a.ops_map else None
    ops_info = ops_run(a.ops_log) if a.ops_log else (None, None, None)
    text = table(map_sizes(a.map), models, result, a.arch, a.command, ops_sizes, ops_info)
    if not a.out:
        print(text)
        return 0
    BEGIN, END = markers(a.arch)
    doc = open(a.out).read()
    if BEGIN not in doc or END not in doc:
        sys.exit(f"{a.out}: no {BEGIN} ... {END} section")
    head, rest = doc.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    open(a.out, "w").write(head + BEGIN + "\n" + text + "\n" + END + tail)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
