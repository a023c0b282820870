"""`precision: mixed` on real exports of the committed supernets: each stage's operators are
found in the exported file, the int8 stages come out quantized and the float stages do not
(ONNX QDQ, TFLite full integer, the Transformer's dynamic int8), and the two ends of the
genes are the FP32 file and the `precision: int8` file, byte for byte."""

from __future__ import annotations

import pickle
import re
from types import SimpleNamespace

import numpy as np
import onnx
import onnxruntime
import pytest
from linas_host.export.quantize import Quantization
from linas_host.export.stages import operator_names, stage_operators
from linas_host.export.subnet import Exporter, subnetwork_bytes
from linas_host.supernets import create
from linas_host.supernets.mobilenetv3.net import ElasticMobileNetV3
from linas_host.supernets.mobilenetv3.ofa import VARIANTS, OFAMobileNetV3Supernet
from linas_host.supernets.precision import MixedPrecision
from mobilenetv3_helpers import committed_supernet

from linas_sdk.errors import InvalidArgument

INT8_STAGES = {"stem", "stage2", "stage4", "head"}
WEIGHTED_TFLITE = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}


@pytest.fixture(scope="module")
def mixed() -> MixedPrecision:
    return MixedPrecision(committed_supernet())


def genes(mixed: MixedPrecision, architecture: dict, int8: set[str]) -> dict:
    return {**architecture,
            **{name: "int8" if stage in int8 else "fp32" for name, stage in mixed.genes.items()}}


@pytest.fixture(scope="module")
def config(mixed: MixedPrecision) -> dict:
    architecture = committed_supernet().space.sample(11, 1)[0]
    return genes(mixed, architecture, INT8_STAGES)


def blocks_of(config: dict) -> dict[str, set[int]]:
    """The extracted network's block indices of each elastic stage (blocks.0 is the stem's)."""
    first, out = 1, {}
    for s in range(1, 6):
        out[f"stage{s}"] = set(range(first, first + config[f"depth_{s}"]))
        first += config[f"depth_{s}"]
    return out


def onnx_weights(model: bytes) -> dict[str, str]:
    """Each Conv and Gemm node -> "int8" when its weight is an int8 initializer seen through a
    DequantizeLinear, "fp32" when it is a float initializer."""
    graph = onnx.load_from_string(model).graph
    initialisers = {i.name: i.data_type for i in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    kinds = {}
    for node in graph.node:
        if node.op_type in ("Conv", "Gemm"):
            weight = node.input[1]
            if weight in initialisers:
                kinds[node.name] = {onnx.TensorProto.FLOAT: "fp32"}[initialisers[weight]]
            else:
                dq = producer[weight]
                assert dq.op_type == "DequantizeLinear"
                kinds[node.name] = {onnx.TensorProto.INT8: "int8"}[initialisers[dq.input[0]]]
    return kinds


def ofa_w10() -> MixedPrecision:
    """OFA w1.0 with random weights at 160 px: its checkpoint's network, stages and names."""
    net = ElasticMobileNetV3(VARIANTS["ofa-w1.0"])
    return MixedPrecision(OFAMobileNetV3Supernet(net, variant="ofa-w1.0", resolutions=(160,)))


@pytest.mark.parametrize("member", ["digits", "ofa-w1.0"])
def test_every_operator_of_an_onnx_export_is_its_stages(mixed, config, member) -> None:
    if member != "digits":
        genes = {k: v for k, v in config.items() if k in mixed.genes}
        mixed = ofa_w10()
        config = {**mixed.supernet.space.sample(5, 1)[0], **genes}
    data = subnetwork_bytes(mixed, config, "onnx")
    names = operator_names(data, "onnx")
    owned = stage_operators(names, mixed.stage_operators(config, "onnx"))
    assert list(owned) == ["stem", *(f"stage{s}" for s in range(1, 6)), "head"]
    assert sorted(n for ops in owned.values() for n in ops) == sorted(names)
    # scoped nodes only: OFA's file opens with the exporter's Identity nodes of repeated
    # weights, which compute nothing and join the stem
    assert all(re.match(r"/(first_conv|blocks/blocks\.0)/", n) for n in owned["stem"]
               if not n.startswith("Identity_"))
    for stage, indices in blocks_of(config).items():
        found = {int(re.match(r"/blocks/blocks\.(\d+)/", n).group(1)) for n in owned[stage]}
        assert found == indices, stage
    assert {"/ReduceMean", "/Flatten", "/classifier/linear/Gemm"} <= set(owned["head"])


def test_the_mixed_onnx_file_quantizes_its_int8_stages_only(mixed, config) -> None:
    module = mixed.extract(config)
    exporter = Exporter(mixed, "onnx", Quantization(), calibration_samples=64)
    assert exporter.precision(config) == "mixed"
    owned = stage_operators(operator_names(subnetwork_bytes(mixed, config, "onnx", module),
                                           "onnx"), mixed.stage_operators(config, "onnx"))
    stage_of = {name: stage for stage, names in owned.items() for name in names}
    weights = onnx_weights(exporter(module, config))
    assert weights and set(weights) <= set(stage_of)
    for node, kind in weights.items():
        assert kind == ("int8" if stage_of[node] in INT8_STAGES else "fp32"), node
    assert {stage_of[n] for n in weights} == set(owned)  # every stage has a weighted layer


def test_the_ends_of_the_genes_are_the_fp32_and_the_int8_files(mixed, config) -> None:
    architecture = mixed.architecture(config)
    module = mixed.extract(config)
    exporter = Exporter(mixed, "onnx", Quantization(), calibration_samples=64)
    plain = Exporter(committed_supernet(), "onnx", Quantization(), calibration_samples=64)
    every = {stage for stage in mixed.precision_stages}
    assert exporter(module, genes(mixed, architecture, set())) == subnetwork_bytes(
        mixed, config, "onnx", module)
    assert exporter(module, genes(mixed, architecture, every)) == plain(module, architecture)
    assert exporter.precision(genes(mixed, architecture, set())) == "fp32"
    assert exporter.precision(genes(mixed, architecture, every)) == "int8"


@pytest.mark.timeout(300)
def test_the_mixed_tflite_file_quantizes_its_int8_stages_only(mixed, config) -> None:
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_quantizer.utils import tfl_flatbuffer_utils as flatbuffer

    data = Exporter(mixed, "tflite", Quantization(), calibration_samples=64)(
        mixed.extract(config), config)
    # the quantizer keeps the ops' names (its own quantize and dequantize ops hold no weights)
    owned = stage_operators(operator_names(data, "tflite"), mixed.stage_operators(config, "tflite"))
    stage_of = {name: stage for stage, names in owned.items() for name in names}
    model = flatbuffer.read_model(data)
    graph = model.subgraphs[0]
    seen = set()
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex].builtinCode
        kind = getattr(flatbuffer.TFL_OP_CODE_TO_NAME.get(code), "name", "")
        scope = flatbuffer.get_op_scope(op, graph.tensors)
        if kind in WEIGHTED_TFLITE:
            weight = graph.tensors[op.inputs[1]].type
            int8 = stage_of[scope] in INT8_STAGES
            assert weight == (9 if int8 else 0), (scope, weight)  # schema: 9 INT8, 0 FLOAT32
            seen.add(stage_of[scope])
    assert seen == set(owned)
    interpreter = Interpreter(model_content=data)
    interpreter.allocate_tensors()
    runner = interpreter.get_signature_runner()
    (name,) = interpreter.get_signature_list()["serving_default"]["inputs"]
    image = mixed.example_input(config)[0].numpy()
    logits = next(iter(runner(**{name: image}).values()))
    assert np.all(np.isfinite(logits))


def test_the_transformer_quantizes_its_encoder_and_keeps_its_decoder_float() -> None:
    mixed = MixedPrecision(create("transformer"))
    config = {**mixed.supernet.smallest, "precision_encoder": "int8", "precision_decoder": "fp32"}
    data = Exporter(mixed, "onnx", Quantization("dynamic"))(mixed.extract(config), config)
    graph = onnx.load_from_string(data).graph
    integer = [n.name for n in graph.node
               if n.op_type in ("MatMulInteger", "DynamicQuantizeMatMul")]
    assert integer and not [n for n in integer if n.startswith("step")]
    assert [n for n in graph.node if n.op_type == "MatMul" and n.name.startswith("step")]
    session = onnxruntime.InferenceSession(data)
    tokens, _ = session.run(None, {"src": mixed.example_input(config)[0].numpy()})
    assert tokens.shape[0] == 1


def test_mixed_precision_adds_a_gene_per_stage_and_hands_the_supernet_its_architecture(
        mixed, config) -> None:
    names = mixed.space.names
    assert names[:len(committed_supernet().space.names)] == committed_supernet().space.names
    assert names[-7:] == ("precision_stem", *(f"precision_stage{s}" for s in range(1, 6)),
                          "precision_head")
    assert mixed.space["precision_head"].choices == ("fp32", "int8")
    assert mixed.stage_precisions(config)["stage2"] == "int8"
    assert mixed.macs(config) == committed_supernet().macs(mixed.architecture(config))
    assert mixed.validation_arrays(5, config)["y"].shape == (5,)
    shipped = pickle.loads(pickle.dumps(mixed))  # as the host work goes to a Ray worker
    assert shipped.space == mixed.space and shipped.stage_precisions(config)["head"] == "int8"


def test_a_random_draw_gives_each_candidate_one_precision(mixed) -> None:
    drawn = mixed.space.sample(np.random.default_rng(0), 40)
    precisions = [{c[name] for name in mixed.genes} for c in drawn]
    assert all(len(p) == 1 for p in precisions)
    assert {p.pop() for p in precisions} == {"fp32", "int8"}
    assert len({mixed.space.key(c) for c in drawn}) == 40  # architectures still drawn freely
    assert all(mixed.space.canonical(c) == c for c in drawn)


def test_a_supernet_that_names_no_stages_is_refused() -> None:
    plain = SimpleNamespace(name="plain", space=None)
    with pytest.raises(InvalidArgument, match=r"precision: mixed needs a supernet that names its "
                                              r"stages.*'plain' does not: expected precision fp32 "
                                              r"or int8"):
        MixedPrecision(plain)
