"""A 20-evaluation search of HAT's SuperTransformer, end to end through `linas_sdk.search`: a
random-weight file in HAT's layout at space0's layout scaled down in width, fairseq's dictionary,
joint BPE codes and a plain-text test pair, a local agent measuring latency and returning each
candidate's tokens, BLEU scored from them on the host; and bad BPE codes refused before any
agent starts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from e2e_helpers import FAST_TIMING
from linas_host.supernets import create
from supernets.hat_helpers import SMALL, hat_args, hat_state, text_files, write_checkpoint

from linas_sdk import search
from linas_sdk.errors import InvalidArgument


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hat")
    text = text_files(folder)
    args = hat_args(SMALL)
    checkpoint = write_checkpoint(folder / "super.pt", args, hat_state(args, text["vocab"]))
    return {**text, "checkpoint": checkpoint}


def _options(files: dict, **changes) -> dict:
    return {
        "variant": "hat", "checkpoint": str(files["checkpoint"]),
        "dictionary": str(files["dictionary"]), "bpe_codes": str(files["bpe_codes"]),
        "valid": [str(files["source"]), str(files["target"])], "steps": 12, "beam": 1,
        "max_len_b": 12, "bleu": "sacre", **changes,
    }  # fmt: skip


def _search(options: dict, out: Path):
    return search(
        space={"supernet": "transformer", "options": options}, objectives=["bleu", "latency"],
        method="linas", population=10, budget=20, accuracy_on="device", accuracy_limit=8,
        seed=0, threads=1, measure=FAST_TIMING, out=out, cache=False, progress="quiet",
    )  # fmt: skip


@pytest.mark.timeout(120)
def test_a_20_evaluation_search_scores_the_boards_tokens_as_the_host_would(files, tmp_path):
    result = _search(_options(files), tmp_path / "run")
    assert result.status == "budget" and result.evaluations == 20
    with (tmp_path / "run" / "results.csv").open() as rows:
        rows = list(csv.DictReader(rows))
    assert len(rows) == 20 and all(float(row["latency_ms"]) > 0 for row in rows)
    supernet = create("transformer", **_options(files))
    for row in rows[:: 5]:  # greedy on the host, at most 12 tokens: the exported workload's
        config = {name: int(row[name]) for name in supernet.space.names if row.get(name)}
        host = supernet.evaluate(supernet.extract(config), limit=8)["bleu"]
        assert float(row["bleu"]) == pytest.approx(host)


def test_bpe_codes_of_other_data_are_refused_before_any_agent_starts(files, tmp_path):
    other = text_files(tmp_path / "other", merges=5)["bpe_codes"]
    with pytest.raises(InvalidArgument, match=r"BPE codes .*bpe.codes do not match dictionary"):
        _search(_options(files, bpe_codes=str(other)), tmp_path / "run")
    assert not (tmp_path / "run" / "devices.json").exists()
