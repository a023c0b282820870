"""The committed MobileNetV3 supernet, loaded once per test session, and the configs the tests
walk through (both ends and a few seeded random sub-networks)."""

from __future__ import annotations

import functools

from linas_host.supernets.mobilenetv3.supernet import MobileNetV3Supernet, load


@functools.lru_cache(maxsize=1)
def committed_supernet() -> MobileNetV3Supernet:
    return load()


def configs(supernet: MobileNetV3Supernet, n: int = 3) -> list[dict]:
    return [supernet.smallest, supernet.largest, *supernet.space.sample(7, n)]
