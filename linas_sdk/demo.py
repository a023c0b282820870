"""`python -m linas_sdk.demo` (what `make demo` runs): the `linas demo` command, which searches
the demo supernet on this machine and prints where the report is (see linas_sdk/cli/demo.py)."""

from __future__ import annotations

import sys

from linas_sdk.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
