"""The committed weights of every built-in supernet load only with the sha256 their manifest
records, and the trade-off they encode is real: the largest sub-network beats the smallest by a
clear margin, the smallest is trained too, and the manifest's figures are what they score. For
the Transformer, BLEU from the tokens an exported model returns equals BLEU on the host."""

from __future__ import annotations

import functools
import json
import shutil
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import onnxruntime as ort
import pytest
from linas_host.export import export_onnx
from linas_host.supernets import registry
from linas_host.supernets import weights as weight_files
from linas_host.supernets.mobilenetv3 import supernet as mobilenetv3
from linas_host.supernets.protocol import Supernet
from linas_host.supernets.transformer import supernet as transformer

from linas_sdk.errors import ArtifactCorrupt, InvalidArgument


@dataclass(frozen=True)
class Committed:
    """One built-in supernet's committed weights and the trade-off they must show."""

    module: ModuleType
    space_size: int
    metric: str
    gap: float
    """At least this much between the largest and the smallest sub-network's score."""
    floor: float
    """The smallest sub-network scores above this (the small end is trained, not crippled)."""
    recorded: str
    """The manifest's key for both ends' scores at training time."""
    tolerance: float
    """How far today's score may be from the recorded one (the manifest rounds BLEU)."""

    @property
    def name(self) -> str:
        return self.module.__name__.rsplit(".", 2)[-2]  # linas_host.supernets.NAME.supernet

    def manifest(self) -> dict:
        return json.loads(weight_files.manifest_path(self.module.DEFAULT_WEIGHTS).read_text())


SUPERNETS = [
    Committed(mobilenetv3, 45, "accuracy", 0.05, 0.5, "accuracy", 1e-9),
    Committed(transformer, 40, "bleu", 10.0, 20.0, "validation_bleu", 0.01),
]
committed = pytest.mark.parametrize("case", SUPERNETS, ids=lambda case: case.name)


@functools.cache
def loaded(case: Committed) -> Supernet:
    return case.module.load()


@functools.cache
def score(case: Committed, end: str) -> float:
    supernet = loaded(case)
    return supernet.evaluate(supernet.extract(getattr(supernet, end)))[case.metric]


@committed
def test_committed_weights_are_small_and_match_their_manifest(case: Committed):
    path = case.module.DEFAULT_WEIGHTS
    manifest = case.manifest()
    assert path.stat().st_size <= 5 * 1024 * 1024
    assert weight_files.sha256_file(path) == manifest["sha256"]
    assert manifest["command"].startswith(f"linas train {case.name}")


@committed
def test_a_corrupted_weights_file_is_refused(case: Committed, tmp_path):
    path = tmp_path / case.module.DEFAULT_WEIGHTS.name
    shutil.copy(case.module.DEFAULT_WEIGHTS, path)
    shutil.copy(weight_files.manifest_path(case.module.DEFAULT_WEIGHTS), tmp_path)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactCorrupt, match="sha256"):
        case.module.load(weights=path)


@committed
def test_missing_weights_say_how_to_make_them(case: Committed, tmp_path):
    with pytest.raises(InvalidArgument, match="linas train"):
        case.module.load(weights=tmp_path / "absent.pt")


@committed
def test_the_registry_builds_it_by_name(case: Committed):
    supernet = registry.create(case.name)
    assert isinstance(supernet, Supernet)
    assert supernet.name == case.name and len(supernet.space) == case.space_size


@committed
def test_largest_beats_smallest_by_a_clear_margin(case: Committed):
    assert score(case, "largest") - score(case, "smallest") >= case.gap
    assert score(case, "smallest") > case.floor
    recorded = case.manifest()[case.recorded]
    for end in ("smallest", "largest"):
        assert recorded[end] == pytest.approx(score(case, end), abs=case.tolerance)


def test_bleu_from_an_exported_models_tokens_equals_host_bleu():
    """What the search does with a board's METRIC_OUTPUTS reply: score the returned tokens."""
    case = SUPERNETS[1]
    supernet = loaded(case)
    module = supernet.extract(supernet.smallest)
    data = export_onnx(
        module,
        supernet.example_input(supernet.smallest),
        input_names=supernet.input_names,
        output_names=supernet.output_names,
    )
    src = supernet.validation_arrays()["src"]
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    tokens = session.run(["tokens"], {"src": src})[0]
    assert tokens.dtype == np.int64 and tokens.shape == (len(src), supernet.steps)
    bleu = supernet.score_outputs(tokens)["bleu"]
    assert bleu == pytest.approx(score(case, "smallest"), abs=1e-9)
