#!/usr/bin/env python3
"""Where the output error of a quantized classifier sits: across its logits
and across the evaluation images.

    build/venv-torch/bin/python tools/onnx_zoo/logit_error.py DIR [DIR ...] [--net NAME] [--json FILE]

DIR holds what tools/onnx_zoo/seed_study.sh (or run_zoo.sh) writes for one
net: NAME.onnx (the float model), NAME.minmax.cnnrt (its int8 model, or
--model TAG for NAME.TAG.cnnrt) and eval.npz (float NHWC images in the
model's input units). The int8 model runs through libcnnrt's C API
(build/lib/libcnnrt.so, `make lib`), with each image quantized to the
model's input scale and zero point as `cnnrt eval` does; the float model
runs in ONNX Runtime. For the logits of all images (float F, int8
dequantized Q, error E = F - Q) it prints:

- the output SQNR, 10 log10(sum F^2 / sum E^2), as `cnnrt eval` reports it;
- the common-mode share of the error and of the signal: the part of each
  image's logit vector that is the same for every class (its mean over the
  classes). Softmax ignores it: adding one number to every logit changes no
  probability;
- the SQNR with that part removed from both (logits centred per image);
- how the error is spread over the images: the share of the summed error
  that the worst 1 %, 2 %, 5 % and 10 % of the images carry, and the median
  of the per-image SQNRs;
- the share of the error on logits beyond the int8 output range (clipped).
"""
import argparse
import ctypes as C
import json
import os
import sys

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class TensorInfo(C.Structure):
    """cnn_tensor_info of Include/cnnrt.h."""
    _fields_ = [("dtype", C.c_int32), ("rank", C.c_int32), ("dims", C.c_int32 * 5),
                ("element_count", C.c_size_t), ("byte_size", C.c_size_t), ("scale", C.c_float),
                ("zero_point", C.c_int32), ("per_channel", C.c_int32), ("is_constant", C.c_int32),
                ("name", C.c_char_p)]


def int8_logits(lib, model_path, images):
    model, message = C.c_void_p(), C.create_string_buffer(512)
    if lib.cnn_model_load_file(model_path.encode(), C.byref(model), message, len(message)) != 0:
        sys.exit(f"logit_error: {model_path}: {message.value.decode(errors='replace')}")
    context = C.c_void_p()
    if lib.cnn_context_create(model, C.byref(context)) != 0:
        sys.exit(f"logit_error: {model_path}: cnn_context_create failed")
    tin, tout = TensorInfo(), TensorInfo()
    lib.cnn_model_input_info(model, 0, C.byref(tin))
    lib.cnn_model_output_info(model, 0, C.byref(tout))
    rows = []
    for x in images:
        # As `cnnrt eval` quantizes float data: in float32, ties away from zero.
        v = x / np.float32(tin.scale)
        q = np.clip(np.sign(v) * np.floor(np.abs(v) + np.float32(0.5)) + tin.zero_point, -128, 127).astype(np.int8)
        if q.size != tin.element_count:
            sys.exit(f"logit_error: {model_path}: input has {tin.element_count} values, the image {q.size}")
        if lib.cnn_set_input(context, 0, q.ctypes.data_as(C.c_void_p), C.c_size_t(q.size)) != 0 \
                or lib.cnn_run(context) != 0:
            sys.exit(f"logit_error: {model_path}: cnn_set_input/cnn_run failed")
        data, count = C.POINTER(C.c_int8)(), C.c_size_t()
        lib.cnn_output_raw(context, 0, C.byref(data), C.byref(count))
        raw = np.ctypeslib.as_array(data, shape=(count.value,)).astype(np.float64)
        rows.append(tout.scale * (raw - tout.zero_point))
    lib.cnn_context_free(context)
    lib.cnn_model_free(model)
    lo = tout.scale * (-128 - tout.zero_point)
    hi = tout.scale * (127 - tout.zero_point)
    return np.array(rows), (lo, hi)


def float_logits(onnx_path, images):
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.array([session.run(None, {name: np.transpose(x, (2, 0, 1))[None]})[0].reshape(-1)
                     for x in images], dtype=np.float64)


def db(signal, noise):
    return float(10 * np.log10(signal / noise)) if noise > 0 else float("inf")


def analyse(F, Q, output_range):
    E = F - Q
    energy = lambda a: float((a ** 2).sum())
    common = E.mean(axis=1, keepdims=True)
    centred_f = F - F.mean(axis=1, keepdims=True)
    per_image = (E ** 2).sum(axis=1)
    order = np.sort(per_image)[::-1]
    worst = {}
    for pct in (1, 2, 5, 10):
        k = max(1, int(round(len(order) * pct / 100)))
        worst[f"{pct}%"] = round(float(order[:k].sum() / per_image.sum()), 3)
    lo, hi = output_range
    clipped = (F < lo) | (F > hi)
    return {
        "images": int(F.shape[0]), "logits": int(F.shape[1]),
        "sqnr_db": round(db(energy(F), energy(E)), 2),
        "common_mode_share_of_error": round(energy(np.broadcast_to(common, E.shape)) / energy(E), 3),
        "common_mode_share_of_signal": round(1 - energy(centred_f) / energy(F), 3),
        "centred_sqnr_db": round(db(energy(centred_f), energy(E - common)), 2),
        "worst_images_share_of_error": worst,
        "median_image_sqnr_db": round(float(np.median(10 * np.log10((F ** 2).sum(axis=1) / per_image))), 2),
        "clipped_share_of_error": round(energy(E[clipped]) / energy(E), 3),
        "top1_agreement": round(float((F.argmax(axis=1) == Q.argmax(axis=1)).mean()), 3),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--net", default="mobilenet_v3_small")
    ap.add_argument("--model", default="minmax", help="int8 model tag: NET.TAG.cnnrt (default minmax)")
    ap.add_argument("--lib", default=os.path.join(ROOT, "build", "lib", "libcnnrt.so"))
    ap.add_argument("--json", help="also write the figures as JSON")
    args = ap.parse_args()
    if not os.path.exists(args.lib):
        sys.exit(f"logit_error: {args.lib} missing (make lib)")
    lib = C.CDLL(args.lib)
    results = {}
    for d in args.dirs:
        images = np.load(os.path.join(d, "eval.npz"))["x"].astype(np.float32)
        Q, output_range = int8_logits(lib, os.path.join(d, f"{args.net}.{args.model}.cnnrt"), images)
        F = float_logits(os.path.join(d, f"{args.net}.onnx"), images)
        r = analyse(F, Q, output_range)
        results[os.path.basename(os.path.normpath(d))] = r
        w = r["worst_images_share_of_error"]
        print(f"{os.path.basename(os.path.normpath(d))}: SQNR {r['sqnr_db']:.2f} dB over {r['images']} images; "
              f"common mode {r['common_mode_share_of_error']:.0%} of the error, "
              f"{r['common_mode_share_of_signal']:.0%} of the signal; centred SQNR {r['centred_sqnr_db']:.2f} dB; "
              f"worst 1/2/5/10 % of images {w['1%']:.0%}/{w['2%']:.0%}/{w['5%']:.0%}/{w['10%']:.0%} of the error; "
              f"median image {r['median_image_sqnr_db']:.2f} dB; clipped logits {r['clipped_share_of_error']:.0%} "
              f"of the error; top-1 agreement {r['top1_agreement']:.1%}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
