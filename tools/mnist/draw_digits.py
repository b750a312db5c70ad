#!/usr/bin/env python3
"""Render the project's own MNIST-style demo digits (not copied from MNIST).

Run by hand from the repository root:

    build/venv-mnist/bin/python tools/mnist/draw_digits.py

Digits 0-9 are drawn with DejaVu Sans (Book) from Debian's fonts-dejavu-core
(/usr/share/fonts/truetype/dejavu), two variants per digit:
  k=0  thickened a little (stroke_width 4 at 256 px), upright
  k=1  thickened more (stroke_width 7), slanted like handwriting (shear 0.25)
       and rotated by 4 degrees
(A first version used DejaVu Sans Bold for k=0; its strokes are thicker than
MNIST's and its footed "1" was weak: float right at p=0.66, ORT int8 wrong.)
and processed the way MNIST was made: white on black, anti-aliased, size-
normalised to fit a 20x20 box (aspect ratio kept), placed in 28x28 so that the
centre of mass is at the centre, then slightly blurred.  Written as binary PGM
(P5, maxval 255) to samples/mnist/digit_<d>_<k>.pgm.

Afterwards every image is classified with models/mnist_float.onnx (and
models/mnist_qdq.onnx if present) through onnxruntime, input pixel/255, and the
accuracy over ALL rendered images is printed; exit status 1 if the float model
gets any wrong (the int8 result is reported only).  Nothing is selected or dropped.
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
VARIANTS = [
    # (font file, stroke_width at 256 px, shear, rotation degrees)
    ("DejaVuSans.ttf", 4, 0.0, 0.0),
    ("DejaVuSans.ttf", 7, 0.25, -4.0),
]
BIG = 256  # render size in px before MNIST-style size normalisation


def render_big(ch, font_file, stroke, shear, rot):
    font = ImageFont.truetype(os.path.join(FONT_DIR, font_file), BIG)
    img = Image.new("L", (BIG * 2, BIG * 2), 0)
    d = ImageDraw.Draw(img)
    d.text((BIG // 2, BIG // 3), ch, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    if shear:
        # x' = x + shear * (y - cy): top of the glyph leans right (italic).
        cy = img.height / 2
        img = img.transform(img.size, Image.AFFINE, (1, shear, -shear * cy, 0, 1, 0),
                            resample=Image.BICUBIC)
    if rot:
        img = img.rotate(rot, resample=Image.BICUBIC, expand=False)
    return img


def mnist_normalise(big):
    """Fit the glyph into 20x20 (aspect kept), centre of mass at (14,14) in 28x28."""
    a = np.asarray(big)
    ys, xs = np.nonzero(a > 8)
    a = a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = a.shape
    s = 20.0 / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    small = np.asarray(Image.fromarray(a).resize((nw, nh), Image.LANCZOS), np.float64)
    small = np.clip(small, 0, 255)
    canvas = np.zeros((28, 28))
    y0, x0 = (28 - nh) // 2, (28 - nw) // 2
    canvas[y0:y0 + nh, x0:x0 + nw] = small
    m = canvas.sum()
    cy = (canvas.sum(1) * np.arange(28)).sum() / m
    cx = (canvas.sum(0) * np.arange(28)).sum() / m
    dy, dx = int(round(13.5 - cy)), int(round(13.5 - cx))
    out = np.zeros_like(canvas)
    ys_src = slice(max(0, -dy), min(28, 28 - dy))
    xs_src = slice(max(0, -dx), min(28, 28 - dx))
    ys_dst = slice(max(0, dy), min(28, 28 + dy))
    xs_dst = slice(max(0, dx), min(28, 28 + dx))
    out[ys_dst, xs_dst] = canvas[ys_src, xs_src]
    img = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    img = img.filter(ImageFilter.GaussianBlur(0.5))
    a = np.asarray(img, np.float64)
    a = np.clip(a * (255.0 / max(a.max(), 1)), 0, 255)  # restore full-intensity stroke cores
    return a.round().astype(np.uint8)


def write_pgm(path, a):
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (a.shape[1], a.shape[0]))
        f.write(a.tobytes())


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P5" and parts[3] == b"255"
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4][:w * h], np.uint8).reshape(h, w)


def classify(model_path, images):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    probs = []
    for a in images:
        x = (a.astype(np.float32) / 255.0).reshape(1, 1, 28, 28)
        probs.append(sess.run(None, {name: x})[0][0])
    return np.array(probs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "samples", "mnist"))
    ap.add_argument("--no-check", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    files, labels, images = [], [], []
    for d in range(10):
        for k, (font, stroke, shear, rot) in enumerate(VARIANTS):
            a = mnist_normalise(render_big(str(d), font, stroke, shear, rot))
            p = os.path.join(args.out_dir, f"digit_{d}_{k}.pgm")
            write_pgm(p, a)
            assert np.array_equal(read_pgm(p), a)
            files.append(os.path.relpath(p, ROOT)); labels.append(d); images.append(a)
    print(f"wrote {len(files)} PGM files to {os.path.relpath(args.out_dir, ROOT)}")
    if args.no_check:
        return
    ok_all = True
    for model in ("mnist_float.onnx", "mnist_qdq.onnx"):
        mp = os.path.join(ROOT, "models", model)
        if not os.path.exists(mp):
            print(f"{model}: not present, skipped")
            continue
        probs = classify(mp, images)
        pred = probs.argmax(1)
        correct = int((pred == np.array(labels)).sum())
        print(f"{model}: {correct}/{len(labels)} correct")
        for f, y, p, pr in zip(files, labels, pred, probs):
            mark = "ok " if p == y else "BAD"
            print(f"  {mark} {f}: label {y} -> {p} (p={pr[p]:.3f})")
        if model == "mnist_float.onnx":
            ok_all &= correct == len(labels)
    sys.exit(0 if ok_all else 1)


if __name__ == "__main__":
    main()
