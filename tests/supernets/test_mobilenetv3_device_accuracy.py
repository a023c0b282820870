"""On-device accuracy: the exported ONNX model, measured by a real local agent on a validation
`.npz` (METRIC_TOP1), scores what PyTorch scores on the host."""

from __future__ import annotations

import io

import numpy as np
import onnxruntime as ort
import pytest
from linas_host.devices.local import LocalAgent
from linas_host.devices.pool import DevicePool
from linas_host.export import export_onnx
from linas_host.export.validation import validation_npz
from mobilenetv3_helpers import committed_supernet

from linas_sdk.measurement import MeasureRequest

SAMPLES = 300


def _exported(supernet, config):
    module = supernet.extract(config)
    data = export_onnx(module, supernet.example_input(), input_names=supernet.input_names,
                       output_names=supernet.output_names)
    return module, data


def test_validation_npz_holds_float32_inputs_by_graph_name_and_labels_y():
    supernet = committed_supernet()
    data = validation_npz(supernet.validation_arrays(SAMPLES))
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        assert sorted(arrays.files) == ["input", "y"]
        assert arrays["input"].dtype == np.float32 and arrays["input"].shape[0] == SAMPLES
        assert arrays["y"].shape == (SAMPLES,)


def test_onnxruntime_in_process_scores_what_pytorch_scores():
    supernet = committed_supernet()
    module, data = _exported(supernet, supernet.space.sample(3, 1)[0])
    arrays = supernet.validation_arrays(SAMPLES)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"input": arrays["input"]})
    device = float((logits.argmax(1) == arrays["y"]).mean())
    assert device == pytest.approx(supernet.evaluate(module, limit=SAMPLES)["accuracy"], abs=1e-9)


@pytest.mark.timeout(240)
def test_a_local_agent_measures_the_accuracy_the_host_computes():
    supernet = committed_supernet()
    npz = validation_npz(supernet.validation_arrays(SAMPLES))
    configs = [supernet.smallest, supernet.largest]
    request = MeasureRequest(metric="top1", settings={
        "warmup_runs": 1, "warmup_seconds": 0.0, "min_runs": 3, "min_seconds": 0.0, "max_runs": 5,
    })
    with LocalAgent(name="acc") as agent, DevicePool([agent.spec()]) as pool:
        for config in configs:
            module, data = _exported(supernet, config)
            measured = pool.measure(data, request, validation=npz)
            host = supernet.evaluate(module, limit=SAMPLES)["accuracy"]
            assert measured.accuracy == pytest.approx(host, abs=1e-9)
