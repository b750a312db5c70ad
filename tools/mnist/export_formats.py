"""Writes PNG and JPEG copies of a few of the project's drawn demo digits
(samples/mnist/*.pgm) into Tests/Golden/images/, for the image-reader and
`cnnrt classify` tests. Run with the MNIST venv:

    build/venv-mnist/bin/python tools/mnist/export_formats.py
"""
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "samples" / "mnist"
OUT = ROOT / "Tests" / "Golden" / "images"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    gray3 = Image.open(SRC / "digit_3_0.pgm")
    gray3.save(OUT / "digit_3_0.png")
    Image.open(SRC / "digit_7_1.pgm").save(OUT / "digit_7_1.jpg", quality=95)
    # RGB, twice the size: the runtime resizes and converts to gray.
    rgb2 = Image.open(SRC / "digit_2_0.pgm").convert("RGB").resize((56, 56), Image.NEAREST)
    rgb2.save(OUT / "digit_2_0_rgb56.png")
    rgb8 = Image.open(SRC / "digit_8_1.pgm").convert("RGB")
    rgb8.save(OUT / "digit_8_1_rgb.jpg", quality=95)
    for p in sorted(OUT.iterdir()):
        print(p.relative_to(ROOT), p.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
