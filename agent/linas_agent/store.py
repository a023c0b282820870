"""The agent's artifact cache: models and validation sets on disk, addressed by sha256 only.

Layout: `<root>/objects/<sha256>` (the name is the verified digest, never a client path) and
`<root>/incoming/` for uploads in progress. An upload is streamed to a temporary file while it
is hashed, checked against the size it announced and the size caps, and moved into place only
when its digest matches. The cache has a total size cap; when a new artifact needs room, the
least recently used artifacts not in use by a measurement are deleted. Recency is kept in
memory and mirrored in each file's mtime (touched on every use), so it survives a restart.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from linas_sdk.artifacts import HEADER_BYTES, check_sha256, looks_like
from linas_sdk.errors import (
    ArtifactCorrupt,
    ArtifactNotFound,
    InvalidArgument,
    ResourceExhausted,
)
from linas_sdk.formats import FORMATS
from linas_sdk.proto.agent.v1 import agent_pb2 as pb

log = logging.getLogger(__name__)

KIND_NAMES = {f.kind: f.description for f in FORMATS}
KIND_NAMES[pb.ARTIFACT_KIND_NPZ] = ".npz validation set"


@dataclass(frozen=True)
class PutResult:
    sha256: str
    size_bytes: int
    already_present: bool


class ArtifactStore:
    """A size-capped, content-addressed, least-recently-used artifact cache. Thread-safe."""

    def __init__(
        self,
        root: str | Path,
        *,
        max_artifact_bytes: int = 512 * 1024 * 1024,
        max_cache_bytes: int = 4 * 1024 * 1024 * 1024,
        max_uploads: int = 4,
    ) -> None:
        if max_artifact_bytes <= 0 or max_cache_bytes <= 0:
            raise InvalidArgument("artifact and cache size caps must be positive")
        if max_uploads < 1:
            raise InvalidArgument(f"max_uploads must be >= 1, got {max_uploads}")
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.incoming = self.root / "incoming"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.incoming.mkdir(parents=True, exist_ok=True)
        self.max_artifact_bytes = min(max_artifact_bytes, max_cache_bytes)
        self.max_cache_bytes = max_cache_bytes
        self._uploads = threading.BoundedSemaphore(max_uploads)
        self._max_uploads = max_uploads
        self._lock = threading.Lock()
        self._pins: dict[str, int] = {}
        for stale in self.incoming.iterdir():  # uploads cut short by a previous run
            stale.unlink(missing_ok=True)
        held = sorted(
            (p.stat().st_mtime_ns, p.name, p.stat().st_size)
            for p in self.objects.iterdir()
            if check_name(p.name)
        )
        self._sizes: OrderedDict[str, int] = OrderedDict((n, size) for _, n, size in held)

    # -- queries ------------------------------------------------------------------------------

    def size_of(self, sha256: str) -> int | None:
        """The held artifact's size, or None when the store does not hold it."""
        check_sha256(sha256)
        with self._lock:
            return self._sizes.get(sha256)

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(self._sizes.values())

    @contextlib.contextmanager
    def use(self, sha256: str) -> Iterator[Path]:
        """The path of a held artifact, protected from eviction while the block runs."""
        check_sha256(sha256)
        with self._lock:
            if sha256 not in self._sizes:
                raise ArtifactNotFound(
                    f"the agent holds no artifact {sha256}; upload it with PutArtifact first"
                )
            self._pins[sha256] = self._pins.get(sha256, 0) + 1
            self._touch(sha256)
        path = self.objects / sha256
        try:
            yield path
        finally:
            with self._lock:
                self._pins[sha256] -= 1
                if not self._pins[sha256]:
                    del self._pins[sha256]

    # -- upload -------------------------------------------------------------------------------

    def put(self, sha256: str, kind: int, total_size: int, chunks: Iterable[bytes]) -> PutResult:
        """Store the artifact streamed as `chunks`, after checking its header, size and hash."""
        check_sha256(sha256)
        if kind not in KIND_NAMES:
            raise InvalidArgument(
                f"artifact kind {kind} is not one of ONNX (1), TFLITE (2) or NPZ (3)"
            )
        if total_size <= 0:
            raise InvalidArgument("the first chunk must announce the artifact's total_size (> 0)")
        if total_size > self.max_artifact_bytes:
            raise ResourceExhausted(
                f"artifact of {total_size} bytes exceeds this agent's cap of "
                f"{self.max_artifact_bytes} bytes per artifact"
            )
        with self._lock:
            held = self._sizes.get(sha256)
            if held is not None:
                self._touch(sha256)
                return PutResult(sha256, held, already_present=True)
        if not self._uploads.acquire(blocking=False):
            raise ResourceExhausted(
                f"the agent is already receiving {self._max_uploads} uploads; retry later"
            )
        try:
            return self._receive(sha256, kind, total_size, chunks)
        finally:
            self._uploads.release()

    def _receive(self, sha256: str, kind: int, total_size: int, chunks: Iterable[bytes]):
        fd, tmp_name = tempfile.mkstemp(dir=self.incoming)
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            received = 0
            header = b""
            with os.fdopen(fd, "wb") as out:
                for data in chunks:
                    received += len(data)
                    if received > total_size:
                        raise InvalidArgument(
                            f"upload of {sha256} sent more than the {total_size} bytes it "
                            "announced"
                        )
                    if len(header) < HEADER_BYTES:
                        header += data[: HEADER_BYTES - len(header)]
                    digest.update(data)
                    out.write(data)
            if received != total_size:
                raise InvalidArgument(
                    f"upload of {sha256} ended after {received} of the {total_size} bytes it "
                    "announced"
                )
            if digest.hexdigest() != sha256:
                raise ArtifactCorrupt(
                    f"uploaded bytes hash to {digest.hexdigest()}, not to the announced {sha256}"
                )
            if not looks_like(kind, header):
                raise InvalidArgument(
                    f"artifact {sha256} does not look like a {KIND_NAMES[kind]} (wrong header)"
                )
            self._commit(tmp, sha256, total_size)
            return PutResult(sha256, total_size, already_present=False)
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise ResourceExhausted(
                    f"the agent's disk is full ({self.root}); lower --cache-max-bytes"
                ) from error
            raise
        finally:
            tmp.unlink(missing_ok=True)

    def _commit(self, tmp: Path, sha256: str, size: int) -> None:
        with self._lock:
            if sha256 in self._sizes:  # a concurrent upload of the same bytes won
                return
            self._evict_for(size)
            os.replace(tmp, self.objects / sha256)
            self._sizes[sha256] = size

    def _touch(self, sha256: str) -> None:
        """Mark an artifact most recently used (the caller holds the lock)."""
        self._sizes.move_to_end(sha256)
        with contextlib.suppress(OSError):
            os.utime(self.objects / sha256)

    def _evict_for(self, size: int) -> None:
        """Delete least recently used, unpinned artifacts until `size` more bytes fit."""
        total = sum(self._sizes.values())
        if total + size <= self.max_cache_bytes:
            return
        for victim in [s for s in self._sizes if s not in self._pins]:
            if total + size <= self.max_cache_bytes:
                break
            (self.objects / victim).unlink(missing_ok=True)
            total -= self._sizes.pop(victim)
            log.info("evicted artifact %s to stay under the cache cap", victim)
        if total + size > self.max_cache_bytes:
            raise ResourceExhausted(
                f"no room for {size} bytes: the cache cap is {self.max_cache_bytes} bytes and "
                f"{total} bytes are held by artifacts in use"
            )


def check_name(name: str) -> bool:
    """Whether a file in the objects folder is named like a stored artifact."""
    try:
        check_sha256(name)
    except InvalidArgument:
        return False
    return True
