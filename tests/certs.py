"""Certificates for TLS tests, made by openssl for the test (the commands docs/security.md
gives): a CA, an agent certificate for 127.0.0.1 and localhost, and a host certificate for
mutual TLS, both signed by the CA."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_certs(folder: Path) -> Path:
    """`folder` with ca.pem, agent.pem/agent.key and host.pem/host.key."""

    def openssl(command: str) -> None:
        args = ["openssl", *command.split()]
        subprocess.run(args, cwd=folder, check=True, capture_output=True)

    folder.mkdir(parents=True, exist_ok=True)
    openssl(
        "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=linas-test-ca "
        "-keyout ca.key -out ca.pem"
    )
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("agent", "host"):
        openssl(f"req -newkey rsa:2048 -nodes -subj /CN={name} -keyout {name}.key -out {name}.csr")
        openssl(
            f"x509 -req -in {name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
            f"-extfile san.ext -out {name}.pem"
        )
    return folder


def agent_tls(certs: Path, *, mutual: bool = False) -> list[str]:
    """`linas agent serve` flags for TLS with the agent certificate of `certs`; `mutual`: also
    require a client certificate signed by its CA."""
    args = ["--tls-cert", str(certs / "agent.pem"), "--tls-key", str(certs / "agent.key")]
    return [*args, "--tls-client-ca", str(certs / "ca.pem")] if mutual else args
