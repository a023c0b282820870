"""Static int8 keeps what the FP32 file scores: the committed supernet's largest sub-network,
quantized as a `precision: int8` search quantizes it (256 calibration images) and scored by its
file's runtime on the 450 validation images, stays within 3 points of top-1 of its FP32 file
in both formats. TFLite's calibration once kept a moving average of each image's ranges, which
clipped activations and cost 11 points here."""

from __future__ import annotations

import pytest
from linas_host.export.quantize import Quantization, quantize
from linas_host.export.subnet import Exporter
from mobilenetv3_helpers import committed_supernet

from linas_sdk import scoring
from linas_sdk.formats import format_named
from linas_sdk.runtimes import RUNTIMES


@pytest.mark.parametrize("fmt", ["onnx", "tflite"])
def test_int8_top1_within_three_points_of_fp32(fmt: str, caplog) -> None:
    supernet = committed_supernet()
    config = supernet.largest
    module = supernet.extract(config)
    valid = supernet.validation_arrays(450)
    engine = RUNTIMES[format_named(fmt).runtime]()
    int8 = Exporter(supernet, fmt, Quantization())
    fp32_file = Exporter(supernet, fmt)(module, config)
    files = {"fp32": fp32_file,
             "int8": quantize(fp32_file, fmt, Quantization(), int8.calibration(config))}
    top1 = {}
    for precision, data in files.items():
        session = engine.load(data, provider=engine.info().providers[0], options={},
                              threads=1, inputs=())
        top1[precision] = 100 * scoring.run_validation(session, valid, "top1")[0]
    assert top1["fp32"] > 50, top1  # a trained network, so a drop means something
    assert top1["fp32"] - top1["int8"] <= 3.0, top1
    # onnxruntime's per-file advice to pre-process is dropped (linas_host.export.quantize)
    assert not [r for r in caplog.records if "pre-process" in r.getMessage()]
