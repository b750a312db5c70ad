#!/bin/sh
# The AVX-512 kernels are compiled with AVX512-VBMI for the Add kernel's byte
# tables (cnnrtAddAVX512, TermPlanes512) and the byte-table activations
# (cnnrtByteTableAVX512), which run only where the CPU has VBMI
# (avx512ByteTableForm at load). A VBMI instruction in any other function
# would fault on an AVX-512 VNNI CPU without VBMI: fail if there is one.
#   tools/simd/check_vbmi.sh OBJECT...
status=0
for obj in "$@"; do
  bad=$(objdump -d --no-show-raw-insn "$obj" | awk '/^[0-9a-f]+ <.*>:$/ {fn = $2}
    /\t(vpermb|vpermi2b|vpermt2b|vpmultishiftqb) / && fn !~ /cnnrtAdd|TermPlanes512|cnnrtByteTable/ {print fn}' | sort -u)
  if [ -n "$bad" ]; then
    echo "$obj: AVX512-VBMI instructions outside the Add and byte-table kernels: $bad" >&2
    status=1
  fi
done
exit $status
