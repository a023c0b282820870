"""`precision: int8`: every candidate is quantized before it is measured, and the quantized
file is the candidate: scored by its runtime, timed on the board, named by its sha256 in the
record, written to the run's models folder and exported for the firmware as it was measured."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from ai_edge_litert.interpreter import Interpreter
from e2e_helpers import FAST_TIMING
from linas_cli import linas
from linas_host.config.schema import ConfigError
from linas_host.search.journal import SQLiteJournal

from linas_sdk import search
from linas_sdk.artifacts import sha256_hex
from linas_sdk.errors import InvalidArgument


def int8_search(tmp_path: Path, **options):
    options.setdefault("space", "tiny_supernet:make")
    return search(objectives=["accuracy", "latency"], budget=3,
                  population=3, method="random", precision="int8", measure=FAST_TIMING,
                  out=tmp_path / "run", cache_dir=tmp_path / "cache", progress="quiet",
                  quantization={"calibration_samples": 64, **options.pop("quantization", {})},
                  **options)


def records(run: Path) -> list[dict]:
    with SQLiteJournal(run / "journal.sqlite") as journal:
        return [e.record for e in journal.evaluations()]


@pytest.mark.timeout(300)
def test_an_int8_onnx_search_measures_qdq_files(tmp_path: Path) -> None:
    result = int8_search(tmp_path)
    rows = records(tmp_path / "run")
    assert len(rows) == 3 and all("error" not in r for r in rows)
    assert {r["precision"] for r in rows} == {"int8"}
    assert len({r["calibration_sha256"] for r in rows}) == 1  # one calibration set
    for model in (tmp_path / "run" / "models").glob("*.onnx"):
        graph = onnx.load(model).graph
        ops = {n.op_type for n in graph.node}
        assert {"QuantizeLinear", "DequantizeLinear"} <= ops
        assert any(i.data_type == onnx.TensorProto.INT8 for i in graph.initializer)
        types = {i.name: i.data_type for i in graph.initializer}
        activations = {types[n.input[2]] for n in graph.node if n.op_type == "QuantizeLinear"}
        assert activations == {onnx.TensorProto.UINT8}  # U8S8: onnxruntime's fast path
        assert sha256_hex(model.read_bytes()) in {r["model_sha256"] for r in rows}
    assert min(row["accuracy"] for row in result.front) > 0
    front = len(result.front)  # each measured at FP32 too, after the search, for the report
    assert f"{front} of the {front} front architectures measured at both" in (
        tmp_path / "run" / "report.html").read_text()
    out = tmp_path / "firmware"
    done = linas("export", tmp_path / "run", "--maximize", "accuracy", "-o", out)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["artifact"]["identical_to_measured"] is True
    assert manifest["artifact"]["quantization"]["activations"] == "uint8"


@pytest.mark.timeout(300)
def test_an_int8_tflite_search_with_integer_io(tmp_path: Path) -> None:
    int8_search(tmp_path, runtime="litert", quantization={"integer_io": True})
    rows = records(tmp_path / "run")
    assert all("error" not in r for r in rows) and {r["precision"] for r in rows} == {"int8"}
    (model,) = list((tmp_path / "run" / "models").glob("*.tflite"))[:1]
    interpreter = Interpreter(model_path=str(model))
    (given,), (taken,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert given["dtype"].__name__ == taken["dtype"].__name__ == "int8"
    assert {d["dtype"].__name__ for d in interpreter.get_tensor_details()} >= {"int8", "int32"}
    out = tmp_path / "firmware"
    done = linas("export", tmp_path / "run", "--maximize", "accuracy", "-o", out)
    assert done.returncode == 0, done.stderr
    artifact = json.loads((out / "manifest.json").read_text())["artifact"]
    quantization = artifact["quantization"]
    assert artifact["precision"] == "int8" and quantization["scheme"] == "static"
    assert quantization["calibration_images"] == 64 and quantization["activations"] == "int8"
    assert quantization["calibration_sha256"] == rows[0]["calibration_sha256"]
    interpreter = Interpreter(model_path=str(out / "model.tflite"))
    (given,), (taken,) = interpreter.get_input_details(), interpreter.get_output_details()
    for io, detail in ((quantization["inputs"], given), (quantization["outputs"], taken)):
        assert io == [{"name": detail["name"], "integer": True,
                       "scale": pytest.approx(detail["quantization"][0]),
                       "zero_point": detail["quantization"][1]}]


def test_integer_io_is_for_tflite_and_tables_stay_fp32(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="integer inputs and outputs apply to a TFLite file"):
        int8_search(tmp_path, quantization={"integer_io": True})
    with pytest.raises(ConfigError, match="precision: a table space replays"):
        search(space={"table": "t.csv", "variables": ["a"]}, objectives=["a:max", "b:min"],
               budget=50, precision="int8", out=tmp_path / "t")


def wrong_calibration(**options):
    """The tiny supernet, its calibration images one feature short of its input."""
    import tiny_supernet

    supernet = tiny_supernet.make(**options)
    supernet.calibration_arrays = lambda limit=None, config=None: {
        "input": supernet.train_x[:limit, :-1].numpy()}
    return supernet


def test_calibration_images_of_another_shape_are_refused_before_any_work(tmp_path) -> None:
    with pytest.raises(InvalidArgument, match=r"calibration images have the shape \[\(63,\)\] per "
                                        r"sample; the sub-network takes \[\(64,\)\]"):
        int8_search(tmp_path, space="test_int8_search:wrong_calibration")
    assert not (tmp_path / "run" / "journal.sqlite").exists()
