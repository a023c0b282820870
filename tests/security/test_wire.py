"""Never trust the wire: no code on a network path can unpickle or evaluate what arrives, an
artifact's path never comes from the client, and a model's type is checked before a runtime
reads it.

The source check walks the syntax tree of every module that handles bytes from the other end:
the whole agent, the wire modules of linas_sdk, the host's device client and pool, and what the
host keeps of agents' replies (measurement cache, journal). The live checks run against a real
agent process.
"""

from __future__ import annotations

import ast
import io
import os
from pathlib import Path

import grpc
import numpy as np
import pytest
from security_helpers import MODELS, PATH_LIKE, ROOT, rpc_error

from linas_sdk.artifacts import sha256_hex
from linas_sdk.proto.agent.v1 import agent_pb2 as pb

pytestmark = pytest.mark.timeout(120)

NETWORK_PATH = [
    "agent/linas_agent",
    "linas_sdk/serde.py",
    "linas_sdk/artifacts.py",
    "linas_sdk/measurement.py",
    "linas_sdk/grpc_settings.py",
    "linas_sdk/errors.py",
    "host/linas_host/devices",
    "host/linas_host/evaluate/cache.py",
    "host/linas_host/search/journal.py",
]
UNSAFE_MODULES = {
    "pickle",
    "_pickle",
    "cPickle",
    "dill",
    "cloudpickle",
    "joblib",
    "marshal",
    "shelve",
    "jsonpickle",
}
UNSAFE_BUILTINS = {"eval", "exec", "compile", "__import__", "input"}
UNSAFE_CALLS = {
    ("torch", "load"),
    ("pd", "read_pickle"),
    ("pandas", "read_pickle"),
    ("yaml", "load"),
    ("yaml", "unsafe_load"),
    ("yaml", "full_load"),
    ("os", "system"),
    ("os", "popen"),
}


def _name(node: ast.AST) -> str:
    """`a.b.c` of an attribute chain, or ''."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _keyword(call: ast.Call, name: str):
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def unsafe_uses(source: str, filename: str = "<source>") -> list[str]:
    """Each line of `source` that could turn received bytes into code or objects."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            found += [
                f"{line}: import {a.name}"
                for a in node.names
                if a.name.split(".")[0] in UNSAFE_MODULES
            ]
        elif (
            isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES
        ):
            found.append(f"{line}: from {node.module} import")
        elif isinstance(node, ast.Call):
            name = _name(node.func)
            parts = tuple(name.rsplit(".", 1)) if "." in name else ("", name)
            if name in UNSAFE_BUILTINS or parts in UNSAFE_CALLS:
                found.append(f"{line}: {name}()")
            elif parts[1] == "load" and parts[0] in ("np", "numpy"):
                allow = _keyword(node, "allow_pickle")
                if not (isinstance(allow, ast.Constant) and allow.value is False):
                    found.append(f"{line}: {name}() without allow_pickle=False")
            elif parts[0] == "subprocess" or parts[1] in ("Popen", "run", "check_output"):
                shell = _keyword(node, "shell")
                if isinstance(shell, ast.Constant) and shell.value:
                    found.append(f"{line}: {name}(shell=True)")
    return found


def network_sources() -> list[Path]:
    files = []
    for entry in NETWORK_PATH:
        path = ROOT / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def test_the_scan_catches_what_it_looks_for() -> None:
    planted = (
        "import pickle\nfrom dill import loads\nimport numpy as np\nimport torch, yaml, os\n"
        "eval(x)\nexec(y)\nnp.load(f)\nnp.load(f, allow_pickle=True)\ntorch.load(f)\n"
        "yaml.load(s)\nos.system(c)\nsubprocess.run(c, shell=True)\n"
        "np.load(f, allow_pickle=False)\nyaml.safe_load(s)\nsubprocess.run([c])\n"
    )
    assert [hit.split(":")[0] for hit in unsafe_uses(planted)] == [
        str(n) for n in (1, 2, 5, 6, 7, 8, 9, 10, 11, 12)
    ]


def test_no_unpickling_eval_or_exec_on_any_network_path() -> None:
    files = network_sources()
    assert len(files) > 25, "the network path was found"
    found = [
        f"{path.relative_to(ROOT)}:{hit}"
        for path in files
        for hit in unsafe_uses(path.read_text(), str(path))
    ]
    assert found == []


# -- live: artifact paths come from hashes only ----------------------------------------------


@pytest.fixture(scope="module")
def agent(module_agent_process):
    return module_agent_process(name="wire", token="wire-token")


@pytest.mark.parametrize("bad", PATH_LIKE)
def test_path_like_hashes_are_refused_everywhere(agent, stub, bad) -> None:
    mlp = (MODELS / "mlp.onnx").read_bytes()
    stub.put(mlp, pb.ARTIFACT_KIND_ONNX)
    before = _tree(agent.cache_dir.parent)
    calls = [
        lambda: stub.has(bad),
        lambda: stub.stub.PutArtifact(
            iter(
                [
                    pb.ArtifactChunk(
                        sha256=bad, kind=pb.ARTIFACT_KIND_ONNX, total_size=len(mlp), data=mlp
                    )
                ]
            ),
            metadata=stub.metadata,
            timeout=10,
        ),
        lambda: stub.measure(bad),
        lambda: stub.measure(sha256_hex(mlp), validation_sha256=bad, metric=pb.METRIC_TOP1),
    ]
    if bad == "":  # an empty validation hash means "no validation set": covered by the others
        calls.pop()
    for call in calls:
        error = rpc_error(call)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (bad, error.details())
        assert "sha256" in error.details() or "a validation set and a metric" in error.details()
    after = _tree(agent.cache_dir.parent)
    assert after == before, "nothing was written anywhere near the cache"
    assert all(len(p.name) == 64 for p in (agent.cache_dir / "objects").iterdir())


def _tree(folder: Path) -> set[str]:
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if "incoming" not in p.parts and "objects" not in p.parts
    }


# -- live: a model's type is checked before a runtime loads it --------------------------------


def test_a_model_of_the_wrong_type_never_reaches_a_runtime(stub) -> None:
    onnx_sha = stub.upload(MODELS / "mlp.onnx")
    tflite_sha = stub.upload(MODELS / "mlp.tflite")
    npz_sha = stub.upload(MODELS / "valid.npz")
    for sha, runtime, expected in (
        (onnx_sha, "litert", "TFLite model"),
        (tflite_sha, "onnxruntime", "ONNX model"),
        (npz_sha, "onnxruntime", "ONNX model"),
    ):
        error = rpc_error(stub.measure, sha, runtime=runtime)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
        assert f"is not a {expected}" in error.details()
    error = rpc_error(stub.measure, onnx_sha, validation_sha256=tflite_sha, metric=pb.METRIC_TOP1)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "is not a .npz validation set" in error.details()
    assert stub.measure(onnx_sha).latency.median_ms > 0


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x80\x04\x95" + b"\x00" * 40, pb.ARTIFACT_KIND_NPZ),  # a pickle announced as .npz
        (b"\x80\x04\x95" + b"\x00" * 40, pb.ARTIFACT_KIND_ONNX),  # ... as ONNX
        (b"PK\x03\x04" + b"\x00" * 40, pb.ARTIFACT_KIND_TFLITE),  # a zip announced as TFLite
        (b"#!/bin/sh\nrm -rf /\n", pb.ARTIFACT_KIND_ONNX),  # a script announced as ONNX
    ],
)
def test_uploads_that_are_not_what_they_claim_are_refused(stub, data, kind) -> None:
    error = rpc_error(stub.put, data, kind)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "does not look like" in error.details()
    assert not stub.has(sha256_hex(data)).present


class _Payload:
    """Runs a command when unpickled: what an attacker would put in an object array."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_validation_set_carrying_pickled_objects_is_refused_not_run(stub, tmp_path) -> None:
    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    np.savez(buffer, input=np.array([_Payload(marker)], dtype=object), y=np.zeros(1))
    model = stub.upload(MODELS / "mlp.onnx")
    stub.put(buffer.getvalue(), pb.ARTIFACT_KIND_NPZ)
    error = rpc_error(
        stub.measure, model, validation_sha256=sha256_hex(buffer.getvalue()), metric=pb.METRIC_TOP1
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a readable .npz of plain arrays" in error.details()
    assert not marker.exists(), "the pickle inside the .npz was never run"


def test_the_token_is_compared_in_constant_time_only() -> None:
    """The auth interceptor compares tokens with hmac.compare_digest and never with == or !=,
    which stop at the first differing byte and so leak how much of a guess was right."""
    path = ROOT / "agent" / "linas_agent" / "interceptors.py"
    tree = ast.parse(path.read_text())
    auth = next(
        n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "AuthInterceptor"
    )
    calls = {_name(n.func) for n in ast.walk(auth) if isinstance(n, ast.Call)}
    assert "hmac.compare_digest" in calls
    compared = [
        ast.unparse(n)
        for n in ast.walk(auth)
        if isinstance(n, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in n.ops)
    ]
    assert compared == []
