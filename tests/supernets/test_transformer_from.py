"""`linas train transformer --from WEIGHTS`: the committed supernet fine-tuned on a new parallel
corpus (numbers phrases whose German side is quoted with guillemets and accented, characters the
committed vocabulary never saw) keeps its vocabulary and dimensions, reports the pieces it
cannot cover, and loads as a supernet scored on the new validation pair; what --from cannot
change is refused before training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from linas_host.supernets.transformer import corpus as phrases
from linas_host.supernets.transformer import supernet as transformer
from linas_host.supernets.weights import PACKAGED

from linas_sdk.cli import main

COMMITTED = PACKAGED / "transformer.pt"


def write_pair(folder: Path, name: str, pairs: list[phrases.Pair]) -> list[str]:
    """`pairs` as NAME.en and NAME.de, the German side as «…» with é for e."""
    files = [folder / f"{name}.en", folder / f"{name}.de"]
    files[0].write_text("".join(f"{p.source}\n" for p in pairs), encoding="utf-8")
    files[1].write_text("".join(f"«{p.target.replace('e', 'é')}»\n" for p in pairs),
                        encoding="utf-8")  # fmt: skip
    return [str(f) for f in files]


@pytest.mark.timeout(240)
def test_fine_tuning_keeps_the_vocabulary_and_reports_what_it_cannot_cover(tmp_path, capsys):
    splits = phrases.load()
    train = write_pair(tmp_path, "train", splits["train"][:256])
    valid = write_pair(tmp_path, "valid", splits["valid"][:8])
    out = tmp_path / "w" / "quoted.pt"
    assert main(["train", "transformer", "--from", str(COMMITTED), "--train", *train,
                 "--valid", *valid, "--max-steps", "2", "--threads", "1",
                 "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "cannot cover (UNK): characters « » é" in printed
    before = json.loads(COMMITTED.with_suffix(".json").read_text())
    after = json.loads(out.with_suffix(".json").read_text())
    assert after["vocab"] == before["vocab"] and after["options"] == before["options"]
    coverage = after["corpus"]["coverage"]
    assert coverage["valid"]["pairs"] == coverage["valid"]["pairs_with_unknown"] == 8
    assert coverage["train"]["unknown_pieces"] >= 2 * coverage["train"]["pairs"]  # « and »
    assert after["corpus"]["from"]["sha256"] == before["sha256"]
    assert "--from" in after["command"]
    supernet = transformer.load(weights=out)  # scored on the new validation pair by default
    assert len(supernet.validation(limit=None)[1]) == 8
    old = transformer.load(weights=COMMITTED).net.state_dict()
    new = supernet.net.state_dict()
    assert any(not torch.equal(old[k], new[k]) for k in old), "two steps changed the weights"


def test_what_from_cannot_change_is_refused(tmp_path, capsys):
    splits = phrases.load()
    train = write_pair(tmp_path, "train", splits["train"][:4])
    base = ["train", "transformer", "--from", str(COMMITTED), "--out", str(tmp_path / "w.pt")]
    digits = str(PACKAGED / "mobilenetv3.pt")
    for argv, expected in (
        ([*base, "--train", *train, "--valid", *train, "--embed", "32", "--vocab-size", "9"],
         "--vocab-size, --embed cannot change a trained supernet"),
        (base, "expected --train SOURCE TARGET and --valid SOURCE TARGET"),
        ([*base[:3], digits, *base[4:], "--train", *train, "--valid", *train],
         "weights of the 'mobilenetv3' supernet"),
    ):  # fmt: skip
        assert main(argv) == 2
        assert expected in capsys.readouterr().err
    assert not (tmp_path / "w.pt").exists()
