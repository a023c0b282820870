"""One place for the gRPC settings both ends share: protocol version, sizes, keep-alive, auth."""

from __future__ import annotations

PROTOCOL_VERSION = 1
"""Major wire protocol version: the `v1` of `linas.agent.v1`. Hosts refuse agents that differ."""

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""Largest single message either way (a Measure reply may carry raw outputs)."""

CHUNK_BYTES = 256 * 1024
"""Artifact upload chunk size. 5 MB on loopback took 11-14 ms in 256 KiB chunks and 12-27 ms
in 1 MiB ones here (benchmarks/agent_overhead.py's 5 MB model, interleaved A/B runs):
the likely cause is HTTP/2 flow control, which a smaller message waits on less."""

AUTH_METADATA_KEY = "authorization"
"""Metadata key of the bearer token (`authorization: Bearer <token>`)."""

TOKEN_ENV = "LINAS_AGENT_TOKEN"
"""Environment variable an agent or a host reads a token from when no token file is given."""

_COMMON_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
]


def channel_options() -> list[tuple[str, int]]:
    """Options for a host's channel to an agent."""
    return [*_COMMON_OPTIONS, ("grpc.enable_retries", 0)]


def server_options() -> list[tuple[str, int]]:
    """Options for an agent's server."""
    return [
        *_COMMON_OPTIONS,
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.so_reuseport", 0),
    ]


def bearer_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """Call metadata that carries a bearer token (empty when there is no token)."""
    return ((AUTH_METADATA_KEY, f"Bearer {token}"),) if token else ()
