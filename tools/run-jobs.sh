#!/usr/bin/env bash
# Runs test commands $JOBS at a time (default: nproc) and prints each one's
# output whole, in the order given, after a "== LABEL" line. Exits 1, naming
# the failed jobs, if any command exits non-zero; 0 when all pass.
#
# Input on stdin, one job per line: LABEL, a tab, then the command (run by bash).
# Used by make ctest / ctest-asan for the runs under qemu-aarch64, each of
# which keeps one core busy for seconds to minutes.
set -uo pipefail
jobs=${JOBS:-$(nproc)}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
labels=()
cmds=()
while IFS=$'\t' read -r label cmd; do
  [ -n "$label" ] || continue
  labels+=("$label")
  cmds+=("$cmd")
done
n=${#cmds[@]}
if [ "$n" -eq 0 ]; then
  echo "run-jobs.sh: no jobs on stdin" >&2
  exit 1
fi

run() {
  bash -c "${cmds[$1]}" >"$dir/$1.out" 2>&1
  echo $? >"$dir/$1.rc"
}

running=0
for ((i = 0; i < n; i++)); do
  run "$i" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

failed=()
for ((i = 0; i < n; i++)); do
  echo "== ${labels[$i]}"
  cat "$dir/$i.out"
  rc=$(cat "$dir/$i.rc" 2>/dev/null || echo "none")
  [ "$rc" = 0 ] || failed+=("${labels[$i]} (exit $rc)")
done
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'run-jobs.sh: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "run-jobs.sh: $n jobs passed ($jobs at a time)"
