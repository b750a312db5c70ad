#!/usr/bin/env python3
"""Prepares LLVM IR from swiftc for an AddressSanitizer build on aarch64 Linux.

The Linux libcnnrt.so for aarch64 is compiled for the bare-metal target
aarch64-none-none-elf (Embedded Swift has no aarch64 Linux standard library),
and swiftc refuses -sanitize=address for a target without a sanitizer runtime.
`make ctest-asan ARCH=aarch64` therefore has swiftc emit LLVM IR, and this
script

  * sets the module's triple to aarch64-unknown-linux-gnu, so that the
    sanitizer pass uses the AArch64 Linux shadow mapping that the libasan of
    the test programs expects, and
  * adds `sanitize_address` to every attribute group a function definition
    uses (the pass instruments only functions that carry it; clang adds it to
    C functions itself).

The toolchain's clang then compiles the result with -fsanitize=address.

    asan_ir.py IN.ll OUT.ll
"""
import re
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    lines = open(src, encoding="utf-8").read().split("\n")

    triple = re.compile(r'^target triple = "aarch64-[^"]*"$')
    if sum(1 for line in lines if triple.match(line)) != 1:
        print(f"{src}: no single aarch64 target triple", file=sys.stderr)
        return 1

    # Attribute groups referenced by a definition: `define ... #N {`.
    groups = set()
    definitions = 0
    for line in lines:
        if line.startswith("define "):
            definitions += 1
            found = re.findall(r" #(\d+)\b", line)
            if not found:
                print(f"{src}: a definition without an attribute group: {line[:120]}", file=sys.stderr)
                return 1
            groups.add(found[-1])

    marked = 0
    out = []
    for line in lines:
        if triple.match(line):
            line = 'target triple = "aarch64-unknown-linux-gnu"'
        else:
            m = re.match(r"^attributes #(\d+) = \{ ", line)
            if m and m.group(1) in groups and "sanitize_address" not in line:
                line = line.replace(" = { ", " = { sanitize_address ", 1)
                marked += 1
        out.append(line)
    if definitions == 0 or marked != len(groups):
        print(f"{src}: {definitions} definitions, {marked} of {len(groups)} attribute groups marked",
              file=sys.stderr)
        return 1
    with open(dst, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
