"""Putting an agent together: store, warm worker, logic and server, from plain options.

The CLI (`linas agent serve`) and the self-test call `start`; so can a test or a script.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from linas_agent.agent import Agent
from linas_agent.server import AgentServer, Tls, check_exposure
from linas_agent.store import ArtifactStore
from linas_agent.worker import Worker
from linas_sdk.errors import InvalidArgument
from linas_sdk.grpc_settings import TOKEN_ENV

log = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = Path(".cache/linas-agent")
"""Relative to the current directory: an agent never writes to a home folder unasked."""


def read_token(token_file: str | Path | None) -> str | None:
    """The token from a file (first line, stripped), else from LINAS_AGENT_TOKEN, else None."""
    if token_file:
        try:
            lines = Path(token_file).read_text().strip().splitlines()
        except OSError as error:
            raise InvalidArgument(f"cannot read the token file {token_file}: {error}") from error
        if not lines or not lines[0].strip():
            raise InvalidArgument(f"the token file {token_file} is empty")
        warn_if_others_can_read(token_file, "token file")
        return lines[0].strip()
    return os.environ.get(TOKEN_ENV) or None


def read_tls(cert: str | Path | None, key: str | Path | None,
             client_ca: str | Path | None = None) -> Tls | None:  # fmt: skip
    """TLS settings from PEM files; None when no certificate is given."""
    if not cert and not key:
        if client_ca:
            raise InvalidArgument("--tls-client-ca needs --tls-cert and --tls-key")
        return None
    if not (cert and key):
        raise InvalidArgument("TLS needs both a certificate (--tls-cert) and its key (--tls-key)")
    tls = Tls(_read(cert), _read(key), _read(client_ca) if client_ca else None)
    warn_if_others_can_read(key, "TLS key")
    return tls


def warn_if_others_can_read(path: str | Path, what: str) -> None:
    """A secret readable by other users of the board is no secret: say so (chmod 600)."""
    mode = Path(path).stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the %s %s can be read by other users (mode %03o); chmod 600 it",
                    what, path, stat.S_IMODE(mode))


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise InvalidArgument(f"cannot read {path}: {error}") from error


def start(
    *,
    name: str = "",
    labels: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    insecure: bool = False,
    cache_dir: str | Path = DEFAULT_CACHE_DIR,
    cache_max_bytes: int = 4 * 1024**3,
    max_artifact_bytes: int = 512 * 1024**2,
    max_waiting: int = 8,
    max_uploads: int = 4,
    max_model_memory: int = 0,
    max_model_cpu_seconds: int = 0,
    tls: Tls | None = None,
    upload_timeout: float = 600.0,
) -> AgentServer:
    """A serving agent. Stop it with `.stop()`."""
    if not insecure and not token:  # refuse before starting anything (the server warns)
        check_exposure(host, token, insecure=False)
    store = ArtifactStore(
        cache_dir, max_artifact_bytes=max_artifact_bytes, max_cache_bytes=cache_max_bytes,
        max_uploads=max_uploads,
    )
    worker = Worker()
    agent = Agent(
        name=name,
        labels=labels or {},
        store=store,
        worker=worker,
        max_waiting=max_waiting,
        max_model_memory=max_model_memory,
        max_model_cpu_seconds=max_model_cpu_seconds,
    )
    try:
        return AgentServer(
            agent, host=host, port=port, token=token, insecure=insecure, tls=tls,
            upload_timeout=upload_timeout,
        )  # fmt: skip
    except BaseException:
        agent.close()
        raise
