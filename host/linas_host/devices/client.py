"""The host's client for one agent: a gRPC channel and the four calls of the wire contract.

Every call goes through `AgentClient._call`, the one place that attaches the bearer token, sets
the deadline, retries (only on UNAVAILABLE, with doubling back-off) and turns a gRPC status
into the linas error it stands for (`linas_sdk.errors.error_from_status`).

Uploads are content-addressed: `ensure_artifact` asks HasArtifact first and streams the bytes
(in CHUNK_BYTES chunks) only when the agent lacks them; `uploaded_bytes` counts what was sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from linas_host.devices.config import DeviceSpec
from linas_sdk import serde
from linas_sdk.artifacts import kind_of, sha256_hex, upload_chunks
from linas_sdk.errors import (
    ArtifactNotFound,
    DeviceUnavailable,
    InvalidArgument,
    LinasError,
    MeasurementTimeout,
    ProtocolMismatch,
    error_from_status,
)
from linas_sdk.grpc_settings import PROTOCOL_VERSION, bearer_metadata, channel_options
from linas_sdk.measurement import DeviceInfo, Measurement, MeasureRequest
from linas_sdk.proto.agent.v1 import agent_pb2 as pb
from linas_sdk.proto.agent.v1 import agent_pb2_grpc

log = logging.getLogger(__name__)

RUNTIME_OF_KIND = {pb.ARTIFACT_KIND_ONNX: "onnxruntime", pb.ARTIFACT_KIND_TFLITE: "litert"}


class NoReply(MeasurementTimeout):
    """No reply within the call's own deadline: the model may be slow, or the device hung."""


@dataclass(frozen=True)
class Artifact:
    """Bytes to ship, hashed once (a job that moves between devices is not hashed again)."""

    data: bytes
    sha256: str
    kind: int

    @classmethod
    def of(cls, source: bytes | Path | str | Artifact, kind: int | None = None) -> Artifact:
        """An artifact from bytes or a file; the kind comes from the suffix or the header."""
        if isinstance(source, Artifact):
            return source
        name = None
        if isinstance(source, (str, Path)):
            name = Path(source)
            try:
                source = name.read_bytes()
            except OSError as error:
                raise InvalidArgument(f"cannot read {name}: {error.strerror}") from error
        data = bytes(source)
        return cls(data, sha256_hex(data), kind if kind is not None else kind_of(data, name))


def prepare(
    model: bytes | Path | str | Artifact,
    request: MeasureRequest | None,
    validation: bytes | Path | str | Artifact | None,
) -> tuple[Artifact, Artifact | None, MeasureRequest]:
    """Check a measurement before anything travels: -> (model, validation set, request), the
    request's runtime and metric chosen where it left them to the client (MeasureRequest)."""
    request = request or MeasureRequest()
    artifact = Artifact.of(model)
    checks = None if validation is None else Artifact.of(validation, pb.ARTIFACT_KIND_NPZ)
    if checks is None and request.metric is not None:
        raise InvalidArgument(f"metric {request.metric!r} needs a validation set")
    runtime = request.runtime or RUNTIME_OF_KIND.get(artifact.kind)
    if runtime is None:
        raise InvalidArgument("expected an ONNX or TFLite model, got another kind of file")
    metric = request.metric or ("top1" if checks else None)
    return artifact, checks, request.replace(runtime=runtime, metric=metric)


def open_channel(spec: DeviceSpec) -> grpc.Channel:
    """A channel to the device: TLS when its spec names TLS files, plaintext otherwise."""
    options = channel_options()
    if spec.tls is None:
        return grpc.insecure_channel(spec.address, options=options)
    tls = spec.tls
    credentials = grpc.ssl_channel_credentials(
        root_certificates=tls.ca.read_bytes() if tls.ca else None,
        private_key=tls.key.read_bytes() if tls.key else None,
        certificate_chain=tls.cert.read_bytes() if tls.cert else None,
    )
    if tls.server_name:
        options = [*options, ("grpc.ssl_target_name_override", tls.server_name)]
    return grpc.secure_channel(spec.address, credentials, options=options)


class AgentClient:
    """One agent. Thread-safe; the pool gives each device one client."""

    def __init__(self, spec: DeviceSpec, *, retries: int = 3, backoff_s: float = 0.2) -> None:
        self.spec = spec
        self.retries = retries
        self.backoff_s = backoff_s
        self.uploaded_bytes = 0
        token = spec.read_token()
        self._metadata = bearer_metadata(token)
        if token and spec.tls is None and not spec.loopback:
            log.warning(
                "device %s: the bearer token travels in clear text to %s; give it tls files",
                spec.name,
                spec.address,
            )
        self._lock = threading.Lock()
        self._channel = open_channel(spec)

    @classmethod
    def connect(cls, address: str, **kwargs: Any) -> AgentClient:
        """A client for an address alone (named after it, token from LINAS_AGENT_TOKEN)."""
        return cls(DeviceSpec(name=address, address=address), **kwargs)

    @property
    def name(self) -> str:
        return self.spec.name

    def reconnect(self) -> None:
        """Drop the channel and open a fresh one, forgetting its reconnect back-off (so a
        device that came back is seen at once)."""
        with self._lock:
            old, self._channel = self._channel, open_channel(self.spec)
        old.close()

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> AgentClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one place a call is made ----------------------------------------------------------

    def _call(self, method: str, request: Any, timeout: float) -> Any:
        """Call `method` of the Agent service (or "Health.Check"), retrying UNAVAILABLE with
        doubling back-off while the deadline allows; other failures raise the linas error of
        their status. `request` may be a callable returning a fresh request stream."""
        deadline = time.monotonic() + timeout
        delay, attempt = self.backoff_s, 0
        while True:
            with self._lock:
                channel = self._channel
            if method == "Health.Check":
                rpc = health_pb2_grpc.HealthStub(channel).Check
            else:
                rpc = getattr(agent_pb2_grpc.AgentStub(channel), method)
            remaining = max(deadline - time.monotonic(), 0.001)
            try:
                payload = request() if callable(request) else request
                return rpc(payload, timeout=remaining, metadata=self._metadata)
            except grpc.RpcError as error:
                code, details = error.code(), error.details() or ""
                retry = code == grpc.StatusCode.UNAVAILABLE and attempt < self.retries
                if not retry or time.monotonic() + delay >= deadline:
                    where = f"{self.spec.where}: {method}"
                    if code == grpc.StatusCode.DEADLINE_EXCEEDED and time.monotonic() >= deadline:
                        raise NoReply(f"{where}: no reply within {timeout:g} s") from None
                    tries = f" ({attempt + 1} attempts)" if attempt else ""
                    raise error_from_status(code, f"{where}{tries}: {details}") from None
            time.sleep(delay)
            delay, attempt = delay * 2, attempt + 1

    # -- the wire contract ---------------------------------------------------------------------

    def get_info(self) -> DeviceInfo:
        """The device manifest; ProtocolMismatch when the agent speaks another version."""
        reply = self._call("GetInfo", pb.GetInfoRequest(), self.spec.timeouts.rpc_s)
        if reply.protocol_version != PROTOCOL_VERSION:
            raise ProtocolMismatch(
                f"{self.spec.where} speaks linas wire protocol version "
                f"{reply.protocol_version}, but this host speaks version {PROTOCOL_VERSION}; "
                "install the same linas-sdk major version on both"
            )
        return serde.device_info_from_proto(reply)

    def ping(self) -> float:
        """Round-trip time of a standard health check, in ms; DeviceUnavailable unless the
        agent reports SERVING."""
        start = time.perf_counter()
        request = health_pb2.HealthCheckRequest()
        reply = self._call("Health.Check", request, self.spec.timeouts.rpc_s)
        elapsed_ms = (time.perf_counter() - start) * 1e3
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            raise DeviceUnavailable(f"device {self.name} reports {status}, expected SERVING")
        return elapsed_ms

    def has_artifact(self, sha256: str) -> bool:
        request = pb.HasArtifactRequest(sha256=sha256)
        return self._call("HasArtifact", request, self.spec.timeouts.rpc_s).present

    def ensure_artifact(self, source: bytes | Path | str | Artifact) -> str:
        """Make sure the agent holds the artifact; upload it only if it does not. -> sha256."""
        artifact = Artifact.of(source)
        if not self.has_artifact(artifact.sha256):
            self._upload(artifact)
        return artifact.sha256

    def _upload(self, artifact: Artifact) -> None:
        def stream() -> Iterator[pb.ArtifactChunk]:
            for chunk in upload_chunks(artifact.data, artifact.kind, artifact.sha256):
                with self._lock:
                    self.uploaded_bytes += len(chunk.data)
                yield chunk

        reply = self._call("PutArtifact", stream, self.spec.timeouts.upload_s)
        if reply.sha256 != artifact.sha256:
            raise LinasError(
                f"device {self.name} stored {reply.sha256!r} for an upload of {artifact.sha256}"
            )

    def measure(
        self,
        model: bytes | Path | str | Artifact,
        request: MeasureRequest | None = None,
        *,
        validation: bytes | Path | str | Artifact | None = None,
        timeout: float | None = None,
    ) -> Measurement:
        """Measure a model on this device as `request` says (default: `MeasureRequest()`),
        uploading the model (and the validation set) if the agent lacks them.

        The provider (and its options), when the request leaves it, is the device spec's.
        `timeout` (default: the spec's measure_s) bounds the Measure call, not the uploads.
        """
        artifact, checks, request = prepare(model, request, validation)
        if request.provider is None and self.spec.runtime in (None, request.runtime):
            request = request.replace(
                provider=self.spec.provider, provider_options=self.spec.provider_options
            )
        message = serde.request_to_proto(
            request, model_sha256=artifact.sha256,
            validation_sha256=checks.sha256 if checks else "",
        )
        needed = [artifact] if checks is None else [artifact, checks]
        for attempt in range(2):
            for each in needed:
                self.ensure_artifact(each)
            try:
                reply = self._call("Measure", message, timeout or self.spec.timeouts.measure_s)
                break
            except ArtifactNotFound:  # evicted from the agent's cache since HasArtifact
                if attempt:
                    raise
        return serde.measurement_from_proto(reply, device=self.name, model_sha256=artifact.sha256)
