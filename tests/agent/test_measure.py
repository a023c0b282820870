"""Measurements over gRPC: the statistics are sane, both runtimes work, accuracy and outputs
match what onnxruntime computes in this process."""

from __future__ import annotations

import io
import os

import grpc
import numpy as np
import onnxruntime as ort
import pytest
from agent_helpers import FAST, MODELS, Client, rpc_error, running_model
from polling import wait_for

from linas_sdk import serde
from linas_sdk.proto.agent.v1 import agent_pb2 as pb

pytestmark = pytest.mark.timeout(120)


def assert_sane(m, min_runs: int) -> None:
    assert m.min_ms <= m.median_ms <= m.max_ms
    assert m.min_ms <= m.p90_ms <= m.p99_ms <= m.max_ms
    assert m.min_ms <= m.mean_ms <= m.max_ms
    assert m.samples >= min_runs and len(m.samples_ms) == m.samples
    assert m.median_ms == pytest.approx(float(np.median(m.samples_ms)))
    assert m.std_ms >= 0 and m.cv == pytest.approx(m.std_ms / m.mean_ms)
    assert m.load_ms > 0 and m.first_inference_ms > 0
    assert m.warmup_runs >= 1 and m.warmup_ms > 0
    assert m.peak_memory_bytes > 0
    assert m.wall_seconds > 0


def test_onnx_statistics_are_sane_and_settings_echoed(client) -> None:
    digest = client.upload(MODELS / "mlp.onnx")
    cpus = sorted(os.sched_getaffinity(0))[:1]
    m = client.measure(digest, threads=1, cpu_affinity=cpus, settings={"min_runs": 15})
    assert_sane(m, 15)
    assert m.calls_per_sample > 1  # a sub-millisecond model is timed in batches of calls
    assert m.runtime == "onnxruntime" and m.provider == "CPUExecutionProvider"
    assert m.runtime_version == ort.__version__
    assert m.threads == 1 and list(m.cpu_affinity) == cpus
    assert [(s.name, s.shape, s.dtype) for s in m.inputs] == [("x", (1, 16), "float32")]
    assert m.accuracy is None and not m.outputs
    assert isinstance(m.before.cpu_freq_mhz, tuple)


def test_requested_input_shape_and_no_samples(client) -> None:
    digest = client.upload(MODELS / "mlp.onnx")
    m = client.measure(
        digest,
        inputs=[pb.TensorSpec(name="x", shape=[8, 16], dtype="float32")],
        settings={"return_samples": False},
    )
    assert m.inputs[0].shape == (8, 16)
    assert m.samples >= 10 and m.samples_ms == ()


def test_tflite_statistics_are_sane(client) -> None:
    digest = client.upload(MODELS / "mlp.tflite")
    for provider in ("", "CPU"):
        m = client.measure(digest, runtime="litert", provider=provider, threads=1)
        assert_sane(m, 10)
        assert m.runtime == "litert" and m.provider == (provider or "XNNPACK")
        assert m.inputs[0].shape == (1, 16)


def reference_logits() -> tuple[np.ndarray, np.ndarray]:
    data = np.load(MODELS / "valid.npz", allow_pickle=False)
    session = ort.InferenceSession(str(MODELS / "mlp.onnx"), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": data["x"]})[0], data["y"]


def test_top1_accuracy_matches_in_process_onnxruntime(client) -> None:
    model = client.upload(MODELS / "mlp.onnx")
    valid = client.upload(MODELS / "valid.npz")
    m = client.measure(model, validation_sha256=valid, metric=pb.METRIC_TOP1)
    logits, labels = reference_logits()
    expected = float(np.mean(logits.argmax(axis=1) == labels))
    assert 0 < expected < 1  # the set is built so the model gets it partly right
    assert m.accuracy == pytest.approx(expected)
    assert m.validation_samples == len(labels)


def test_top1_accuracy_on_a_fixed_batch_tflite_model(client) -> None:
    model = client.upload(MODELS / "mlp.tflite")
    valid = client.upload(MODELS / "valid.npz")
    m = client.measure(model, runtime="litert", validation_sha256=valid, metric=pb.METRIC_TOP1)
    logits, labels = reference_logits()
    assert m.accuracy == pytest.approx(float(np.mean(logits.argmax(axis=1) == labels)))


def test_outputs_metric_returns_the_first_output(client) -> None:
    model = client.upload(MODELS / "mlp.onnx")
    valid = client.upload(MODELS / "valid.npz")
    m = client.measure(model, validation_sha256=valid, metric=pb.METRIC_OUTPUTS)
    logits, _ = reference_logits()
    assert list(m.outputs) == ["logits"]
    np.testing.assert_allclose(m.outputs["logits"], logits, rtol=1e-5, atol=1e-5)
    assert m.accuracy is None


def test_outputs_need_no_labels_and_top1_says_it_needs_them(client) -> None:
    """The host scores raw outputs itself, so a set of inputs alone will do; top-1 on such a
    set is refused up front with a clear message, and the agent goes on serving."""
    model = client.upload(MODELS / "mlp.onnx")
    buffer = io.BytesIO()
    np.savez(buffer, x=np.load(MODELS / "valid.npz", allow_pickle=False)["x"])
    inputs_only = client.put(buffer.getvalue(), pb.ARTIFACT_KIND_NPZ).sha256
    m = client.measure(model, validation_sha256=inputs_only, metric=pb.METRIC_OUTPUTS)
    logits, _ = reference_logits()
    np.testing.assert_allclose(m.outputs["logits"], logits, rtol=1e-5, atol=1e-5)
    error = rpc_error(client.measure, model, validation_sha256=inputs_only,
                      metric=pb.METRIC_TOP1)  # fmt: skip
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "top-1 accuracy needs labels 'y'" in error.details() and "['x']" in error.details()
    assert client.measure(model).median_ms > 0


def test_peak_memory_follows_the_model(client, tmp_path) -> None:
    from onnx import TensorProto, helper, numpy_helper, save

    weights = np.ones((4096, 2048), np.float32)  # 32 MiB the small model does not hold
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "wide",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4096])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2048])],
        initializer=[numpy_helper.from_array(weights, "w")],
    )  # fmt: skip
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8),
         tmp_path / "wide.onnx")  # fmt: skip
    small = client.measure(client.upload(MODELS / "mlp.onnx"))
    wide = client.measure(client.upload(tmp_path / "wide.onnx"))
    # The weights dominate the difference; a few MiB of allocator and timing buffers may land
    # in either run, so the weights are made large enough for that not to decide the outcome.
    assert wide.peak_memory_bytes - small.peak_memory_bytes >= 0.75 * weights.nbytes


def test_cooldown_holds_the_board_idle_before_the_model_runs(agent_process) -> None:
    """A request's cool-down happens inside it, before its model process: the board is held
    (another request is refused; no line, --max-waiting 0) and idle (no model process runs),
    and a client that gives up ends it. The cooling request runs hang.onnx: had its model
    started, a model process would be seen."""
    agent = agent_process(args=["--max-waiting", "0"])
    client = Client(agent)
    try:
        mlp, hang = client.upload(MODELS / "mlp.onnx"), client.upload(MODELS / "hang.onnx")
        held = agent.cache_dir / "objects" / hang
        os.utime(held, (0, 0))  # the agent touches a model when a request takes the board
        request = pb.MeasureRequest(
            model_sha256=hang, runtime="onnxruntime",
            settings=serde.settings_to_proto({**FAST, "cooldown_seconds": 600}),
        )  # fmt: skip
        cooling = client.stub.Measure.future(request, metadata=client.metadata, timeout=120)
        wait_for(lambda: held.stat().st_mtime != 0, 30, "the cooling request to take the board")
        assert running_model(agent.pid) is None, "a model process ran during the cool-down"
        error = rpc_error(client.measure, mlp)
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error.details() == (
            "the agent is busy: one measurement running and 0 waiting (at most 0); retry later"
        )
        assert not cooling.done()
        cooling.cancel()
        wait_for(lambda: served(client, mlp), 30, "the board freed by the cancelled cool-down")
        m = client.measure(mlp, settings={"cooldown_seconds": 0.05})  # then the measurement
        assert m.samples >= 10 and m.runtime == "onnxruntime"
    finally:
        client.close()


def served(client, model: str) -> bool:
    """Whether a measurement of `model` is answered now (False: the board is busy)."""
    try:
        client.measure(model)
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
            raise
        return False
    return True
