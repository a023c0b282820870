"""The two cross-cutting rules of every RPC, kept out of the servicer:

- `AuthInterceptor`: with a token set, every call but the standard health check must carry
  `authorization: Bearer <token>`; compared in constant time (hmac.compare_digest).
- `ErrorInterceptor`: the one place a linas error becomes a gRPC status (via
  `linas_sdk.errors.status_code_of`), so no RPC method repeats a try/except. Anything else is
  an agent bug: logged with its traceback and answered INTERNAL (unless the call was already
  cancelled, e.g. a stalled upload cut off, which is only noted).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

import grpc

from linas_sdk.errors import LinasError, status_code_of
from linas_sdk.grpc_settings import AUTH_METADATA_KEY

log = logging.getLogger(__name__)

OPEN_PREFIXES = ("/grpc.health.v1.Health/",)
"""Methods callable without a token: load balancers and probes check health unauthenticated."""

Behavior = Callable[..., object]


def _replace_behavior(
    handler: grpc.RpcMethodHandler | None, wrap: Callable[[Behavior], Behavior]
) -> grpc.RpcMethodHandler | None:
    """The same handler, with its behavior function passed through `wrap`."""
    if handler is None:
        return None
    for kind, factory in (
        ("unary_unary", grpc.unary_unary_rpc_method_handler),
        ("unary_stream", grpc.unary_stream_rpc_method_handler),
        ("stream_unary", grpc.stream_unary_rpc_method_handler),
        ("stream_stream", grpc.stream_stream_rpc_method_handler),
    ):
        behavior = getattr(handler, kind)
        if behavior is not None:
            return factory(
                wrap(behavior),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
    return handler


class AuthInterceptor(grpc.ServerInterceptor):
    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

    def intercept_service(self, continuation, handler_call_details):
        if handler_call_details.method.startswith(OPEN_PREFIXES):
            return continuation(handler_call_details)
        metadata = dict(handler_call_details.invocation_metadata or ())
        sent = str(metadata.get(AUTH_METADATA_KEY, "")).encode()
        if hmac.compare_digest(sent, self._expected):
            return continuation(handler_call_details)

        def deny(_request, context):
            context.abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "missing or wrong bearer token: this agent expects the metadata "
                f"'{AUTH_METADATA_KEY}: Bearer <token>' with the token it was started with",
            )

        return _replace_behavior(continuation(handler_call_details), lambda _behavior: deny)


class ErrorInterceptor(grpc.ServerInterceptor):
    """Maps errors raised by unary-response methods (all the Agent service has)."""

    def __init__(self, service_prefix: str) -> None:
        self._prefix = service_prefix

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if not handler_call_details.method.startswith(self._prefix):
            return handler
        return _replace_behavior(handler, _mapped)


def _mapped(behavior: Behavior) -> Behavior:
    def call(request, context):
        try:
            return behavior(request, context)
        except LinasError as error:
            context.abort(status_code_of(error), str(error))
        except Exception as error:
            name = getattr(behavior, "__name__", "an RPC")
            if not context.is_active():  # cancelled or past its deadline: nobody to answer
                log.info("%s ended: its call was cancelled or timed out", name)
                raise  # gRPC knows the error its own request stream raised, and stays quiet
            log.exception("unexpected error in %s", name)
            context.abort(
                grpc.StatusCode.INTERNAL,
                f"the agent failed unexpectedly ({type(error).__name__}: {error}); "
                "see the agent's log",
            )

    return call
