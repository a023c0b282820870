"""The exported translation workload (encode N tokens, decode N greedily, unrolled) computes
what PyTorch computes: ONNX within 1e-4, TFLite within 1e-3, with identical token ids. The ONNX
graph, assembled from one trace of the encoder and one of a decoder step, does the work that
tracing the whole workload does, and its matrix products add up to the MACs formula."""

from __future__ import annotations

import importlib.util
from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from linas_host.export import export_onnx, export_tflite
from linas_host.export.onnx import trace
from transformer_helpers import SMALL, small_supernet

from linas_sdk.errors import InvalidArgument

STEPS = 4  # a short workload keeps the unrolled graphs, and these tests, small


@pytest.fixture(scope="module")
def supernet():
    return small_supernet(options={**SMALL, "steps": STEPS})


def _sources(supernet, n: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(3)
    return torch.randint(4, len(supernet.vocab), (n, STEPS), generator=generator)


def _onnx(supernet, config) -> bytes:
    module = supernet.extract(config)
    return export_onnx(module, (_sources(supernet, 1),), input_names=supernet.input_names,
                       output_names=supernet.output_names)  # fmt: skip


def test_onnx_outputs_match_pytorch(supernet):
    src = _sources(supernet, 8)
    for config in (supernet.smallest, supernet.largest, *supernet.space.sample(2, 2)):
        data = _onnx(supernet, config)
        model = onnx.load_from_string(data)
        assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
        assert [o.name for o in model.graph.output] == ["tokens", "scores"]
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        tokens, scores = session.run(None, {"src": src.numpy()})
        with torch.no_grad():
            ref_tokens, ref_scores = supernet.extract(config)(src)
        assert tokens.dtype == np.int64 and np.array_equal(tokens, ref_tokens.numpy())
        np.testing.assert_allclose(scores, ref_scores.numpy(), atol=1e-4, rtol=0)


def test_onnx_file_is_single_and_shrinks_with_the_sub_network(supernet):
    small, large = _onnx(supernet, supernet.smallest), _onnx(supernet, supernet.largest)
    for data in (small, large):
        model = onnx.load_from_string(data)
        assert not any(t.data_location == onnx.TensorProto.EXTERNAL
                       for t in model.graph.initializer)  # fmt: skip
    assert len(small) < len(large) / 2


def test_onnx_graph_does_the_work_of_the_whole_trace(supernet):
    """Same products, norms, softmaxes and argmaxes as tracing `forward` whole (the unrolled
    greedy decoder), in one graph: no Loop, no data-dependent stop."""
    work = {"MatMul", "Gemm", "Softmax", "LayerNormalization", "Relu", "ArgMax", "ReduceMax"}
    for config in (supernet.smallest, supernet.largest, *supernet.space.sample(5, 2)):
        module = supernet.extract(config)
        whole = trace(module, (_sources(supernet, 1),), input_names=["src"],
                      output_names=["tokens", "scores"], dynamic_axes=None).graph  # fmt: skip
        assembled = onnx.load_from_string(_onnx(supernet, config)).graph
        ops = [Counter(n.op_type for n in g.node if n.op_type in work) for g in (whole, assembled)]
        assert ops[0] == ops[1] and ops[0]["MatMul"] > 0
        assert not any(n.op_type in ("Loop", "If", "Scan") for n in assembled.node)


def _matmul_macs(data: bytes, src: np.ndarray) -> int:
    """MACs of every MatMul in the ONNX file, from the shapes onnxruntime gives its inputs."""
    model = onnx.load_from_string(data)
    products = [n for n in model.graph.node if n.op_type == "MatMul"]
    weights = {t.name: tuple(t.dims) for t in model.graph.initializer}
    fetch = list(dict.fromkeys(x for n in products for x in n.input if x not in weights))
    outputs = {o.name for o in model.graph.output}
    model.graph.output.extend(onnx.ValueInfoProto(name=x) for x in fetch if x not in outputs)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    values = session.run(fetch, {"src": src})
    shapes = {**weights, **{x: v.shape for x, v in zip(fetch, values, strict=True)}}
    total = 0
    for node in products:
        a, b = (shapes[x] for x in node.input)
        total += int(np.prod(np.broadcast_shapes(a[:-2], b[:-2]))) * a[-2] * a[-1] * b[-1]
    return total


def test_onnx_file_does_the_macs_of_the_formula(supernet):
    """The exported file computes each decoder layer's cross-attention keys and values once, as
    PyTorch and `macs` do: its products add up to `macs` exactly."""
    src = _sources(supernet, 1)
    for config in (supernet.smallest, supernet.largest, *supernet.space.sample(6, 2)):
        data = _onnx(supernet, config)
        ops = {n.op_type for n in onnx.load_from_string(data).graph.node}
        assert not ops & {"Gemm", "Conv", "Einsum", "MatMulInteger"}  # MatMul holds every product
        assert _matmul_macs(data, src.numpy()) == supernet.macs(config)


def test_a_graph_built_from_parts_refuses_dynamic_axes(supernet):
    module = supernet.extract(supernet.smallest)
    with pytest.raises(InvalidArgument, match="dynamic_batch"):
        export_onnx(module, (_sources(supernet, 1),), input_names=supernet.input_names,
                    output_names=supernet.output_names, dynamic_axes={"src": {0: "n"}})  # fmt: skip


def test_onnx_outputs_are_named_tokens_and_scores_by_default(supernet):
    data = export_onnx(supernet.extract(supernet.smallest), (_sources(supernet, 1),))
    assert [o.name for o in onnx.load_from_string(data).graph.output] == ["tokens", "scores"]


def test_onnx_model_accepts_any_ids_the_agent_may_feed(supernet):
    """An agent times a model on random inputs; ids outside the vocabulary must not fail."""
    session = ort.InferenceSession(_onnx(supernet, supernet.smallest))
    src = np.array([[0, len(supernet.vocab) + 50, 2**40, -7]], dtype=np.int64)
    tokens, _ = session.run(None, {"src": src})
    assert tokens.shape == (1, STEPS)
    assert (tokens >= 0).all() and (tokens < len(supernet.vocab)).all()


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.skipif(
    importlib.util.find_spec("litert_torch") is None or
    importlib.util.find_spec("ai_edge_litert") is None,
    reason="TFLite export needs the tflite extra (litert-torch and ai-edge-litert)",
)  # fmt: skip
def test_tflite_outputs_match_pytorch(supernet, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    config = supernet.space.sample(4, 1)[0]
    module = supernet.extract(config)
    path = tmp_path / "model.tflite"
    export_tflite(module, (_sources(supernet, 1),), path=path)
    interpreter = Interpreter(model_path=str(path))
    runner = interpreter.get_signature_runner()
    src = _sources(supernet, 1)
    ((_, input_detail),) = runner.get_input_details().items()
    outputs = runner(**{name: src.numpy().astype(input_detail["dtype"])
                        for name in runner.get_input_details()})  # fmt: skip
    tokens, scores = (outputs[name] for name in sorted(outputs))  # output_0, output_1
    with torch.no_grad():
        ref_tokens, ref_scores = module(src)
    assert np.array_equal(tokens.astype(np.int64), ref_tokens.numpy())
    np.testing.assert_allclose(scores, ref_scores.numpy(), atol=1e-3, rtol=0)
