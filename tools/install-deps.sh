#!/usr/bin/env bash
# Installs what building and testing cnnrt needs beyond the Swift toolchain:
# cmocka (C tests), libpng/libjpeg-turbo/zlib (the CLI's image readers),
# cmake and pkg-config (the install test builds the C example with both). Idempotent; quiet when everything is present.
set -euo pipefail
need=()
[ -f /usr/include/cmocka.h ] || need+=(libcmocka-dev)
[ -f /usr/include/png.h ] || need+=(libpng-dev)
[ -f /usr/include/jpeglib.h ] || need+=(libjpeg62-turbo-dev)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
command -v readelf >/dev/null || need+=(binutils)
command -v g++ >/dev/null || need+=(g++)
command -v python3 >/dev/null || need+=(python3)
command -v cmake >/dev/null || need+=(cmake)
command -v pkg-config >/dev/null || need+=(pkg-config)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
