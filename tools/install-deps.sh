#!/usr/bin/env bash
# Installs what building and testing cnnrt needs beyond the Swift toolchain:
# cmocka (C tests), libpng/libjpeg-turbo/zlib (the CLI's image readers). Idempotent; quiet when everything is present.
# `install-deps.sh cortex-m` (make ... ARCH=cortex-m4|cortex-m0plus) also installs the Arm bare-metal
# toolchain, newlib and qemu-system-arm (the firmware test).
set -euo pipefail
need=()
[ -f /usr/include/cmocka.h ] || need+=(libcmocka-dev)
[ -f /usr/include/png.h ] || need+=(libpng-dev)
[ -f /usr/include/jpeglib.h ] || need+=(libjpeg62-turbo-dev)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
command -v readelf >/dev/null || need+=(binutils)
command -v g++ >/dev/null || need+=(g++)
command -v python3 >/dev/null || need+=(python3)
if [ "${1:-}" = cortex-m ]; then
  command -v arm-none-eabi-gcc >/dev/null || need+=(gcc-arm-none-eabi)
  [ -f /usr/lib/arm-none-eabi/include/stdlib.h ] || need+=(libnewlib-arm-none-eabi)
  command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
