"""A user's own supernet plugs in by "module:factory": the example in docs/supernets.md, run
as written; and the registry's errors name what it expected."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import onnxruntime as ort
import pytest
from linas_host.export import export_onnx
from linas_host.supernets import create, names, register, registry
from linas_host.supernets.protocol import Supernet

from linas_sdk.errors import InvalidArgument

DOCS = Path(__file__).resolve().parents[2] / "docs" / "supernets.md"


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    text = DOCS.read_text()
    code = re.search(r"```python\n(from __future__.*?class TinyMLP.*?)```", text, re.S).group(1)
    (tmp_path / "my_supernet.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_supernet:make_supernet"
    sys.modules.pop("my_supernet", None)


def test_the_documented_plugin_example_works_by_module_factory_path(plugin_module):
    supernet = create(plugin_module, hidden=48)
    assert isinstance(supernet, Supernet)
    small, large = ({"hidden": h, "act": "relu"} for h in (16, 48))
    assert supernet.params(small) < supernet.params(large)
    assert 0 <= supernet.evaluate(supernet.extract(large))["accuracy"] <= 1
    data = export_onnx(supernet.extract(small), supernet.example_input(small),
                       input_names=supernet.input_names, output_names=supernet.output_names)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"input": supernet.x[:5].numpy()})
    assert logits.shape == (5, 10)


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(registry.SUPERNETS, "_registered", {})


def test_a_registered_name_resolves_and_is_listed(plugin_module, clean_registry):
    register("tiny-mlp-test", plugin_module)
    assert "tiny-mlp-test" in names()
    assert create("tiny-mlp-test").name == "tiny-mlp"


def test_unknown_names_and_bad_paths_say_what_was_expected():
    with pytest.raises(InvalidArgument, match="mobilenetv3"):
        create("no-such-supernet")
    with pytest.raises(InvalidArgument, match="cannot import"):
        create("no_such_module_xyz:make")
    with pytest.raises(InvalidArgument, match="no callable"):
        create("json:no_such_factory")


def test_a_factory_returning_something_else_is_refused(clean_registry):
    register("not-a-supernet", lambda: object())
    with pytest.raises(InvalidArgument, match="Supernet protocol"):
        create("not-a-supernet")
