#!/usr/bin/env bash
# Installs what building and testing cnnrt needs beyond the Swift toolchain:
# cmocka (C tests), libpng/libjpeg-turbo/zlib (the CLI's image readers),
# cmake and pkg-config (the install test builds the C example with both). Idempotent; quiet when everything is present.
# ARCH=aarch64 on an x86-64 host (make ... ARCH=aarch64) adds the cross
# toolchain, its AddressSanitizer runtime, user-mode QEMU and the arm64 cmocka
# (Debian multiarch).
# `install-deps.sh cortex-m` (make ... ARCH=cortex-m4|cortex-m0plus) also installs the Arm bare-metal
# toolchain, newlib and qemu-system-arm (the firmware test).
# `install-deps.sh mca` (make mca) installs llvm-22 for llvm-mca-22 and
# llvm-objdump-22 (tools/bench/mca_loop.py), nothing else needs them.
set -euo pipefail
need=()
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ "${ARCH:-$(uname -m)}" = aarch64 ] && [ "$(uname -m)" != aarch64 ]; then
  command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
  [ -f /usr/aarch64-linux-gnu/include/stdio.h ] || need+=(libc6-dev-arm64-cross)
  command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
  # AddressSanitizer runtime for the target (make ctest-asan ARCH=aarch64)
  compgen -G '/usr/aarch64-linux-gnu/lib/libasan.so.*' >/dev/null || need+=(libasan8-arm64-cross)
  if [ ! -f /usr/lib/aarch64-linux-gnu/libcmocka.so ]; then
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      echo "install-deps: adding the arm64 architecture (for libcmocka-dev:arm64)"
      $SUDO dpkg --add-architecture arm64
    fi
    need+=(libcmocka-dev:arm64)
  fi
fi
[ -f /usr/include/cmocka.h ] || need+=(libcmocka-dev)
[ -f /usr/include/png.h ] || need+=(libpng-dev)
[ -f /usr/include/jpeglib.h ] || need+=(libjpeg62-turbo-dev)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
command -v readelf >/dev/null || need+=(binutils)
command -v g++ >/dev/null || need+=(g++)
command -v python3 >/dev/null || need+=(python3)
command -v cmake >/dev/null || need+=(cmake)
command -v pkg-config >/dev/null || need+=(pkg-config)
if [ "${1:-}" = cortex-m ]; then
  command -v arm-none-eabi-gcc >/dev/null || need+=(gcc-arm-none-eabi)
  [ -f /usr/lib/arm-none-eabi/include/stdlib.h ] || need+=(libnewlib-arm-none-eabi)
  command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
fi
if [ "${1:-}" = mca ]; then
  command -v llvm-mca-22 >/dev/null || need+=(llvm-22)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
