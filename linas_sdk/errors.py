"""Every linas error, and the one table that maps them to gRPC status codes and back.

The agent raises these from its logic; its servicer turns them into a status with
`status_code_of`, and the host's client turns a status back into the same class with
`error_from_status`, so both ends speak one vocabulary.
"""

from __future__ import annotations


class LinasError(Exception):
    """Root of every error linas raises on purpose."""

    status = "UNKNOWN"  # the name of the grpc.StatusCode this error travels as


class InvalidArgument(LinasError, ValueError):
    """A request, file or configuration is malformed; the message says what was expected."""

    status = "INVALID_ARGUMENT"


class ArtifactNotFound(LinasError):
    """The agent does not hold an artifact with that hash."""

    status = "NOT_FOUND"


class ArtifactCorrupt(LinasError):
    """Uploaded bytes do not match the hash they were announced with."""

    status = "DATA_LOSS"


class ResourceExhausted(LinasError):
    """A size cap was exceeded, or the agent has no room for more work right now."""

    status = "RESOURCE_EXHAUSTED"


class MeasurementTimeout(LinasError):
    """The model process ran past its hard timeout and was killed."""

    status = "DEADLINE_EXCEEDED"


class ModelError(LinasError):
    """The model could not be loaded or run, or the runtime or provider is unavailable."""

    status = "FAILED_PRECONDITION"


class WorkerCrashed(LinasError):
    """The process running a model died (a crash, a signal); the agent itself is fine."""

    status = "INTERNAL"


class Unauthenticated(LinasError):
    """The bearer token is missing or wrong."""

    status = "UNAUTHENTICATED"


class DeviceUnavailable(LinasError):
    """The device cannot be reached; the call may succeed later or on another device."""

    status = "UNAVAILABLE"


class ProtocolMismatch(LinasError):
    """The agent speaks a wire protocol version the host does not."""

    status = "FAILED_PRECONDITION"


_BY_STATUS = {
    cls.status: cls
    for cls in (
        InvalidArgument,
        ArtifactNotFound,
        ArtifactCorrupt,
        ResourceExhausted,
        MeasurementTimeout,
        ModelError,
        WorkerCrashed,
        Unauthenticated,
        DeviceUnavailable,
    )
}


def status_code_of(error: LinasError):  # -> grpc.StatusCode
    """The gRPC status code an error travels as."""
    import grpc

    return grpc.StatusCode[error.status]


def error_from_status(code, message: str) -> LinasError:
    """The linas error for a gRPC status code (a `grpc.StatusCode`) and its message."""
    return _BY_STATUS.get(code.name, LinasError)(message)
