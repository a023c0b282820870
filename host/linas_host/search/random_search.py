"""Uniform random search: the floor every method has to beat."""

from __future__ import annotations

from linas_host.search.method import Method


class RandomSearch(Method):
    """Samples configs uniformly over encodings, skipping architectures it has asked before
    (after ``max_tries`` draws per slot without a new one it gives up on that slot, so a
    nearly exhausted space ends the run instead of spinning)."""

    name = "random"

    def __init__(self, *, max_tries: int = 1000) -> None:
        self.max_tries = max_tries

    def _setup(self) -> None:
        self._asked: set[str] = set()

    def _ask(self) -> list[dict]:
        out = []
        for _ in range(self.population_size):
            for _ in range(self.max_tries):
                config = self.space.sample(self.rng, 1)[0]
                key = self.space.key(config)
                if key not in self._asked:
                    self._asked.add(key)
                    out.append(config)
                    break
        return out
