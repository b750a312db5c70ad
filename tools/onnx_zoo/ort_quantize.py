#!/usr/bin/env python3
"""ONNX Runtime's own post-training quantizer on a zoo net, for comparison with
`cnnrt quantize` (run_zoo.sh METHOD=ort calls this):

    build/venv-torch/bin/python tools/onnx_zoo/ort_quantize.py DIR NET

Reads DIR/NET.onnx and DIR/calib.npz (NHWC float32 samples in the net's input
units, as run_zoo.sh's export writes them) and writes DIR/NET.ort.onnx: ORT
`quantize_static`, QDQ format, MinMax calibration over every sample,
per-channel int8 weights, int8 activations, ORT's defaults otherwise
(after ORT's `quant_pre_process` shape inference and graph cleanup).
`cnnrt quantize DIR/NET.ort.onnx` then keeps ORT's scales and zero points.
"""
import os
import sys

import numpy as np
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process


class Samples(CalibrationDataReader):
    def __init__(self, x, name):
        self.x, self.name, self.i = x, name, 0

    def get_next(self):
        if self.i >= len(self.x):
            return None
        v = self.x[self.i]
        self.i += 1
        return {self.name: np.ascontiguousarray(v.transpose(2, 0, 1)[None])}

    def rewind(self):
        self.i = 0


def main():
    out, net = sys.argv[1], sys.argv[2]
    calib = np.load(os.path.join(out, "calib.npz"))["x"].astype(np.float32)
    pre = os.path.join(out, f"{net}.ort-pre.onnx")
    quant_pre_process(os.path.join(out, f"{net}.onnx"), pre)
    quantize_static(pre, os.path.join(out, f"{net}.ort.onnx"), Samples(calib, "input"),
                    quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    os.remove(pre)


if __name__ == "__main__":
    main()
