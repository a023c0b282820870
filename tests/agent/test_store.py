"""The artifact store on its own: content addressing, caps, least-recently-used eviction that
spares artifacts in use, and recency that survives a restart."""

from __future__ import annotations

import os

import pytest
from linas_agent.store import ArtifactStore

from linas_sdk.artifacts import sha256_hex
from linas_sdk.errors import ArtifactCorrupt, ArtifactNotFound, InvalidArgument, ResourceExhausted
from linas_sdk.proto.agent.v1 import agent_pb2 as pb

NPZ = pb.ARTIFACT_KIND_NPZ


def blob(n: int, size: int = 1000) -> bytes:
    return b"PK\x03\x04" + bytes([n]) * (size - 4)  # looks like a zip (.npz) header


def put(store: ArtifactStore, data: bytes, chunk: int = 300):
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    return store.put(sha256_hex(data), NPZ, len(data), chunks)


def test_put_verifies_and_dedupes(tmp_path) -> None:
    store = ArtifactStore(tmp_path)
    data = blob(1)
    assert not put(store, data).already_present
    assert put(store, data).already_present
    assert store.size_of(sha256_hex(data)) == len(data)
    with store.use(sha256_hex(data)) as path:
        assert path.read_bytes() == data and path.name == sha256_hex(data)
    with pytest.raises(ArtifactCorrupt):
        store.put(sha256_hex(b"other"), NPZ, len(data), [data])
    with pytest.raises(ArtifactNotFound), store.use(sha256_hex(b"other")):
        pass
    assert not list((tmp_path / "incoming").iterdir())


def test_caps(tmp_path) -> None:
    store = ArtifactStore(tmp_path, max_artifact_bytes=500, max_cache_bytes=10_000)
    with pytest.raises(ResourceExhausted, match="cap of 500 bytes"):
        put(store, blob(1))
    with pytest.raises(InvalidArgument, match="more than the 10 bytes"):
        store.put(sha256_hex(blob(2, 20)), NPZ, 10, [blob(2, 20)])


def test_evicts_least_recently_used_but_not_in_use(tmp_path) -> None:
    store = ArtifactStore(tmp_path, max_cache_bytes=3000)
    a, b, c, d = (blob(i) for i in range(4))
    for data in (a, b, c):
        put(store, data)
    with store.use(sha256_hex(a)):  # a is oldest but in use: b goes
        put(store, d)
    held = {s for s in map(sha256_hex, (a, b, c, d)) if store.size_of(s)}
    assert held == {sha256_hex(a), sha256_hex(c), sha256_hex(d)}
    assert store.total_bytes <= 3000


def test_refuses_when_everything_held_is_in_use(tmp_path) -> None:
    store = ArtifactStore(tmp_path, max_cache_bytes=2000)
    a, b = blob(1), blob(2)
    put(store, a)
    put(store, b)
    in_use = store.use(sha256_hex(a)), store.use(sha256_hex(b))
    with in_use[0], in_use[1], pytest.raises(ResourceExhausted, match="in use"):
        put(store, blob(3))


def test_recency_and_contents_survive_a_restart(tmp_path) -> None:
    store = ArtifactStore(tmp_path, max_cache_bytes=3000)
    a, b, c = blob(1), blob(2), blob(3)
    for data in (a, b, c):
        put(store, data)
    os.utime(tmp_path / "objects" / sha256_hex(a), ns=(1, 1))  # a: long unused
    (tmp_path / "incoming" / "half-upload").write_bytes(b"x")
    (tmp_path / "objects" / "not-a-hash").write_bytes(b"x")
    again = ArtifactStore(tmp_path, max_cache_bytes=3000)
    assert not list((tmp_path / "incoming").iterdir())
    assert again.total_bytes == 3000
    put(again, blob(4))
    assert again.size_of(sha256_hex(a)) is None and again.size_of(sha256_hex(b)) == 1000
