#!/usr/bin/env bash
# The "Arm (aarch64)" section of docs/BENCHMARKS.md (between the arm:begin
# and arm:end markers; tools/bench/run_bench.py keeps it when `make bench`
# rewrites the rest): library and kernel code sizes, the inner loops' work
# per instruction counted from the disassembly (tools/arm/inner_loops.py),
# and per model the prepared model block and the arena on every path (the
# aarch64 library under qemu-aarch64, the x86 one natively). No times: QEMU
# executes Arm code by translation, its speed says nothing about a real core.
#
#   usage: tools/arm/report.sh X86_SIZES ARM_SIZES MODEL... (run by `make arm-report`)
set -euo pipefail
cd "$(dirname "$0")/../.."
x86=$1 arm=$2; shift 2
models=("$@")
qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/lib/aarch64-linux-gnu)
text() { size -A "$1" | awk '$1 == ".text" {print $2}'; }
fmt() { printf "%'d" "$1"; }
tmp=$(mktemp)
{
  echo "<!-- arm:begin (written by \`make arm-report\`: tools/arm/report.sh) -->"
  echo "## Arm (aarch64)"
  echo
  echo "Made by \`make arm-report\` on $(date -u +%Y-%m-%d) from the cross build (\`make lib ARCH=aarch64\`:"
  echo "Embedded Swift for aarch64-none-none-elf, linked by aarch64-linux-gnu-gcc). The Arm kernels are checked"
  echo "under qemu-aarch64 (\`make test ARCH=aarch64\`: every golden vector on the portable, neon and dotprod"
  echo "paths, 0 bytes differ from TFLM); they have not run on Arm hardware yet, and QEMU run times are not"
  echo "speed figures, so none are given here."
  echo
  echo "### Code size (.text, bytes)"
  echo
  echo "| file | .text |"
  echo "|---|---:|"
  echo "| build/aarch64/lib/libcnnrt.so (runtime + both Arm kernel builds) | $(fmt "$(text build/aarch64/lib/libcnnrt.so)") |"
  echo "| build/aarch64/obj/kernels_neon.o | $(fmt "$(text build/aarch64/obj/kernels_neon.o)") |"
  echo "| build/aarch64/obj/kernels_dotprod.o | $(fmt "$(text build/aarch64/obj/kernels_dotprod.o)") |"
  echo "| build/lib/libcnnrt.so (x86-64, for comparison) | $(fmt "$(text build/lib/libcnnrt.so)") |"
  echo
  echo "### Inner loops: work per instruction (from the disassembly)"
  echo
  echo "Counted by \`tools/arm/inner_loops.py\` over every innermost working loop of each kernel"
  echo "(SDOT = 16 int8 MACs, SMULL/SMULL2 .8h = 8, SMLAL .4s = 4; the limit is 16 MACs per SDOT)."
  echo "Conv2D's SDOT interior loop computes 4 output pixels x 16 channels x 4 input channels (256 MACs in"
  echo "30 instructions), its NEON one 2 pixels (128 MACs in 45); the cheapest Conv2D loop feeds a padded"
  echo "row (no input loads), the dearest gathers a row-layout group byte by byte at the image border"
  echo "(input channels not a multiple of 4). Depthwise's interior loop is the 12-instruction one."
  echo
  python3 tools/arm/inner_loops.py build/aarch64/obj/kernels_neon.o build/aarch64/obj/kernels_dotprod.o
  echo
  echo "### Memory per model (bytes)"
  echo
  echo "The prepared model block (packed weights included, \`cnn_model_memory_size\`) and the arena"
  echo "(\`cnn_context_arena_size\`) per kernel path. The arena does not depend on the path or the target."
  echo
  echo "| model | file bytes | x86 avx2 block | aarch64 portable block | neon block | dotprod block | arena (every path) |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for m in "${models[@]}"; do
    read -r _ _ xb xa < <(CNNRT_ISA=avx2 "$x86" "$m")
    read -r _ _ pb pa < <("${qemu[@]}" -cpu max -E CNNRT_ISA=portable "$arm" "$m")
    read -r _ _ nb na < <("${qemu[@]}" -cpu max -E CNNRT_ISA=neon "$arm" "$m")
    read -r _ _ db da < <("${qemu[@]}" -cpu max -E CNNRT_ISA=dotprod "$arm" "$m")
    if [ "$xa" != "$pa" ] || [ "$pa" != "$na" ] || [ "$na" != "$da" ]; then
      echo "report: $m: the arena differs between paths ($xa $pa $na $da)" >&2; exit 1
    fi
    echo "| $(basename "$m") | $(fmt "$(stat -c %s "$m")") | $(fmt "$xb") | $(fmt "$pb") | $(fmt "$nb") | $(fmt "$db") | $(fmt "$da") |"
  done
  echo "<!-- arm:end -->"
} > "$tmp"
out=docs/BENCHMARKS.md
python3 - "$out" "$tmp" <<'PY'
import re, sys
out, new = sys.argv[1], open(sys.argv[2]).read().rstrip("\n")
text = open(out).read()
pat = re.compile(r"<!-- arm:begin.*?<!-- arm:end -->", re.S)
text = pat.sub(lambda m: new, text) if pat.search(text) else text.rstrip("\n") + "\n\n" + new + "\n"
open(out, "w").write(text)
PY
rm -f "$tmp"
echo "arm-report: wrote the Arm section of $out"
