#!/bin/sh
# The AVX-512 kernels are compiled with AVX512-VBMI for the Add kernel's byte
# tables (cnnrtAddAVX512, TermPlanes512), which run only where the CPU has VBMI
# (cnnrt_add_args.byte_tables). A VBMI instruction in any other function
# would fault on an AVX-512 VNNI CPU without VBMI: fail if there is one.
#   tools/simd/check_vbmi.sh OBJECT...
status=0
for obj in "$@"; do
  bad=$(objdump -d --no-show-raw-insn "$obj" | awk '/^[0-9a-f]+ <.*>:$/ {fn = $2}
    /\t(vpermb|vpermi2b|vpermt2b|vpmultishiftqb) / && fn !~ /cnnrtAdd|TermPlanes512/ {print fn}' | sort -u)
  if [ -n "$bad" ]; then
    echo "$obj: AVX512-VBMI instructions outside the Add kernel: $bad" >&2
    status=1
  fi
done
exit $status
