"""The agent's gRPC server: the Agent service, the standard health service, server reflection,
and the auth and error interceptors, bound to loopback unless a token guards it; with TLS (and
optionally mutual TLS) when given a certificate.
"""

from __future__ import annotations

import ipaddress
import logging
from concurrent import futures
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from linas_agent.agent import Agent
from linas_agent.interceptors import AuthInterceptor, ErrorInterceptor
from linas_agent.servicer import AgentServicer
from linas_sdk.errors import InvalidArgument
from linas_sdk.grpc_settings import server_options
from linas_sdk.proto.agent.v1 import agent_pb2, agent_pb2_grpc

log = logging.getLogger(__name__)

SERVICE = agent_pb2.DESCRIPTOR.services_by_name["Agent"].full_name  # "linas.agent.v1.Agent"
MAX_WORKERS = 32
MAX_CONCURRENT_RPCS = 128  # beyond this gRPC itself answers RESOURCE_EXHAUSTED
MIN_TOKEN_CHARS = 16  # a shorter token beyond loopback is warned about


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def address(host: str, port: int) -> str:
    """host:port, with an IPv6 host in brackets."""
    host = host.strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class Tls:
    """The server's certificate chain and key (PEM), and for mutual TLS the CA that signs the
    clients' certificates (then a client without one is refused during the handshake)."""

    cert: bytes
    key: bytes
    client_ca: bytes | None = None

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.key, self.cert)],
            root_certificates=self.client_ca,
            require_client_auth=self.client_ca is not None,
        )


def check_exposure(host: str, token: str | None, insecure: bool, tls: Tls | None = None) -> None:
    """Refuse to listen beyond loopback without a token, unless `insecure` says so (loudly)."""
    if is_loopback(host):
        return
    if token:
        if tls is None:
            log.warning(
                "listening on %s without TLS: the token and the models cross the network in "
                "clear text; give --tls-cert and --tls-key", host,
            )  # fmt: skip
        if len(token) < MIN_TOKEN_CHARS:
            log.warning(
                "the token is only %d characters: anyone on the network may guess it; use %d "
                "or more random ones, e.g. python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'", len(token), MIN_TOKEN_CHARS,
            )  # fmt: skip
        return
    if not insecure:
        raise InvalidArgument(
            f"refusing to listen on {host} without a token: anyone who can reach it could "
            "upload and run models on this board. Give a token (--token-file or the "
            "LINAS_AGENT_TOKEN variable), listen on 127.0.0.1, or pass --insecure"
        )
    log.warning(
        "INSECURE: listening on %s without a token; anyone on the network can use this agent",
        host,
    )


class AgentServer:
    """A started server; `port` is the one it bound (useful with port 0)."""

    def __init__(
        self,
        agent: Agent,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        insecure: bool = False,
        tls: Tls | None = None,
        upload_timeout: float = 600.0,
    ) -> None:
        check_exposure(host, token, insecure, tls)
        self.agent = agent
        interceptors = [ErrorInterceptor(f"/{SERVICE}/")]
        if token:
            interceptors.insert(0, AuthInterceptor(token))
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="linas-rpc"),
            interceptors=interceptors,
            options=server_options(),
            maximum_concurrent_rpcs=MAX_CONCURRENT_RPCS,
        )
        agent_pb2_grpc.add_AgentServicer_to_server(
            AgentServicer(agent, upload_timeout), self._server
        )
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        reflection.enable_server_reflection(
            (SERVICE, health.SERVICE_NAME, reflection.SERVICE_NAME), self._server
        )
        self.host = host
        self.tls = tls
        try:
            if tls is None:
                self.port = self._server.add_insecure_port(address(host, port))
            else:
                self.port = self._server.add_secure_port(address(host, port), tls.credentials())
        except RuntimeError as error:
            raise InvalidArgument(f"cannot listen on {address(host, port)}: {error}") from error
        if not self.port:
            raise InvalidArgument(f"cannot listen on {address(host, port)}")
        self._server.start()
        for name in ("", SERVICE):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    @property
    def address(self) -> str:
        return address(self.host, self.port)

    def stop(self, grace: float = 5.0) -> None:
        """Stop taking calls, let running ones finish for `grace` seconds, stop the worker."""
        self.health.enter_graceful_shutdown()
        self._server.stop(grace).wait()
        self.agent.close()
