"""Nothing on the agent's network path unpickles, evals or execs: checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NETWORK_PATH = [ROOT / "agent" / "linas_agent", ROOT / "linas_sdk" / "serde.py",
                ROOT / "linas_sdk" / "artifacts.py", ROOT / "linas_sdk" / "measurement.py"]
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "cloudpickle", "joblib"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}


def sources() -> list[Path]:
    files = []
    for path in NETWORK_PATH:
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def test_no_pickle_eval_or_exec() -> None:
    found = []
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                found += [where for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(where)
            elif isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                    found.append(where)
                if isinstance(func, ast.Attribute) and func.attr == "load":
                    pickle_ok = [k for k in node.keywords if k.arg == "allow_pickle"]
                    if getattr(func.value, "id", "") == "np" and (
                        not pickle_ok or getattr(pickle_ok[0].value, "value", True) is not False
                    ):
                        found.append(f"{where} np.load without allow_pickle=False")
    assert len(sources()) > 15
    assert found == []
