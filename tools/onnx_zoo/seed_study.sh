#!/usr/bin/env bash
# How much a net's int8 output SQNR owes to its particular trained weights:
# train one torchvision net on MNIST once per seed (tools/onnx_zoo/
# export_torchvision.py --seed), quantize each with `cnnrt quantize` (default
# options, then --bias-correction and --method mse) and measure each against
# its float ONNX model with `cnnrt eval --float` on the same 500 test images.
#
#   bash tools/onnx_zoo/seed_study.sh NET CLASSES SEED...     # from the repository root
#   e.g. bash tools/onnx_zoo/seed_study.sh mobilenet_v3_small 1000 12 13 14 15 16
#
# CLASSES: the head's outputs (1000: torchvision's ImageNet head, which the
# zoo's run_zoo.sh uses with labels 0-9; 10: a 10-way head). SIZE (64) and
# STEPS (300) come from the environment, and so does TAGS, the quantizer
# settings compared (default "minmax minmax-bc mse"; also minmax-unfused:
# --no-fuse-swish). The calibration (512 held-out
# training images) and evaluation sets (500 test images) are those of
# run_zoo.sh and do not depend on the seed. Each seed's files go to
# build/zoo_seeds/NET-cCLASSES-sSEED (git-ignored); an export is reused when
# complete. Prints one row per seed and the median, minimum and maximum of
# each column; --json FILE (after the seeds) also writes them as JSON.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 3 ] || { sed -n 2,18p "$0" >&2; exit 2; }
NET=$1; CLASSES=$2; shift 2
JSON=""
SEEDS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --json) JSON=$2; shift 2 ;;
    *) SEEDS+=("$1"); shift ;;
  esac
done
SIZE=${SIZE:-64}
TAGS=${TAGS:-minmax minmax-bc mse}
STEPS=${STEPS:-300}
PY=build/venv-torch/bin/python
if [ ! -x "$PY" ]; then
  python3 -m venv build/venv-torch
  build/venv-torch/bin/pip install -q "torch==2.13.0" "torchvision==0.28.0" onnx onnxruntime numpy
fi
swift build -c release --product cnnrt >/dev/null
CNNRT="$(swift build -c release --show-bin-path)/cnnrt"
DIRS=()
mkdir -p build/zoo_seeds
for seed in "${SEEDS[@]}"; do
  OUT=build/zoo_seeds/$NET-c$CLASSES-s$seed
  DIRS+=("$OUT")
  if [ "$(jq -r '.complete // false' "$OUT/export.json" 2>/dev/null)" != true ]; then
    "$PY" tools/onnx_zoo/export_torchvision.py "$OUT" --size "$SIZE" --train mnist --steps "$STEPS" \
      --calib 512 --eval 500 --nets "$NET" --seed "$seed" --classes "$CLASSES" >"$OUT.export.log" 2>&1 \
      || { tail -5 "$OUT.export.log"; exit 1; }
  fi
  for tag in $TAGS; do
    case $tag in
      minmax) QARGS=() ;;
      minmax-bc) QARGS=(--bias-correction) ;;
      mse) QARGS=(--method mse) ;;
      minmax-unfused) QARGS=(--no-fuse-swish) ;;
      *) echo "unknown setting $tag in TAGS" >&2; exit 2 ;;
    esac
    if [ ! -f "$OUT/$NET.$tag.eval.json" ]; then
      "$CNNRT" quantize "$OUT/$NET.onnx" --calibration "$OUT/calib.npz" "${QARGS[@]}" \
        -o "$OUT/$NET.$tag.cnnrt" >"$OUT/$NET.$tag.quantize.log" 2>&1
      "$CNNRT" eval "$OUT/$NET.$tag.cnnrt" --data "$OUT/eval.npz" --float "$OUT/$NET.onnx" \
        --no-progress --sqnr-samples 500 --json >"$OUT/$NET.$tag.eval.json.tmp" 2>"$OUT/$NET.$tag.eval.log"
      mv "$OUT/$NET.$tag.eval.json.tmp" "$OUT/$NET.$tag.eval.json"
    fi
  done
done

"$PY" - "$NET" "$CNNRT" "$JSON" "$TAGS" "${DIRS[@]}" <<'PY'
import json, os, statistics, subprocess, sys
net, cnnrt, json_out, tags, dirs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(), sys.argv[5:]
rows = []
for d in dirs:
    exp = json.load(open(os.path.join(d, "export.json")))
    info = exp["nets"][net]
    row = {"seed": exp["seed"], "classes": exp.get("classes", 1000),
           "float_test_top1": info["float_test_top1"], "train_seconds": info["train_seconds"]}
    for tag in tags:
        r = json.load(open(os.path.join(d, f"{net}.{tag}.eval.json")))
        ins = json.loads(subprocess.run([cnnrt, "inspect", os.path.join(d, f"{net}.{tag}.cnnrt"), "--json"],
                                        capture_output=True, text=True, check=True).stdout)
        out = next(l for l in r["layers"] if l["name"] == ins["outputs"][0]["name"])
        row[tag] = {"sqnr_db": out["sqnr_db"], "ci95": out.get("sqnr_db_ci95"), "int8_top1": r["int8"]["top1"]}
    rows.append(row)
print(f"{net}, {rows[0]['classes']}-way head, output SQNR in dB over the 500 evaluation images [95 % interval]")
print(f"{'seed':>4} {'float top-1':>11} " + " ".join(f"{t:>18}" for t in tags) + f" {'int8 top-1 ' + tags[0]:>17}")
fmt = lambda c: f"{c['sqnr_db']:6.2f} [{c['ci95'][0]:.1f}-{c['ci95'][1]:.1f}]" if c["ci95"] else f"{c['sqnr_db']:6.2f}"
for r in rows:
    print(f"{r['seed']:>4} {r['float_test_top1']:>11.3f} " + " ".join(f"{fmt(r[t]):>18}" for t in tags)
          + f" {r[tags[0]]['int8_top1']:>17.3f}")
summary = {}
for tag in tags:
    v = [r[tag]["sqnr_db"] for r in rows]
    summary[tag] = {"median": statistics.median(v), "min": min(v), "max": max(v), "at_least_30": sum(x >= 30 for x in v)}
print("  median / min / max / seeds at >= 30 dB: " + "; ".join(
    f"{t} {s['median']:.2f} / {s['min']:.2f} / {s['max']:.2f} / {s['at_least_30']} of {len(rows)}" for t, s in summary.items()))
if json_out:
    json.dump({"net": net, "rows": rows, "summary": summary}, open(json_out, "w"), indent=1)
PY
