"""The training recipe learns (a tiny supernet, a few dozen steps) and `linas train
transformer` writes weights that load back with their hash and the command that made them."""

from __future__ import annotations

import json

import pytest
from linas_host.supernets.transformer import supernet as transformer
from linas_host.supernets.transformer.training import train_supernet
from transformer_helpers import small_supernet

from linas_sdk.cli import main


def test_sandwich_training_lowers_every_end_s_loss():
    supernet = small_supernet()
    first = train_supernet(supernet, steps=1, batch_size=32, seed=1, log=None)["losses"]
    supernet = small_supernet()
    later = train_supernet(supernet, steps=60, batch_size=32, seed=1, log=None)["losses"]
    assert later["largest"] < first["largest"] - 0.5
    assert later["smallest"] < first["smallest"] - 0.3
    assert not supernet.net.training


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_linas_train_transformer_writes_loadable_weights(tmp_path):
    out = tmp_path / "transformer.pt"
    assert main(["train", "transformer", "--max-steps", "2", "--threads", "1",
                 "--out", str(out)]) == 0  # fmt: skip
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["command"].startswith("linas train transformer")
    assert "--max-steps" in manifest["command"]
    assert manifest["training"]["steps"] == 2 and manifest["dtype"] == "float16"
    supernet = transformer.load(weights=out)
    assert len(supernet.space) == 40 and len(supernet.vocab) == len(manifest["vocab"]["pieces"])
