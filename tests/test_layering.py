"""The layering of ARCHITECTURE.md: import-linter's contracts hold, and the core stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_and_cli_import_nothing_heavy() -> None:
    code = (
        "import sys, linas_sdk, linas_sdk.cli, linas_agent\n"
        "linas_sdk.cli.build_parser()\n"
        "heavy = {'torch', 'pymoo', 'lightgbm', 'sklearn', 'linas_host', 'matplotlib'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"heavy modules the core or CLI imported: {result.stdout}"
