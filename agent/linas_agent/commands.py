"""`linas agent serve | selftest`: run the on-device profiling agent, or check that it works.

The same two actions run as `python -m linas_agent serve | selftest`: that is how the host
starts a local agent, through the agent's own entry and not the `linas` face.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
import threading

from linas_sdk.errors import LinasError

SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def size(text: str) -> int:
    """A byte count: 1048576, 512M, 4G (binary units)."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)i?B?\s*", text, re.I)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 1048576, 512M or 4G")
    return int(match.group(1)) * SIZE_UNITS[match.group(2).upper()]


def cpu_seconds(text: str) -> int:
    """Whole CPU seconds, at least 1 (RLIMIT_CPU counts whole seconds)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds >= 1")
    return value


def label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"label {text!r} is not of the form key=value")
    return key, value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `linas agent` (the ``linas.commands`` entry point of the agent side)."""
    parser = subparsers.add_parser("agent", help="run the on-device profiling agent")
    parser.set_defaults(extra="agent")
    _add_actions(parser)


def main(argv: list[str] | None = None) -> int:
    """`python -m linas_agent ACTION ...`."""
    parser = argparse.ArgumentParser(
        prog="python -m linas_agent", description="Run the on-device profiling agent, or check it."
    )
    _add_actions(parser)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LinasError as error:
        print(f"linas-agent: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _add_actions(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="agent_command", required=True, metavar="ACTION")

    serve = sub.add_parser("serve", help="serve measurements over gRPC")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; others need a token)")
    serve.add_argument("--port", type=int, default=0,
                       help="port (default 0: a free one; the agent prints the one it got)")
    serve.add_argument("--name", default="", help="device name (default: the hostname)")
    serve.add_argument("--label", type=label, action="append", default=[], metavar="KEY=VALUE",
                       help="a label for this device, e.g. board=pi5 (repeatable)")
    serve.add_argument("--cache-dir", default=None,
                       help="artifact cache folder (default: .cache/linas-agent here)")
    serve.add_argument("--cache-max-bytes", type=size, default=size("4G"),
                       help="cap on the whole cache; least recently used goes first (4G)")
    serve.add_argument("--max-artifact-bytes", type=size, default=size("512M"),
                       help="cap on one uploaded artifact (512M)")
    serve.add_argument("--max-waiting", type=int, default=8,
                       help="measurements allowed to wait behind the running one (8)")
    serve.add_argument("--max-concurrent-uploads", type=int, default=4,
                       help="uploads received at once; more are refused RESOURCE_EXHAUSTED (4)")
    serve.add_argument("--upload-timeout", type=float, default=600.0,
                       help="seconds one upload may take before it is cancelled (600)")
    serve.add_argument("--max-model-memory", type=size, default=0,
                       help="memory one model process may add, e.g. 2G (default: no limit)")
    serve.add_argument("--max-model-cpu-seconds", type=cpu_seconds, default=0,
                       help="CPU seconds one model process may use (default: its timeout_seconds "
                            "x the CPUs it may run on)")
    serve.add_argument("--token-file",
                       help="file holding the bearer token (default: $LINAS_AGENT_TOKEN)")
    serve.add_argument("--tls-cert", help="PEM certificate chain: serve over TLS")
    serve.add_argument("--tls-key", help="PEM private key of --tls-cert")
    serve.add_argument("--tls-client-ca",
                       help="PEM CA of client certificates: require mutual TLS")
    serve.add_argument("--insecure", action="store_true",
                       help="allow listening beyond loopback without a token (dangerous)")
    serve.add_argument("--log-level", default="INFO", help="logging level on stderr (INFO)")
    serve.set_defaults(func=run_serve)

    selftest = sub.add_parser(
        "selftest", help="start an agent on loopback, measure the bundled model, report"
    )
    selftest.set_defaults(func=run_selftest)


def run_serve(args: argparse.Namespace) -> int:
    from linas_agent import launch

    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )  # fmt: skip
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = launch.start(
        name=args.name,
        labels=dict(args.label),
        host=args.host,
        port=args.port,
        token=launch.read_token(args.token_file),
        insecure=args.insecure,
        cache_dir=args.cache_dir or launch.DEFAULT_CACHE_DIR,
        cache_max_bytes=args.cache_max_bytes,
        max_artifact_bytes=args.max_artifact_bytes,
        max_waiting=args.max_waiting,
        max_uploads=args.max_concurrent_uploads,
        max_model_memory=args.max_model_memory,
        max_model_cpu_seconds=args.max_model_cpu_seconds,
        upload_timeout=args.upload_timeout,
        tls=launch.read_tls(args.tls_cert, args.tls_key, args.tls_client_ca),
    )
    for warning in server.agent.info().warnings:
        logging.getLogger("linas_agent").warning("%s", warning)
    print(f"linas-agent listening on {server.address}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def run_selftest(args: argparse.Namespace) -> int:
    from linas_agent import selftest

    return selftest.run(sys.stdout)
