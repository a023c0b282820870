"""The host's thread settings that must be made before torch is imported.

Under CPU contention (a local agent timing a model, another job), OpenMP threads that spin while
they wait slow torch's extraction, scoring and export by an order of magnitude; a passive wait
policy avoids it. OpenMP reads it once, when torch loads its runtime, so every entry point that
leads to torch (`run_search`, the trainers) sets it first, and a process that already imported
torch is told that the setting came too late.
"""

from __future__ import annotations

import os
import sys
import warnings

WAIT_POLICY = "OMP_WAIT_POLICY"


def passive_openmp() -> None:
    """Ask OpenMP for a passive wait policy, unless the environment already chose one."""
    if WAIT_POLICY in os.environ:
        return
    os.environ[WAIT_POLICY] = "PASSIVE"
    if "torch" in sys.modules:
        warnings.warn(
            f"torch was imported before linas could set {WAIT_POLICY}=PASSIVE, so its OpenMP "
            "threads spin while they wait, which slows the host work when the CPU is shared: "
            f"set {WAIT_POLICY}=PASSIVE in the environment, or import linas before torch",
            RuntimeWarning, stacklevel=3,
        )
