"""The committed Transformer weights load only with the sha256 their manifest records, and the
trade-off they encode is real: the largest sub-network out-translates the smallest by a clear
BLEU margin, on the host and from the tokens an exported model returns."""

from __future__ import annotations

import functools
import json
import shutil

import numpy as np
import onnxruntime as ort
import pytest
from linas_host.export import export_onnx
from linas_host.supernets import registry, transformer
from linas_host.supernets import weights as weight_files
from linas_host.supernets.protocol import Supernet

from linas_sdk.errors import ArtifactCorrupt

BLEU_GAP = 10.0  # points between the largest and the smallest sub-network, at least


@functools.cache
def committed() -> transformer.TransformerSupernet:
    return transformer.load()


@functools.cache
def bleu(end: str) -> float:
    supernet = committed()
    config = supernet.largest if end == "largest" else supernet.smallest
    return supernet.evaluate(supernet.extract(config))["bleu"]


def test_committed_weights_are_small_and_match_their_manifest():
    path = transformer.DEFAULT_WEIGHTS
    manifest = json.loads(weight_files.manifest_path(path).read_text())
    assert path.stat().st_size <= 5 * 1024 * 1024
    assert weight_files.sha256_file(path) == manifest["sha256"]
    assert manifest["command"].startswith("linas train transformer")


def test_a_corrupted_weights_file_is_refused(tmp_path):
    path = tmp_path / "transformer.pt"
    shutil.copy(transformer.DEFAULT_WEIGHTS, path)
    shutil.copy(weight_files.manifest_path(transformer.DEFAULT_WEIGHTS), tmp_path)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactCorrupt, match="sha256"):
        transformer.load(weights=path)


def test_the_registry_builds_it_by_name():
    supernet = registry.create("transformer")
    assert isinstance(supernet, Supernet)
    assert supernet.name == "transformer" and len(supernet.space) == 40


def test_largest_out_translates_smallest_by_a_clear_margin():
    manifest = json.loads(weight_files.manifest_path(transformer.DEFAULT_WEIGHTS).read_text())
    assert bleu("largest") - bleu("smallest") >= BLEU_GAP
    assert bleu("smallest") > 20  # the small end is trained too, not crippled
    # The manifest's figures are what these weights score (recorded at training time).
    assert manifest["validation_bleu"]["largest"] == pytest.approx(bleu("largest"), abs=0.01)


def test_bleu_from_an_exported_models_tokens_equals_host_bleu():
    """What the search does with a board's METRIC_OUTPUTS reply: score the returned tokens."""
    supernet = committed()
    module = supernet.extract(supernet.smallest)
    data = export_onnx(module, supernet.example_input(supernet.smallest),
                       input_names=supernet.input_names, output_names=supernet.output_names)
    src = supernet.validation_arrays()["src"]
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    tokens = session.run(["tokens"], {"src": src})[0]
    assert tokens.dtype == np.int64 and tokens.shape == (len(src), supernet.steps)
    assert supernet.score_outputs(tokens)["bleu"] == pytest.approx(bleu("smallest"), abs=1e-9)
