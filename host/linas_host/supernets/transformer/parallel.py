"""A user's parallel corpus: two plain UTF-8 text files, one sentence a line, line i of the
target file the translation of line i of the source file (any language pair).

Blank lines: a pair with a blank side (empty, or only white space) carries nothing to learn
or score, so it is skipped, as corpus cleaners (Moses' ``clean-corpus-n``) do, and counted:
the count goes into the weights' manifest and the training log. The files must have the same
number of lines, since one missing line shifts every later pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linas_host.supernets.transformer.corpus import Pair
from linas_host.supernets.weights import sha256_file
from linas_sdk.errors import InvalidArgument


@dataclass(frozen=True)
class ParallelText:
    """The pairs read from `source` and `target`; `lines` per file, `blank` pairs skipped."""

    source: Path
    target: Path
    pairs: list[Pair] = field(repr=False)
    lines: int
    blank: int

    def describe(self) -> dict[str, Any]:
        """What a manifest records of these files (where they were, their hashes, counts)."""
        return {
            "source": str(self.source),
            "target": str(self.target),
            "source_sha256": sha256_file(self.source),
            "target_sha256": sha256_file(self.target),
            "lines": self.lines,
            "blank_pairs_skipped": self.blank,
        }


def _lines(path: Path, role: str) -> list[str]:
    if not path.is_file():
        raise InvalidArgument(f"no {role} file {path}: expected a text file, one sentence a line")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise InvalidArgument(
            f"{role} file {path} is not UTF-8 text ({error}); expected one sentence a line"
        ) from error


def read(source: str | Path, target: str | Path) -> ParallelText:
    """The sentence pairs of `source` and `target`, blank pairs skipped; InvalidArgument for a
    missing or non-UTF-8 file, files of different line counts, or no pair left."""
    source, target = Path(source).resolve(), Path(target).resolve()
    sources, targets = _lines(source, "source"), _lines(target, "target")
    if len(sources) != len(targets):
        raise InvalidArgument(
            f"{source} has {len(sources)} lines but {target} has {len(targets)}: expected "
            "parallel files, line i of the target translating line i of the source"
        )
    pairs = [
        Pair(s.strip(), t.strip()) for s, t in zip(sources, targets, strict=True)
        if s.strip() and t.strip()
    ]  # fmt: skip
    if not pairs:
        raise InvalidArgument(
            f"{source} and {target} hold no pair of non-blank lines: expected one sentence a line"
        )
    return ParallelText(source, target, pairs, len(sources), len(sources) - len(pairs))
