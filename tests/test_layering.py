"""The layering of ARCHITECTURE.md: import-linter's contracts hold, and the core stays light."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_and_cli_import_nothing_heavy() -> None:
    """Building the whole `linas` parser loads the sides' command modules and nothing else of
    theirs (but `linas_host.threads`, which sets OpenMP's wait policy before any command runs):
    no host logic, no torch, pydantic or plotting."""
    code = (
        "import sys, linas_sdk, linas_sdk.cli, linas_agent\n"
        "linas_sdk.cli.build_parser()\n"
        "heavy = {'torch', 'pymoo', 'lightgbm', 'sklearn', 'matplotlib', 'pydantic', 'rich'}\n"
        "host = {m for m in sys.modules if m.startswith('linas_host')}\n"
        "host -= {'linas_host', 'linas_host.commands', 'linas_host.threads'}\n"
        "host = {m for m in host if not m.startswith('linas_host.commands.')}\n"
        "print(sorted((heavy & set(sys.modules)) | host))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"heavy modules the core or CLI imported: {result.stdout}"


def test_the_cli_asks_openmp_to_wait_passively_before_any_command_runs() -> None:
    """torch's OpenMP threads spin while they wait unless told otherwise before torch loads;
    every host command (`linas demo` imports torch before its search starts) gets the policy."""
    code = ("import os, linas_sdk.cli\n"
            "linas_sdk.cli.build_parser()\n"
            "print(os.environ.get('OMP_WAIT_POLICY'))\n")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "PASSIVE"


def test_every_core_module_is_under_a_contract() -> None:
    """The core contract lists linas_sdk's modules by name (the public face is the one module
    left out, as a layer of its own): a new core module must join the list."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    core = next(c for c in contracts["contracts"] if c["name"] == "The core imports neither side")
    face = next(c for c in contracts["contracts"] if c["type"] == "layers")["layers"][0]
    modules = {
        f"linas_sdk.{p.relative_to(ROOT / 'linas_sdk').parts[0].removesuffix('.py')}"
        for p in (ROOT / "linas_sdk").iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()
    }
    assert face == "linas_sdk.api"
    assert modules - {face} == set(core["source_modules"])


def test_every_extra_of_this_environment_is_installed() -> None:
    """What the face checks before a command runs, read from the installed metadata. (On a
    board install, `make agent-only` checks that `linas search` names the missing extra.)"""
    from linas_sdk._imports import missing_from_extra

    assert missing_from_extra("dev") == []
    assert missing_from_extra("host") == []


def test_a_requirement_counts_as_installed_when_another_build_provides_its_module() -> None:
    """As `onnxruntime-gpu` provides `onnxruntime` (`make agent-onnxruntime-gpu` runs that
    install): here the module `sklearn` comes from the distribution `scikit-learn`."""
    from importlib import metadata

    from linas_sdk._imports import _installed

    with pytest.raises(metadata.PackageNotFoundError):
        metadata.version("sklearn")
    assert _installed("sklearn") and _installed("scikit-learn")
    assert not _installed("no-such-linas-dependency")
