"""`python -m linas_agent serve | selftest`: the agent's own entry (see `linas_agent.commands`)."""

import sys

from linas_agent.commands import main

sys.exit(main())
