"""What `--resume` may change: a resumed run adds rows to the ones its journal holds, so every
setting that shapes a row (what is searched, how it is measured and scored, how the method
chooses) must be the one the run began with. The budget, where outputs and caches go, where
the host work runs and how long to wait for boards may change."""

from __future__ import annotations

from typing import Any

from linas_host.config.layout import RunDirectory
from linas_host.config.schema import ConfigError, SearchConfig, load_saved

MAY_CHANGE = frozenset({
    "budget", "out", "cache_dir", "cache", "export_front", "executor", "host_threads",
    "devices", "wait_for_devices_s",
})


def check_resumable(run_dir: RunDirectory, config: SearchConfig) -> None:
    """Refuse to resume the run in `run_dir` with `config` if a field outside `MAY_CHANGE`
    differs from the config the run was made with (its config.yaml), naming each such field."""
    if not run_dir.config.is_file():
        return  # nothing ran yet: a resume starts afresh, as the journal does
    before = _fields(load_saved(run_dir.config))
    after = _fields(config)
    changed = sorted(k for k in before.keys() | after.keys()
                     if k not in MAY_CHANGE and before.get(k) != after.get(k))
    if changed:
        lines = "\n".join(f"  - {k}: was {before.get(k)!r}, now {after.get(k)!r}"
                          for k in changed)
        raise ConfigError(
            f"cannot resume {run_dir.root}: {', '.join(changed)} changed, so the rows measured "
            f"so far would not compare with new ones:\n{lines}\nExpected the run's own settings "
            f"(its {run_dir.config.name}); only {', '.join(sorted(MAY_CHANGE))} may change. "
            "Start a new run (another `out`) for new settings.")


def _fields(config: SearchConfig) -> dict[str, Any]:
    return config.model_dump(mode="json", exclude_none=True)
