"""One naming rule for search methods, supernets and trainers (`linas_host.registry`): an entry
point, a run-time registration and a "module:attr" path resolve alike in all three kinds, an
unknown name is refused with one message, naming a piece imports none of it, and `linas train`
runs whatever trainer a name resolves to, with the options it declares."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from linas_host import supernets
from linas_host.search import registry as methods
from linas_host.search.random_search import RandomSearch
from linas_host.supernets import trainer as trainers

from linas_sdk.cli import main
from linas_sdk.errors import InvalidArgument

PLUGIN = '''
from pathlib import Path

from linas_host.search.random_search import RandomSearch
from linas_host.supernets.trainer import Trainer, common_options

calls = []


class Walk(RandomSearch):
    name = "walk"


def make_supernet(**options):
    return options


def train(**options) -> Path:
    calls.append(options)
    return Path(options.get("out") or "nowhere.pt")


TRAINER = Trainer(train, common_options, "a trainer from a plugin")
'''

ENTRY_POINTS = """
[linas.methods]
walk = linas_test_plugin:Walk

[linas.supernets]
tiny = linas_test_plugin:make_supernet

[linas.trainers]
fake = linas_test_plugin:TRAINER
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An installed distribution (its dist-info on the path) with an entry point per kind."""
    (tmp_path / "linas_test_plugin.py").write_text(PLUGIN)
    info = tmp_path / "linas_test_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: linas-test-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    import linas_test_plugin

    yield linas_test_plugin
    sys.modules.pop("linas_test_plugin", None)


def test_entry_points_of_each_kind_resolve_and_are_listed(plugin) -> None:
    assert isinstance(methods.create("walk"), plugin.Walk)
    assert supernets.resolve("tiny") is plugin.make_supernet
    assert trainers.resolve("fake") is plugin.TRAINER
    assert "walk" in methods.available()
    assert "tiny" in supernets.names()
    assert "fake" in trainers.names()


def test_module_attr_paths_of_each_kind_resolve(plugin) -> None:
    assert isinstance(methods.create("linas_test_plugin:Walk", max_tries=3), plugin.Walk)
    assert supernets.resolve("linas_test_plugin:make_supernet") is plugin.make_supernet
    assert trainers.resolve("linas_test_plugin:TRAINER") is plugin.TRAINER


def test_a_registered_name_comes_before_a_built_in(monkeypatch, plugin) -> None:
    monkeypatch.setattr(methods.METHODS, "_registered", {})
    methods.register("random", "linas_test_plugin:Walk")
    assert isinstance(methods.create("random"), plugin.Walk)
    methods.register("random", RandomSearch)
    assert type(methods.create("random")) is RandomSearch


UNKNOWN = [
    (methods.METHODS, lambda: methods.create("no-such-name")),
    (supernets.registry.SUPERNETS, lambda: supernets.create("no-such-name")),
    (trainers.TRAINERS, lambda: trainers.resolve("no-such-name")),
]


@pytest.mark.parametrize(("kind", "use"), UNKNOWN, ids=["method", "supernet", "trainer"])
def test_an_unknown_name_is_refused_alike_naming_the_known_ones(kind, use) -> None:
    with pytest.raises(InvalidArgument) as caught:
        use()
    assert str(caught.value) == (
        f"unknown {kind.kind} 'no-such-name': expected one of {', '.join(kind.names())}, "
        "or a 'module:attr' path"
    )


@pytest.mark.parametrize(("kind", "use"), UNKNOWN, ids=["method", "supernet", "trainer"])
def test_a_path_that_does_not_load_says_why(kind, use) -> None:
    with pytest.raises(InvalidArgument, match=f"{kind.kind} 'no_such_mod:x' .* cannot import"):
        kind.resolve("no_such_mod:x")
    with pytest.raises(InvalidArgument, match="'json' has no callable 'nothing'"):
        kind.resolve("json:nothing")


def test_naming_and_checking_import_nothing_of_the_pieces() -> None:
    code = (
        "import sys\n"
        "from linas_host.search import registry\n"
        "from linas_host.supernets import names, trainer\n"
        "registry.check('linas'), names(), trainer.names()\n"
        "heavy = {'torch', 'pymoo', 'lightgbm', 'linas_host.search.linas',\n"
        "         'linas_host.supernets.mobilenetv3.training'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_linas_train_runs_a_plugged_in_trainer_with_its_options(plugin, tmp_path, capsys) -> None:
    out = tmp_path / "w.pt"
    assert main(["train", "fake", "--epochs", "3", "--out", str(out)]) == 0
    assert plugin.calls == [{"out": out, "epochs": 3, "seed": 0, "threads": 2, "command": ""}]
    assert capsys.readouterr().out == f"weights: {out}\n"


def test_linas_train_help_lists_the_trainers_and_refuses_an_unknown_one(plugin, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["train", "--help"])
    assert done.value.code == 0
    assert "trainers: fake, mobilenetv3, transformer, or a 'module:attr' path" in (
        capsys.readouterr().out
    )
    assert main(["train", "nope"]) == 2
    assert "linas: error: unknown trainer 'nope': expected one of fake, mobilenetv3" in (
        capsys.readouterr().err
    )


def test_a_trainer_name_standing_for_something_else_is_refused(plugin) -> None:
    with pytest.raises(InvalidArgument, match=r"not a linas_host\.supernets\.trainer\.Trainer"):
        trainers.resolve("linas_test_plugin:train")
