"""Your own translation corpus: `linas train transformer --train SRC TGT --valid SRC TGT` on the
bundled numbers corpus written out as text files (tiny dimensions, a few steps), then the
vocabulary and manifest, loading, ONNX export, a search through the `linas` CLI scoring BLEU on
the user's validation pair, and the errors for bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
from e2e_helpers import FAST_TIMING, write_yaml
from linas_cli import linas
from linas_host.export import export_onnx
from linas_host.supernets.transformer import corpus as phrases
from linas_host.supernets.transformer import parallel
from linas_host.supernets.transformer import supernet as transformer
from linas_host.supernets.weights import sha256_file

from linas_sdk.cli import main
from linas_sdk.errors import ArtifactCorrupt, InvalidArgument

TINY = ["--embed", "16", "32", "--ffn", "16", "32", "--heads", "1", "2", "--encoder-layers", "2",
        "--decoder-layers", "1", "2", "--ende", "1", "2", "--head-dim", "8"]  # fmt: skip


def write_pair(folder: Path, name: str, pairs: list[phrases.Pair]) -> list[Path]:
    """`pairs` as two text files, NAME.en and NAME.de, one sentence a line."""
    files = [folder / f"{name}.en", folder / f"{name}.de"]
    files[0].write_text("".join(f"{p.source}\n" for p in pairs), encoding="utf-8")
    files[1].write_text("".join(f"{p.target}\n" for p in pairs), encoding="utf-8")
    return files


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A tiny member trained for 40 steps on 2,000 bundled pairs; a blank line and a blank
    pair in the training files are skipped."""
    folder = tmp_path_factory.mktemp("own-corpus")
    splits = phrases.load()
    train = write_pair(folder, "train", splits["train"][:2000])
    for path, extra in zip(
        train, ["lonely\n\n", "  \n\n"], strict=True
    ):  # a blank side, a blank pair
        path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    valid = write_pair(folder, "valid", splits["valid"][:40])
    out = folder / "weights" / "mine.pt"
    torch.manual_seed(0)  # the initial weights, as in a fresh `linas` process
    assert main(["train", "transformer", "--train", *map(str, train), "--valid", *map(str, valid),
                 *TINY, "--vocab-size", "400", "--max-steps", "40", "--threads", "1",
                 "--out", str(out)]) == 0  # fmt: skip
    return {"folder": folder, "out": out, "train": train, "valid": valid, "splits": splits}


def test_the_vocabulary_sits_beside_the_weights_with_its_hash_in_the_manifest(trained):
    out = trained["out"]
    manifest = json.loads(out.with_suffix(".json").read_text())
    vocab_file = out.with_suffix(".model")
    assert manifest["vocab"]["sentencepiece"] == vocab_file.name
    assert manifest["vocab"]["sha256"] == sha256_file(vocab_file)
    recorded = manifest["corpus"]["train"]
    assert recorded["lines"] == 2002 and recorded["blank_pairs_skipped"] == 2
    assert recorded["pairs"] == 2000 - recorded["long_pairs_skipped"]
    assert recorded["source_sha256"] == sha256_file(trained["train"][0])
    assert manifest["corpus"]["valid"]["source"] == str(trained["valid"][0].resolve())
    command = manifest["command"]  # rebuilt from the options (main() is called in-process)
    assert command.startswith("linas train transformer") and "--vocab-size 400" in command
    assert f"--train {trained['train'][0]} {trained['train'][1]}" in command
    assert manifest["options"]["embed"] == [16, 32] and manifest["options"]["encoder_layers"] == 2
    assert manifest["training"]["steps"] == 40


def test_the_model_loads_on_the_trained_pair_and_exports_to_onnx(trained):
    supernet = transformer.load(weights=trained["out"])
    assert len(supernet.space) == 2 + 2 * 2 + 2 + 4 * 2
    assert len(supernet.vocab) == json.loads(trained["out"].with_suffix(".json").read_text())[
        "vocab"]["size"]  # fmt: skip
    german = [p.target for p in trained["splits"]["valid"][:40]]
    assert supernet.validation()[1] == german  # the recorded validation pair, not the bundled
    text = german[0]
    assert supernet.vocab.decode([*supernet.vocab.encode(text), 2, 5]) == text
    module = supernet.extract(supernet.largest)
    src = supernet.example_input()
    onnx_file = export_onnx(module, src, input_names=supernet.input_names,
                            output_names=supernet.output_names)  # fmt: skip
    session = onnxruntime.InferenceSession(onnx_file, providers=["CPUExecutionProvider"])
    tokens = session.run(["tokens"], {"src": src[0].numpy()})[0]
    with torch.no_grad():
        expected = module(*src)[0].numpy()
    assert tokens.shape == (1, supernet.steps) and np.array_equal(tokens, expected)


@pytest.mark.timeout(300)
def test_a_search_scores_bleu_on_the_users_validation_pair(trained):
    folder = trained["folder"]
    # References = the translations of one end of the trained supernet (a tiny model scores
    # near 0 on real references): that end then scores 100 on this pair and nowhere else.
    sources = trained["splits"]["test"][:30]
    supernet = transformer.load(weights=trained["out"], valid=write_pair(folder, "probe", sources))
    src = supernet.validation()[0]
    texts = {
        end: [
            supernet.vocab.decode(ids) for ids in supernet.extract(config).translate(src).tolist()
        ]
        for end, config in (("smallest", supernet.smallest), ("largest", supernet.largest))
    }
    end = max(texts, key=lambda e: sum(map(bool, texts[e])))
    assert any(texts[end]), "neither end translates a sentence into anything"
    own = [phrases.Pair(p.source, text) for p, text in zip(sources, texts[end], strict=True)]
    pair = write_pair(folder, "own", own)
    mine = transformer.load(weights=trained["out"], valid=pair)
    assert mine.evaluate(mine.extract(getattr(mine, end)))["bleu"] == pytest.approx(100)
    config = write_yaml(folder / "search.yaml", {
        "space": {"supernet": "transformer",
                  "options": {"weights": str(trained["out"]), "valid": [str(p) for p in pair]}},
        "objectives": ["bleu", "latency"], "method": "random", "population": 2, "budget": 2,
        "threads": 1, "measure": FAST_TIMING, "out": str(folder / "run"),
        "cache_dir": str(folder / "cache"),
    })  # fmt: skip
    done = linas("search", config, "--progress", "quiet", cwd=folder)
    assert done.returncode == 0, done.stderr
    with (folder / "run" / "results.csv").open() as rows:
        rows = list(csv.DictReader(rows))
    assert len(rows) == 2
    for row in rows:
        config = {name: int(row[name]) for name in mine.space.names if row.get(name)}
        assert float(row["bleu"]) == pytest.approx(mine.evaluate(mine.extract(config))["bleu"])
        assert float(row["latency_ms"]) > 0


def test_a_vocabulary_that_does_not_match_its_manifest_is_refused(trained, tmp_path):
    copy = tmp_path / "mine.pt"
    for suffix in (".pt", ".json", ".model"):
        copy.with_suffix(suffix).write_bytes(trained["out"].with_suffix(suffix).read_bytes())
    model = copy.with_suffix(".model")
    data = model.read_bytes()
    model.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one bit flipped
    with pytest.raises(ArtifactCorrupt, match=r"mine\.model has sha256 .* manifest expects"):
        transformer.load(weights=copy)
    model.unlink()
    with pytest.raises(
        InvalidArgument, match=r"expected the SentencePiece vocabulary .*mine\.model"
    ):
        transformer.load(weights=copy)


def test_bad_parallel_files_get_clear_errors(trained, tmp_path):
    source, target = tmp_path / "a.en", tmp_path / "a.de"
    source.write_text("one\ntwo\nthree\n")
    target.write_text("eins\nzwei\n")
    with pytest.raises(InvalidArgument, match=r"a\.en has 3 lines but .*a\.de has 2"):
        parallel.read(source, target)
    with pytest.raises(InvalidArgument, match=r"no target file .*missing\.de"):
        parallel.read(source, tmp_path / "missing.de")
    target.write_bytes(b"eins\n\xff\xfe\ndrei\n")
    with pytest.raises(InvalidArgument, match=r"a\.de is not UTF-8 text"):
        parallel.read(source, target)
    target.write_text("\n  \n\n")
    with pytest.raises(InvalidArgument, match="no pair of non-blank lines"):
        parallel.read(source, target)
    with pytest.raises(InvalidArgument, match=r"expected two text files, \[SOURCE, TARGET\]"):
        transformer.load(weights=trained["out"], valid=[str(source)])


def test_the_trainer_refuses_half_a_corpus_and_corpus_options_without_one(tmp_path):
    from linas_host.supernets.transformer.training import train

    source = tmp_path / "a.en"
    source.write_text("one\n")
    with pytest.raises(InvalidArgument, match="expected both --train SOURCE TARGET and --valid"):
        train(train_files=[source, source], out=tmp_path / "w.pt", log=None)
    with pytest.raises(InvalidArgument, match="--vocab-size and --max-length apply to your own"):
        train(vocab_size=100, out=tmp_path / "w.pt", log=None)
