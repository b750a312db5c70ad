#!/usr/bin/env bash
# The ONNX half of the network zoo (issue #12): export six torchvision nets,
# quantize each with `cnnrt quantize`, and measure the int8 output against the
# float ONNX model with `cnnrt eval --float` on a separate seeded input set.
#
#   bash tools/onnx_zoo/run_zoo.sh [SIZE [METHOD [TRAIN [STEPS [EXTRA]]]]]   # from the repository root
#
# SIZE: input height and width, 224 by default; METHOD: cnnrt quantize
# --method (minmax by default, percentile, mse), or ort: ONNX Runtime's
# quantize_static (MinMax, QDQ, per-channel; tools/onnx_zoo/ort_quantize.py)
# makes NET.ort.onnx and cnnrt quantize imports it with ORT's scales, for
# comparison with cnnrt's own quantizer; EXTRA: none (default), bc for cnnrt
# quantize --bias-correction (files NET.METHOD-bc.*), gptq for
# --weight-rounding gptq (NET.METHOD-gptq.*) or gptq-bc for both
# (NET.METHOD-gptq-bc.*); TRAIN: none (default:
# untrained nets, N(0, 1) inputs, into build/onnx_zoo) or mnist (each net
# trained for STEPS steps, 300 by default, on ../shared/data/mnist; 512 MNIST
# calibration and 500 test images; into build/onnx_zoo_mnist). The SQNR is
# over every evaluation input (cnnrt eval --sqnr-samples 500).
#
# Needs PyPI (torch, torchvision, onnx, onnxruntime into build/venv-torch) and a
# release build of cnnrt. Everything goes to build/ (git-ignored). The export is
# reused when export.json says it was made with the same size, mode and steps.
# Prints: model, import OK?, ONNX ops, cnnrt ops, output SQNR dB and its 95 %
# bootstrap interval over the evaluation inputs (cnnrt eval), worst layer
# (and with TRAIN=mnist the float and int8 top-1 on the evaluation images).
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE=${1:-224}
METHOD=${2:-minmax}
TRAIN=${3:-none}
STEPS=${4:-300}
case "${5:-none}" in
  none) TAG=$METHOD; QARGS=() ;;
  bc) TAG=$METHOD-bc; QARGS=(--bias-correction) ;;
  gptq) TAG=$METHOD-gptq; QARGS=(--weight-rounding gptq) ;;
  gptq-bc) TAG=$METHOD-gptq-bc; QARGS=(--weight-rounding gptq --bias-correction) ;;
  *) echo "EXTRA must be none, bc, gptq or gptq-bc" >&2; exit 2 ;;
esac
case "$TRAIN" in
  none) OUT=build/onnx_zoo; EXPORT_ARGS=(); WANT="$SIZE none null null" ;;
  mnist) OUT=build/onnx_zoo_mnist; EXPORT_ARGS=(--train mnist --steps "$STEPS" --calib 512 --eval 500)
         WANT="$SIZE mnist $STEPS 512" ;;
  *) echo "TRAIN must be none or mnist" >&2; exit 2 ;;
esac
VENV=build/venv-torch
PY=$VENV/bin/python
if [ ! -x "$PY" ]; then
  python3 -m venv "$VENV"
  # The CPU torch wheel where one is at hand (no CUDA libraries), else PyPI's.
  "$VENV/bin/pip" install -q "torch==2.13.0" "torchvision==0.28.0" onnx onnxruntime numpy
fi
swift build -c release --product cnnrt >/dev/null
CNNRT="$(swift build -c release --show-bin-path)/cnnrt"
mkdir -p "$OUT"
have() { jq -r '"\(.size) \(.train // "none") \(.training.steps) \(.training.calib)"' "$OUT/export.json"; }
if [ ! -f "$OUT/export.json" ] || [ "$(jq -r '.complete // true' "$OUT/export.json")" != true ] \
   || [ "$(have)" != "$WANT" ]; then
  "$PY" tools/onnx_zoo/export_torchvision.py "$OUT" --size "$SIZE" "${EXPORT_ARGS[@]}"
fi

for net in $(jq -r '.nets | keys_unsorted[]' "$OUT/export.json"); do
  SRC="$OUT/$net.onnx"; MARGS=(--method "$METHOD")
  if [ "$METHOD" = ort ]; then
    "$PY" tools/onnx_zoo/ort_quantize.py "$OUT" "$net" >"$OUT/$net.ort.log" 2>&1 || { tail -3 "$OUT/$net.ort.log"; exit 1; }
    SRC="$OUT/$net.ort.onnx"; MARGS=()
  fi
  if "$CNNRT" quantize "$SRC" --calibration "$OUT/calib.npz" "${MARGS[@]}" "${QARGS[@]}" \
       -o "$OUT/$net.$TAG.cnnrt" >"$OUT/$net.$TAG.quantize.log" 2>&1; then
    "$CNNRT" eval "$OUT/$net.$TAG.cnnrt" --data "$OUT/eval.npz" --float "$OUT/$net.onnx" \
      --no-progress --sqnr-samples 500 --json >"$OUT/$net.$TAG.eval.json" 2>"$OUT/$net.$TAG.eval.log" || true
  else
    rm -f "$OUT/$net.$TAG.eval.json"
  fi
done

"$PY" - "$OUT" "$CNNRT" "$TAG" <<'PY'
import json, os, subprocess, sys
out, cnnrt, method = sys.argv[1], sys.argv[2], sys.argv[3]
exp = json.load(open(os.path.join(out, "export.json")))
trained = exp.get("train", "none") != "none"
print(f"input {exp['size']}x{exp['size']}, torch {exp['torch']}, torchvision {exp['torchvision']}, opset {exp['opset']}, "
      f"--method {method}" + (f", trained: {exp['train']} {exp['training']}" if trained else ", untrained"))
acc_head = f" {'float top-1':>11} {'int8 top-1':>10} {'train s':>7}" if trained else ""
print(f"{'model':<20} {'import':<7} {'cnnrt ops':>9} {'output SQNR dB':>14} {'95 % interval':>13}{acc_head}  worst layer (SQNR dB)  ONNX ops")
for net, info in exp["nets"].items():
    ops = " ".join(info["ops"])
    ev = os.path.join(out, f"{net}.{method}.eval.json")
    if not os.path.exists(ev):
        log = open(os.path.join(out, f"{net}.{method}.quantize.log")).read().strip().splitlines()
        print(f"{net:<20} {'no':<7} {'-':>9} {'-':>14} {'-':>13}{' ' * len(acc_head)}  {log[-1] if log else '?'}  {ops}")
        continue
    r = json.load(open(ev))
    inspect = json.loads(subprocess.run([cnnrt, "inspect", os.path.join(out, f"{net}.{method}.cnnrt"), "--json"],
                                        capture_output=True, text=True, check=True).stdout)
    n_ops = len(inspect["layers"])
    output = inspect["outputs"][0]["name"]  # the op writing the model output carries its name
    row = next(l for l in r["layers"] if l["name"] == output)
    sq = row["sqnr_db"]
    ci = row.get("sqnr_db_ci95") or [None, None]  # the bootstrap interval over the evaluation inputs
    ci_text = f"{ci[0]:.1f}-{ci[1]:.1f}" if None not in ci else "-"
    worst = min((l for l in r["layers"] if l["sqnr_db"] is not None), key=lambda l: l["sqnr_db"])
    acc = (f" {r['float']['top1']:>11.3f} {r['int8']['top1']:>10.3f} {info.get('train_seconds', 0):>7.0f}"
           if trained else "")
    print(f"{net:<20} {'yes':<7} {n_ops:>9} {sq:>14.1f} {ci_text:>13}{acc}  {worst['name']} ({worst['type']}) {worst['sqnr_db']:.1f}  {ops}")
PY
