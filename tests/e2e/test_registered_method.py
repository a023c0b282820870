"""A search method registered at run time is named like a built-in: in a YAML config (run as
`linas search` runs it) and in `linas_sdk.search(method=...)`, its `method_options` reaching
its factory; an unknown name is refused at validation, listing the registered one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from linas_host.config import schema as config
from linas_host.run.session import run_search
from linas_host.search import registry
from linas_host.search.random_search import RandomSearch

from linas_sdk import search

TABLE = Path(__file__).resolve().parents[2] / "host/linas_host/data/nb201_pi5_cifar100.csv.gz"
SEARCH = {
    "space": {"table": str(TABLE), "variables": ["e0", "e1", "e2", "e3", "e4", "e5"]},
    "objectives": ["acc_cifar100:max", "lat_pi5_onnx_ms:min"],
    "method": "recorded-random",
    "method_options": {"max_tries": 50},
    "budget": 10,
    "population": 5,
}


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Registers ``recorded-random`` for one test; the list collects each call's options."""
    monkeypatch.setattr(registry.METHODS, "_registered", {})
    calls: list[dict] = []

    def factory(**options) -> RandomSearch:
        calls.append(options)
        return RandomSearch(**options)

    registry.register("recorded-random", factory)
    return calls


def test_a_registered_method_runs_from_a_yaml_config(tmp_path: Path, made: list[dict]) -> None:
    path = tmp_path / "search.yaml"
    path.write_text(yaml.safe_dump({**SEARCH, "out": str(tmp_path / "run")}))
    result = run_search(config.load(path), progress="quiet")
    assert made == [{"max_tries": 50}]
    assert result.status == "budget" and result.evaluations == 10
    kept = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert kept["method"] == "recorded-random"


def test_a_registered_method_runs_from_the_python_api(tmp_path: Path, made: list[dict]) -> None:
    result = search(**SEARCH, out=tmp_path / "run", progress="quiet")
    assert made == [{"max_tries": 50}]
    assert result.evaluations == 10 and result.hypervolume > 0


def test_an_unknown_method_is_a_config_error_naming_the_registered_ones(made: list) -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.validate({**SEARCH, "method": "annealing"})
    assert (
        "  - method: unknown search method 'annealing': expected one of linas, nsga2, random, "
        "recorded-random, or a 'module:attr' path"
    ) in str(caught.value)
    assert made == []
