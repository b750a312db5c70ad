#!/usr/bin/env bash
# Installs what building and testing cnnrt needs beyond the Swift toolchain:
# cmocka (C tests). Idempotent; quiet when everything is present.
set -euo pipefail
need=()
[ -f /usr/include/cmocka.h ] || need+=(libcmocka-dev)
command -v readelf >/dev/null || need+=(binutils)
command -v g++ >/dev/null || need+=(g++)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
