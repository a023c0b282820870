"""The search configuration: what it accepts, and that each error names the field at fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from linas_host.config import schema as config

BASE = {
    "space": "mobilenetv3",
    "objectives": ["accuracy", "latency"],
    "budget": 20,
    "population": 10,
}


def test_defaults_and_derived_names() -> None:
    settings = config.validate(BASE)
    assert settings.objective_names == ["accuracy", "latency_ms"]
    assert [o.resolved_direction for o in settings.objectives] == ["max", "min"]
    assert settings.runtime == "onnxruntime" and settings.format.suffix == ".onnx"
    assert settings.space.supernet == "mobilenetv3"


def test_two_boards_give_two_latency_objectives() -> None:
    settings = config.validate(
        {
            **BASE,
            "objectives": [
                "accuracy",
                {"metric": "latency", "labels": {"board": "pi5"}},
                {"metric": "latency", "device": "jetson-1"},
            ],
            "devices": "devices.yaml",
            "constraints": ["latency_ms_pi5<=5"],
        }
    )
    assert settings.objective_names == ["accuracy", "latency_ms_pi5", "latency_ms_jetson_1"]
    assert str(settings.objectives[1].target) == "board=pi5"


def test_every_error_names_its_field_in_one_message() -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.validate(
            {
                **BASE,
                "objectives": ["accuracy", "speed"],
                "runtime": "tf",
                "constraints": ["latency_ms<5"],
                "measure": {"min_runs": 0},
            }
        )
    text = str(caught.value)
    for field in ("objectives[1].metric", "runtime", "constraints[0]", "measure"):
        assert f"  - {field}:" in text, text
    assert "'onnxruntime' or 'litert'" in text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"budget": 5}, "budget (5 evaluations) is smaller than the population (10)"),
        ({"constraints": ["memory_mb<=3"]}, "names no objective"),
        ({"objectives": ["accuracy", "accuracy"]}, "accuracy repeats"),
        ({"objectives": ["accuracy", {"metric": "latency", "device": "pi"}]}, "'devices' file"),
        ({"objectives": ["accuracy", "acc:max"]}, "a supernet space takes metrics only"),
        ({"space": {"table": "t.csv"}}, "needs 'variables'"),
        ({"space": {"supernet": "x", "table": "t.csv"}}, "exactly one of 'supernet'"),
        ({"space": {"supernet": "x", "cell": {"edges": {"e0": [0, 1]}, "zero": "none"}}},
         "'cell' only applies to a table space"),
        ({"space": {"table": "t.csv", "variables": ["e0"],
                    "cell": {"edges": {"e0": [1, 0]}, "zero": "none"}}}, "0 <= from < to"),
        ({"reference_point": {"bleu": 0}}, "reference_point names bleu"),
        ({"objectives": [{"metric": "macs", "device": "pi"}, "accuracy"]}, "only apply to"),
        ({"measure": {"sample_count": 3}}, "unknown measurement settings ['sample_count']"),
        ({"colour": "red"}, "colour: unknown field; expected one of space, objectives,"),
        ({"data": {"vall": "v.npz"}}, "data.vall: unknown field; expected one of val, calibration"),
        ({"data": {"val": "v.npz", "mean": [0.5, 0.5]}}, "data.mean"),
        ({"data": {"val": "v.npz", "std": [0.2, 0, 0.2]}}, "data.std[1]: Input should be greater"),
        ({"data": {"val": "v.npz"}, "space": {"supernet": "m", "options": {"data": {}}}},
         "data is given twice, as 'data' and as space.options.data"),
        ({"data": {"val": "v.npz"}, "space": {"table": "t.csv", "variables": ["e0"]},
          "objectives": ["a:max", "b:min"]}, "images apply to a supernet space"),
        (
            {"objectives": ["accuracy", {"metric": "latency", "devise": "pi"}]},
            "objectives[1].devise: unknown field; expected one of metric, name, direction",
        ),
    ],
)
def test_refused_with_a_clear_message(change: dict, expected: str) -> None:
    with pytest.raises(config.ConfigError, match="invalid search configuration") as caught:
        config.validate({**BASE, **change})
    assert expected in str(caught.value)


def test_table_space_takes_column_objectives(tmp_path: Path) -> None:
    settings = config.validate(
        {
            "space": {"table": "t.csv", "variables": ["e0", "e1"]},
            "objectives": ["acc:max", "lat_ms:min"],
            "budget": 10,
            "population": 5,
        }
    )
    assert settings.objective_names == ["acc", "lat_ms"]
    assert [o.resolved_direction for o in settings.objectives] == ["max", "min"]


def test_data_paths_are_relative_to_the_file_and_reach_the_factory(tmp_path: Path) -> None:
    path = tmp_path / "search.yaml"
    path.write_text(
        "space: mobilenetv3\nobjectives: [accuracy, latency]\nbudget: 4\npopulation: 2\n"
        "data: {val: imagenet/val, classes: classes.txt, std: [0.5, 0.5, 0.5]}\n"
    )
    settings = config.load(path)
    assert settings.data.options() == {
        "val": str(tmp_path / "imagenet/val"), "classes": str(tmp_path / "classes.txt"),
        "std": [0.5, 0.5, 0.5],
    }


def test_a_supernets_file_options_are_relative_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "ofa.yaml"
    path.parent.mkdir()
    path.write_text(
        "space: {supernet: mobilenetv3, options: {variant: ofa-w1.0, checkpoint: ck/ofa_w1.0,\n"
        "  weights: /abs/w.pt, valid: [v.en, v.de], calibration_samples: 8}}\n"
        "objectives: [accuracy, latency]\nbudget: 4\npopulation: 2\n"
    )
    options = config.load(path).space.options
    assert options == {
        "variant": "ofa-w1.0", "checkpoint": str(path.parent / "ck" / "ofa_w1.0"),
        "weights": "/abs/w.pt", "valid": [str(path.parent / "v.en"), str(path.parent / "v.de")],
        "calibration_samples": 8,
    }


def test_hats_dictionary_and_bpe_codes_are_relative_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "hat.yaml"
    path.parent.mkdir()
    path.write_text(
        "space: {supernet: transformer, options: {variant: hat, checkpoint: ck/super.pt,\n"
        "  dictionary: data/dict.en.txt, bpe_codes: /abs/bpe.codes, valid: [t.en, t.de]}}\n"
        "objectives: [bleu, latency]\nbudget: 4\npopulation: 2\n"
    )
    assert config.load(path).space.options == {
        "variant": "hat", "checkpoint": str(path.parent / "ck" / "super.pt"),
        "dictionary": str(path.parent / "data" / "dict.en.txt"), "bpe_codes": "/abs/bpe.codes",
        "valid": [str(path.parent / "t.en"), str(path.parent / "t.de")],
    }


def test_the_runtime_is_named_as_everywhere_and_the_old_spelling_still_reads() -> None:
    assert config.validate({**BASE, "runtime": "litert"}).format.name == "tflite"
    with pytest.warns(FutureWarning, match="runtime: 'tflite' is deprecated .* write 'litert'"):
        assert config.validate({**BASE, "runtime": "tflite"}).runtime == "litert"


def test_file_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "search.yaml"
    path.parent.mkdir()
    path.write_text(
        "space: {table: data/t.csv, variables: [a]}\n"
        "objectives: ['x:max', 'y:min']\nbudget: 4\npopulation: 2\ndevices: devices.yaml\n"
    )
    settings = config.load(path)
    assert settings.space.table == path.parent / "data" / "t.csv"
    assert settings.devices == path.parent / "devices.yaml"
    assert settings.out == Path("runs") / "search"
    again = config.validate(__import__("yaml").safe_load(settings.to_yaml()))
    assert again == settings


def test_unreadable_or_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match="cannot read"):
        config.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(config.ConfigError, match="expected a mapping"):
        config.load(bad)


def test_the_python_api_passes_its_keywords_to_the_schema(tmp_path: Path) -> None:
    import inspect

    from linas_sdk import search

    parameters = inspect.signature(search).parameters
    assert all(p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD)
               for p in parameters.values())
    # no default restated: every field but the three a search cannot do without is the schema's
    assert {n for n, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY} == {
        "space", "objectives", "budget", "resume", "progress"}
    with pytest.raises(config.ConfigError, match="  - colour: unknown field"):
        search(space="mobilenetv3", objectives=["accuracy", "latency"], budget=50,
               colour="red", out=tmp_path)


def test_api_refuses_bad_options_before_running(tmp_path: Path) -> None:
    from linas_sdk import search

    with pytest.raises(config.ConfigError, match=r"population \(50\)"):
        search(space="mobilenetv3", objectives=["accuracy", "latency"], budget=10, out=tmp_path)
    assert not any(tmp_path.iterdir())


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("path", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_shipped_examples_validate(path: str) -> None:
    if path == "devices.yaml":
        from linas_host.devices import load_devices

        assert load_devices(EXAMPLES / path).devices
    else:
        assert config.load(EXAMPLES / path).budget >= config.load(EXAMPLES / path).population
