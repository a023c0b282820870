"""The committed weights load only with the sha256 their manifest records, and the trade-off
they encode is real: the largest sub-network beats the smallest by at least 5 points."""

from __future__ import annotations

import json
import shutil

import pytest
from linas_host.supernets import mobilenetv3, registry
from linas_host.supernets import weights as weight_files
from linas_host.supernets.protocol import Supernet
from mobilenetv3_helpers import committed_supernet

from linas_sdk.errors import ArtifactCorrupt, InvalidArgument


def test_committed_weights_are_small_and_match_their_manifest():
    path = mobilenetv3.DEFAULT_WEIGHTS
    manifest = json.loads(weight_files.manifest_path(path).read_text())
    assert path.stat().st_size <= 5 * 1024 * 1024
    assert weight_files.sha256_file(path) == manifest["sha256"]
    assert manifest["command"].startswith("linas train mobilenetv3")


def test_a_corrupted_weights_file_is_refused(tmp_path):
    path = tmp_path / "mobilenetv3.pt"
    shutil.copy(mobilenetv3.DEFAULT_WEIGHTS, path)
    shutil.copy(weight_files.manifest_path(mobilenetv3.DEFAULT_WEIGHTS), tmp_path)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactCorrupt, match="sha256"):
        mobilenetv3.load(weights=path)


def test_missing_weights_say_how_to_make_them(tmp_path):
    with pytest.raises(InvalidArgument, match="linas train"):
        mobilenetv3.load(weights=tmp_path / "absent.pt")


def test_largest_beats_smallest_by_at_least_5_points():
    supernet = committed_supernet()
    small = supernet.evaluate(supernet.extract(supernet.smallest))["accuracy"]
    large = supernet.evaluate(supernet.extract(supernet.largest))["accuracy"]
    assert large - small >= 0.05
    assert small > 0.5  # the small end is trained too, not crippled


def test_the_registry_builds_it_by_name():
    supernet = registry.create("mobilenetv3")
    assert isinstance(supernet, Supernet)
    assert supernet.name == "mobilenetv3" and len(supernet.space) == 45
