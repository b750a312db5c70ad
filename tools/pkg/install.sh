#!/usr/bin/env bash
# Called by `make install` (all variables come from the Makefile): copies the
# library, header, pkg-config and CMake files, CLI and man page under
# $DESTDIR$PREFIX and lists every file it wrote in $MANIFEST (relative to the
# prefix) for `make uninstall`.
set -euo pipefail
: "${PREFIX:?}" "${VERSION:?}" "${LIB_REAL:?}" "${LIB_SONAME:?}" "${LIBDIR:?}" "${CLI:?}" "${MAN:?}" "${MANIFEST:?}"
DESTDIR=${DESTDIR:-}
case "$PREFIX" in /*) ;; *) echo "install: PREFIX must be an absolute path (got '$PREFIX')" >&2; exit 1 ;; esac
root="$DESTDIR$PREFIX"
major=${VERSION%%.*}
files=()

put() {  # put MODE SOURCE DEST(relative to the prefix)
  install -D -m "$1" "$2" "$root/$3"
  files+=("$3"); echo "installed $root/$3"
}
link() {  # link TARGET NAME(relative to the prefix)
  ln -sfn "$1" "$root/$2"
  files+=("$2"); echo "installed $root/$2 -> $1"
}
subst() {  # subst TEMPLATE DEST: @VERSION@ @MAJOR@ @PREFIX@ @LIB_REAL@ @LIB_SONAME@
  local tmp; tmp=$(mktemp)
  sed -e "s|@VERSION@|$VERSION|g" -e "s|@MAJOR@|$major|g" -e "s|@PREFIX@|$PREFIX|g" \
      -e "s|@LIB_REAL@|$LIB_REAL|g" -e "s|@LIB_SONAME@|$LIB_SONAME|g" "$1" > "$tmp"
  put 644 "$tmp" "$2"; rm -f "$tmp"
}

put 755 "$LIBDIR/$LIB_REAL" "lib/$LIB_REAL"
link "$LIB_REAL" "lib/$LIB_SONAME"
link "$LIB_SONAME" "lib/libcnnrt.so"
put 644 "$LIBDIR/libcnnrt.a" lib/libcnnrt.a
put 644 Include/cnnrt.h include/cnnrt.h
subst tools/pkg/cnnrt.pc.in lib/pkgconfig/cnnrt.pc
subst tools/pkg/cnnrtConfig.cmake.in lib/cmake/cnnrt/cnnrtConfig.cmake
subst tools/pkg/cnnrtConfigVersion.cmake.in lib/cmake/cnnrt/cnnrtConfigVersion.cmake
put 755 "$CLI" bin/cnnrt
put 644 "$MAN" share/man/man1/cnnrt.1

mkdir -p "$(dirname "$root/$MANIFEST")"
printf '%s\n' "${files[@]}" > "$root/$MANIFEST"
echo "install: ${#files[@]} files under $root (list in $root/$MANIFEST; \`make uninstall PREFIX=$PREFIX${DESTDIR:+ DESTDIR=$DESTDIR}\` removes them)"
