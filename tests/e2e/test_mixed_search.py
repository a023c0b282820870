"""`precision: mixed`: the space gains a precision gene per stage, each candidate is quantized
in its int8 stages only and measured as that file; the records, the exported manifest and the
report say which precision each stage had. And a quantization that fails for an operator is
the candidate's failure, not the search's."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
import tiny_supernet
import torch
from e2e_helpers import FAST_TIMING
from linas_cli import linas
from linas_host.config.schema import ConfigError
from linas_host.report.precision import precision_table
from linas_host.search.evaluation import Evaluation
from linas_host.search.journal import SQLiteJournal
from linas_host.supernets.precision import split
from torch import nn

from linas_sdk import search
from linas_sdk.objectives import Objective


def mixed_search(tmp_path: Path, **options):
    options = {"space": "tiny_supernet:make", "precision": "mixed", "budget": 12,
               "population": 6, "seed": 3, **options}
    return search(objectives=["accuracy", "latency"], method="nsga2", measure=FAST_TIMING,
                  out=tmp_path / "run", progress="quiet", cache_dir=tmp_path / "cache",
                  quantization={"calibration_samples": 64}, **options)


def evaluations(run: Path) -> list:
    with SQLiteJournal(run / "journal.sqlite") as journal:
        return journal.evaluations()


def gemm_weights(path: Path) -> list[str]:
    """Each Gemm of the ONNX file, in order: "int8" (a DequantizeLinear of an int8
    initialiser) or "fp32" (a float initialiser)."""
    graph = onnx.load(path).graph
    types = {i.name: i.data_type for i in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    kinds = []
    for node in (n for n in graph.node if n.op_type == "Gemm"):
        weight = node.input[1]
        if weight in types:
            kinds.append("fp32" if types[weight] == onnx.TensorProto.FLOAT else "?")
        else:
            source = types[producer[weight].input[0]]
            kinds.append("int8" if source == onnx.TensorProto.INT8 else "?")
    return kinds


@pytest.mark.timeout(300)
def test_a_mixed_search_measures_each_stage_at_its_precision(tmp_path: Path) -> None:
    mixed_search(tmp_path)
    rows = evaluations(tmp_path / "run")
    assert len(rows) == 12 and not any(e.failed for e in rows)
    labels = set()
    for e in rows:
        stages = split(e.config)[1]
        assert set(stages) == {"hidden", "head"}
        chosen = set(stages.values())
        expected = chosen.pop() if len(chosen) == 1 else "mixed"
        assert e.record["precision"] == expected
        assert ("calibration_sha256" in e.record) == (expected != "fp32")
        labels.add(expected)
    # the initial population draws one precision per candidate; its offspring mix them
    assert {e.record["precision"] for e in rows[:6]} == {"fp32", "int8"}
    assert "mixed" in labels
    by_index = {e.index: e for e in rows}
    models = sorted((tmp_path / "run" / "models").glob("*.onnx"))
    assert models
    for model in models:
        stages = split(by_index[int(model.stem.split("-")[0])].config)[1]
        *hidden, head = gemm_weights(model)
        assert set(hidden) == {stages["hidden"]} and head == stages["head"]
    report = (tmp_path / "run" / "report.html").read_text()
    front = len(list((tmp_path / "run" / "models").glob("*.onnx")))
    assert f"{front} of the {front} front architectures measured at both" in report
    assert "FP32 against int8: the front&#x27;s architectures with every stage at each" in report
    out = tmp_path / "firmware"
    done = linas("export", tmp_path / "run", "--maximize", "accuracy", "-o", out)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    chosen = by_index[manifest["architecture"]["evaluation"]]
    artifact = manifest["artifact"]
    assert artifact["identical_to_measured"] is True
    assert artifact["precision"] == chosen.record["precision"]
    if artifact["precision"] == "mixed":
        assert artifact["quantization"]["stages"] == split(chosen.config)[1]
    with pytest.raises(ConfigError, match="precision: was 'mixed', now 'int8'"):
        mixed_search(tmp_path, precision="int8", resume=True)


class _Sorted(nn.Module):
    """Sorts each sample's features: litert-torch writes a STABLEHLO_SORT, which the LiteRT
    interpreter the quantizer calibrates with cannot run."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sort(x, dim=1).values


def sorting(**options):
    """The tiny supernet, its three-layer sub-networks sorting their inputs first."""
    supernet = tiny_supernet.make(**options)
    extract = supernet.extract

    def extract_sorted(config: dict) -> nn.Module:
        network = extract(config)
        return nn.Sequential(_Sorted(), network) if config["depth"] == 3 else network

    supernet.extract = extract_sorted
    return supernet


@pytest.mark.timeout(600)
def test_a_quantization_that_fails_for_an_operator_fails_that_candidate_only(tmp_path) -> None:
    mixed_search(tmp_path, space="test_mixed_search:sorting", precision="int8",
                 runtime="litert", budget=3, population=3, seed=7)
    rows = evaluations(tmp_path / "run")
    failed = [e for e in rows if e.failed]
    assert {e.config["depth"] for e in failed} == {3}
    assert len(failed) == 1 and len(rows) == 3  # seed 7 draws depths 3, 2, 1: the others ran
    for e in failed:
        assert "int8 quantization of the tflite file failed" in e.record["error"]
        assert "STABLEHLO_SORT" in e.record["error"]


def evaluation(index: int, hidden: str, head: str, accuracy: float, latency: float,
               error: str | None = None) -> Evaluation:
    chosen = {hidden, head}
    record = {"precision": chosen.pop() if len(chosen) == 1 else "mixed",
              "accuracy": accuracy, "latency_ms": latency, **({"error": error} if error else {})}
    return Evaluation(
        index, f"k{index}", {"depth": 2, "precision_hidden": hidden, "precision_head": head},
        {"accuracy": accuracy, "latency_ms": latency}, (-accuracy, latency), (), record)


def test_the_report_sets_fp32_against_int8_for_the_front() -> None:
    objectives = [Objective("accuracy", "max"), Objective("latency_ms", "min")]
    front = [evaluation(2, "int8", "fp32", 0.89, 1.5), evaluation(3, "int8", "int8", 0.70, 0.5)]
    counterparts = {
        2: {"fp32": evaluation(9, "fp32", "fp32", 0.90, 2.0).record,
            "int8": evaluation(9, "int8", "int8", 0.88, 1.0).record},
        3: {"int8": front[1].record,
            "fp32": evaluation(9, "fp32", "fp32", 0, 0, error="the board failed").record},
    }
    table, columns = precision_table(front, counterparts, objectives)
    (row,) = table  # the second front model's FP32 measurement failed: no row
    assert row["index"] == 2 and row["precision"] == "mixed: int8 at hidden"
    assert row["accuracy int8 - fp32"] == pytest.approx(-0.02)
    assert row["latency_ms fp32"] == 2.0 and row["latency_ms int8"] == 1.0
    assert set(row) == set(columns)
