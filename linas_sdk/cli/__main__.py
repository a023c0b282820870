"""`python -m linas_sdk.cli ...`: the `linas` command without an installed entry point."""

import sys

from linas_sdk.cli import main

sys.exit(main())
