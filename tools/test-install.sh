#!/usr/bin/env bash
# make test-install (part of make test): installs cnnrt into a temporary
# prefix, builds CExamples/classify.c against the INSTALLED copy three ways
# (pkg-config + shared library, CMake find_package(cnnrt), static
# libcnnrt.a) and classifies the bundled digits with each; checks the SONAME,
# the symlinks, the versions (header macros, cnn_version(), file names), the
# static library's global symbols and a symbol clash, the installed CLI and
# man page, a DESTDIR staging install, and that `make uninstall` removes
# every installed file. Any failure stops it with a message (exit 1).
set -euo pipefail
# (Pipes into grep read to the end, `grep PATTERN > /dev/null`, not `grep -q`:
# grep -q stops at the first match, and the writer's SIGPIPE would then fail
# the pipeline under pipefail.)
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
CC=${CC:-cc}
export INSTALL_CONFIG=${INSTALL_CONFIG:-debug}
fail() { echo "test-install: FAIL: $*" >&2; exit 1; }
step() { echo; echo "== test-install: $*"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cnnrt-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
version=$(sed -n 's/^#define CNN_VERSION_STRING "\(.*\)"$/\1/p' Include/cnnrt.h)
major=${version%%.*}
[ -n "$version" ] || fail "no CNN_VERSION_STRING in Include/cnnrt.h"

step "make install PREFIX=$prefix (CLI: $INSTALL_CONFIG build)"
$MAKE --no-print-directory install PREFIX="$prefix" INSTALL_CONFIG="$INSTALL_CONFIG" > "$tmp/install.log" 2>&1 \
  || { cat "$tmp/install.log"; fail "make install"; }
grep -E '^(installed|install:)' "$tmp/install.log"
for f in "lib/libcnnrt.so.$version" "lib/libcnnrt.so.$major" lib/libcnnrt.so lib/libcnnrt.a include/cnnrt.h \
         lib/pkgconfig/cnnrt.pc lib/cmake/cnnrt/cnnrtConfig.cmake lib/cmake/cnnrt/cnnrtConfigVersion.cmake \
         bin/cnnrt share/man/man1/cnnrt.1; do
  [ -e "$prefix/$f" ] || fail "$prefix/$f was not installed"
done

step "SONAME and symlinks"
soname=$(readelf -d "$prefix/lib/libcnnrt.so.$version" | grep SONAME)
echo "$soname"
[[ "$soname" == *"[libcnnrt.so.$major]"* ]] || fail "SONAME is not libcnnrt.so.$major"
[ "$(readlink "$prefix/lib/libcnnrt.so")" = "libcnnrt.so.$major" ] || fail "lib/libcnnrt.so does not point to libcnnrt.so.$major"
[ "$(readlink "$prefix/lib/libcnnrt.so.$major")" = "libcnnrt.so.$version" ] || fail "libcnnrt.so.$major does not point to libcnnrt.so.$version"
ls -l "$prefix/lib" | grep libcnnrt
bash tools/check-abi.sh "$prefix/lib/libcnnrt.so.$version"

step "static library: only cnn_* global symbols"
bad=$(nm -g --defined-only "$prefix/lib/libcnnrt.a" | awk 'NF == 3 && $3 !~ /^cnn_/ {print $3}')
[ -z "$bad" ] || fail "libcnnrt.a defines non-cnn_ global symbols: $(echo $bad | head -c 400)"
static_n=$(nm -g --defined-only "$prefix/lib/libcnnrt.a" | awk 'NF == 3' | wc -l)
shared_n=$(nm -D --defined-only "$prefix/lib/libcnnrt.so.$version" | wc -l)
echo "libcnnrt.a: $static_n global symbols, all cnn_*; libcnnrt.so: $shared_n"
[ "$static_n" -eq "$shared_n" ] || fail "libcnnrt.a exports $static_n symbols, libcnnrt.so $shared_n"

# Classifies every bundled digit with one build of the example; the answer
# must be the digit in the file name (samples/mnist/digit_<d>_<k>.pgm).
classify_all() {
  local exe=$1 n=0 img got want
  for img in samples/mnist/digit_*.pgm; do
    got=$("$exe" models/mnist.cnnrt "$img" 1) || fail "$exe $img exited with $?"
    want=$(basename "$img" .pgm); want=${want#digit_}; want=${want%%_*}
    [[ "$got" =~ ^[^:]+:\ $want\  ]] || fail "$exe $img printed '$got', expected digit $want"
    n=$((n + 1))
  done
  echo "$exe: $n of $n digits right (e.g. $("$exe" models/mnist.cnnrt samples/mnist/digit_7_0.pgm 1))"
}

step "example 1: pkg-config (shared library)"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
echo "pkg-config --modversion cnnrt: $(pkg-config --modversion cnnrt)"
echo "pkg-config --cflags --libs cnnrt: $(pkg-config --cflags --libs cnnrt)"
[ "$(pkg-config --modversion cnnrt)" = "$version" ] || fail "pkg-config version is not $version"
libdir=$(pkg-config --variable=libdir cnnrt)
# shellcheck disable=SC2046
$CC -std=c11 -Wall -Wextra -Werror -O2 $(pkg-config --cflags cnnrt) CExamples/classify.c -o "$tmp/classify_pc" \
  $(pkg-config --libs cnnrt) -Wl,-rpath,"$libdir"
needed=$(readelf -d "$tmp/classify_pc" | grep NEEDED | grep -o 'libcnnrt[^]]*')
echo "classify_pc NEEDED $needed, resolved to $(ldd "$tmp/classify_pc" | awk '/libcnnrt/ {print $3}')"
[ "$needed" = "libcnnrt.so.$major" ] || fail "the example records $needed, not libcnnrt.so.$major"
ldd "$tmp/classify_pc" | grep "$prefix/lib/libcnnrt.so.$major" > /dev/null || fail "classify_pc does not load the installed library"
classify_all "$tmp/classify_pc"
# shellcheck disable=SC2046
$CC -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags cnnrt) Tests/Install/version_check.c -o "$tmp/version_check" \
  $(pkg-config --libs cnnrt) -Wl,-rpath,"$libdir"
"$tmp/version_check" "$version"
[ "libcnnrt.so.$version" = "$(basename "$(readlink -f "$prefix/lib/libcnnrt.so")")" ] || fail "library file name is not libcnnrt.so.$version"

step "example 2: CMake find_package(cnnrt)"
cmake -S Tests/Install -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCNNRT_EXAMPLE="$PWD/CExamples/classify.c" \
  -DCMAKE_BUILD_TYPE=Release > "$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; fail "cmake configure"; }
cmake --build "$tmp/cmake" > "$tmp/cmake-build.log" 2>&1 || { cat "$tmp/cmake-build.log"; fail "cmake build"; }
grep -i 'cnnrt' "$tmp/cmake/CMakeCache.txt" | grep -E '^cnnrt_DIR' || fail "CMake did not find cnnrtConfig.cmake"
classify_all "$tmp/cmake/classify_cmake"
ldd "$tmp/cmake/classify_cmake" | grep "$prefix/lib/libcnnrt.so.$major" > /dev/null || fail "classify_cmake does not load the installed library"
classify_all "$tmp/cmake/classify_cmake_static"
if ldd "$tmp/cmake/classify_cmake_static" | grep libcnnrt > /dev/null; then fail "classify_cmake_static loads libcnnrt.so"; fi
# A version the package does not satisfy must be refused.
printf 'cmake_minimum_required(VERSION 3.16)\nproject(t C)\nfind_package(cnnrt %s REQUIRED)\n' "$((major + 1)).0" > "$tmp/CMakeLists.txt"
mkdir -p "$tmp/cmake-newer"
if cmake -S "$tmp" -B "$tmp/cmake-newer" -DCMAKE_PREFIX_PATH="$prefix" > "$tmp/cmake-newer.log" 2>&1; then
  fail "find_package(cnnrt $((major + 1)).0) accepted version $version"
fi
echo "find_package(cnnrt $((major + 1)).0) refused, as it should be"

step "example 3: static linking (libcnnrt.a, no libcnnrt.so at run time)"
# The internal function the library's code refers to most (by name, in its
# relocations) that is a local symbol of libcnnrt.a: a Swift-mangled name,
# global in the compiler's objects.
locals="$tmp/locals.txt"
nm "$prefix/lib/libcnnrt.a" | awk '$2 == "t" {print $3}' | sort -u > "$locals"
clash=$(objdump -r "$prefix/lib/libcnnrt.a" | awk 'NF == 3 {sub(/[-+]0x[0-9a-f]+$/, "", $3); print $3}' \
  | grep -E '^[A-Za-z_$][A-Za-z0-9_$]*$' | sort | uniq -c | sort -rn | awk '{print $2}' | grep -Fxf "$locals" | head -1 || true)
[ -n "$clash" ] || fail "no internal function referenced by name in libcnnrt.a to test a clash with"
echo "the program also defines $clash (a function libcnnrt.a calls, local there)"
$CC -std=c11 -Wall -Wextra -Werror -O2 -I"$prefix/include" -DCLASH_NAME="$clash" CExamples/classify.c Tests/Install/clash.c \
  -o "$tmp/classify_static" "$prefix/lib/libcnnrt.a"
if ldd "$tmp/classify_static" | grep libcnnrt > /dev/null; then fail "classify_static loads libcnnrt.so"; fi
echo "classify_static: $(ldd "$tmp/classify_static" | awk '{print $1}' | tr '\n' ' ')"
classify_all "$tmp/classify_static"

step "installed CLI and man page"
cli_version=$("$prefix/bin/cnnrt" --version)
echo "bin/cnnrt --version: $cli_version"
[ "$cli_version" = "$version" ] || fail "bin/cnnrt --version printed $cli_version, not $version"
"$prefix/bin/cnnrt" classify --top 1 models/mnist.cnnrt samples/mnist/digit_3_0.pgm | grep ': 3 ' > /dev/null || fail "bin/cnnrt classify"
head -c 2000 "$prefix/share/man/man1/cnnrt.1" | grep '^\.Dt CNNRT 1\|^\.TH' > /dev/null || fail "cnnrt.1 is not a man page"
grep -q 'classify' "$prefix/share/man/man1/cnnrt.1" || fail "cnnrt.1 does not describe classify"
echo "cnnrt.1: $(wc -l < "$prefix/share/man/man1/cnnrt.1") lines"

step "make uninstall PREFIX=$prefix"
count=$(wc -l < "$prefix/share/cnnrt/install_manifest.txt")
$MAKE --no-print-directory uninstall PREFIX="$prefix" > "$tmp/uninstall.log" 2>&1 || { cat "$tmp/uninstall.log"; fail "make uninstall"; }
left=$(find "$prefix" -mindepth 1 2>/dev/null || true)
[ -z "$left" ] || fail "left after make uninstall: $left"
echo "removed $count installed files and the manifest; $prefix is empty"

step "DESTDIR staging: make install DESTDIR=$tmp/stage PREFIX=/opt/cnnrt"
$MAKE --no-print-directory install DESTDIR="$tmp/stage" PREFIX=/opt/cnnrt INSTALL_CONFIG="$INSTALL_CONFIG" > "$tmp/stage.log" 2>&1 \
  || { cat "$tmp/stage.log"; fail "make install DESTDIR"; }
[ -f "$tmp/stage/opt/cnnrt/lib/libcnnrt.so.$version" ] || fail "DESTDIR install did not stage lib/libcnnrt.so.$version"
grep -qx 'prefix=/opt/cnnrt' "$tmp/stage/opt/cnnrt/lib/pkgconfig/cnnrt.pc" || fail "staged cnnrt.pc does not say prefix=/opt/cnnrt"
$MAKE --no-print-directory uninstall DESTDIR="$tmp/stage" PREFIX=/opt/cnnrt > /dev/null
left=$(find "$tmp/stage" -type f -o -type l)
[ -z "$left" ] || fail "left after staged uninstall: $left"
echo "staged under $tmp/stage/opt/cnnrt with prefix=/opt/cnnrt in cnnrt.pc; uninstalled"

echo
echo "test-install: OK (pkg-config, CMake and static builds of the example against the installed copy)"
