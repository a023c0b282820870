"""Fuzzing one live agent process with more than 2,000 generated requests over the real proto
messages: GetInfo with stray credentials, HasArtifact and PutArtifact with bad hashes, wrong
kinds, absurd sizes and malformed chunk streams, Measure with absurd settings, shapes, dtypes,
threads and affinities, and raw bytes that are no protobuf at all.

Every request must get a well-formed status: OK or one of the codes docs/agent.md documents,
never UNKNOWN, never INTERNAL from an agent bug (INTERNAL is only a crashed model process, or
gRPC's own answer to bytes it cannot parse). The agent must stay up throughout. Timing settings
are drawn either invalid or small (timeout_seconds at most 3 s), so no request holds the agent
for long; model processes run under --max-model-memory, so absurd input shapes cost nothing.

Each test keeps its own tally of the statuses its calls got, prints it, and checks it and the
agent's health when it ends: no figure depends on which tests ran before it.
"""

from __future__ import annotations

import math
from collections import Counter

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from security_helpers import MODELS, PATH_LIKE

from linas_sdk.artifacts import sha256_hex
from linas_sdk.proto.agent.v1 import agent_pb2 as pb

pytestmark = pytest.mark.timeout(600)

TOKEN = "fuzz-token"
SERVICE = "/linas.agent.v1.Agent/"
C = grpc.StatusCode
DOCUMENTED = {
    C.OK,
    C.INVALID_ARGUMENT,
    C.NOT_FOUND,
    C.DATA_LOSS,
    C.RESOURCE_EXHAUSTED,
    C.DEADLINE_EXCEEDED,
    C.FAILED_PRECONDITION,
    C.UNAUTHENTICATED,
    C.INTERNAL,
}
INTERNAL_ALLOWED = ("the model process", "Exception deserializing request")
"""INTERNAL is a model process that crashed (WorkerCrashed), or gRPC refusing a message it
cannot parse; an agent bug says 'the agent failed unexpectedly' and fails the test."""
CALL_TIMEOUT = 30.0
FUZZ = settings(
    deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@pytest.fixture(scope="module")
def agent(module_agent_process):
    return module_agent_process(
        name="fuzzed",
        token=TOKEN,
        args=[
            "--max-model-memory",
            "512M",
            "--max-artifact-bytes",
            "4M",
            "--cache-max-bytes",
            "32M",
        ],
    )


@pytest.fixture(scope="module")
def held(stub) -> dict[str, str]:
    return {name: stub.upload(MODELS / name) for name in ("mlp.onnx", "mlp.tflite", "valid.npz")}


class Tally:
    """The statuses one test's calls got, by RPC; `record` makes a call and checks its status."""

    def __init__(self) -> None:
        self.codes: dict[str, Counter] = {}

    def record(self, rpc: str, call) -> None:
        """Make the call; check that its status is documented and well formed."""
        try:
            call()
            code, details = C.OK, ""
        except grpc.RpcError as error:
            code, details = error.code(), error.details() or ""
        self.codes.setdefault(rpc, Counter())[code.name] += 1
        assert code in DOCUMENTED, (rpc, code, details)
        assert code is C.OK or details, f"{rpc} answered {code.name} without a message"
        if code is C.INTERNAL:
            assert details.startswith(INTERNAL_ALLOWED), details

    def calls(self, rpc: str | None = None) -> int:
        return sum(sum(c.values()) for r, c in self.codes.items() if rpc in (None, r))

    def print(self, test: str) -> None:
        print(f"fuzzed {test}: {self.calls()} calls", {r: dict(c) for r, c in self.codes.items()})


def assert_still_up(agent, stub, held) -> None:
    """The agent lived through the calls, measures as before and logged no agent bug."""
    assert agent.alive()
    assert stub.measure(held["mlp.onnx"]).latency.median_ms > 0
    log = agent.log()
    assert "unexpected error" not in log and "the agent failed unexpectedly" not in log


# -- strategies -------------------------------------------------------------------------------

hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)
garbage_text = st.text(max_size=80)
uint32 = st.integers(0, 2**32 - 1)
int32 = st.integers(-(2**31), 2**31 - 1)
int64 = st.integers(-(2**63), 2**63 - 1)
bad_float = st.sampled_from([-1.0, -1e300, math.nan, math.inf, -math.inf, 1e300, 1e7])


def hashes(held: dict[str, str]):
    return st.one_of(
        st.sampled_from(sorted(held.values())), st.sampled_from(PATH_LIKE), hex64, garbage_text
    )


ABSURD_SETTINGS = {
    "warmup_runs": uint32,
    "min_runs": uint32,
    "max_runs": uint32,
    "max_remeasures": uint32,
    "warmup_seconds": bad_float,
    "min_seconds": bad_float,
    "max_seconds": bad_float,
    "cooldown_seconds": bad_float,
    "min_sample_ms": bad_float,
    "max_cv": bad_float,
    "timeout_seconds": st.one_of(bad_float, st.just(0.0)),
}
"""Values a setting may be given that the agent must refuse or survive (times capped: a valid
but long setting is refused by its ceiling, or cut by the request's timeout of at most 3 s)."""


@st.composite
def small_settings(draw) -> dict:
    """Valid settings that time a tiny model in well under a second."""
    min_runs = draw(st.integers(1, 3))
    min_seconds = draw(st.floats(0.0, 0.02))
    return {
        "warmup_runs": draw(st.integers(0, 3)),
        "warmup_seconds": draw(st.floats(0.0, 0.02)),
        "min_runs": min_runs,
        "max_runs": draw(st.integers(min_runs, 20)),
        "min_seconds": min_seconds,
        "max_seconds": draw(st.floats(min_seconds + 0.01, 0.1)),
        "min_sample_ms": draw(st.floats(0.0, 1.0)),
        "max_remeasures": draw(st.integers(0, 1)),
        "timeout_seconds": draw(st.floats(1.0, 3.0)),
        "return_samples": draw(st.booleans()),
    }


tensor_specs = st.builds(
    pb.TensorSpec,
    name=st.one_of(st.sampled_from(["x", "input", ""]), garbage_text),
    shape=st.one_of(st.just([1, 16]), st.lists(st.one_of(st.integers(-2, 64), int64), max_size=5)),
    dtype=st.one_of(
        st.sampled_from(
            [
                "float32",
                "float16",
                "int64",
                "uint8",
                "bool",
                "object",
                "complex128",
                "str",
                "V8",
                "",
            ]
        ),
        garbage_text,
    ),
)


def mutations(held: dict[str, str]) -> dict:
    """Request field -> a strategy of absurd values for it."""
    return {
        "model_sha256": hashes(held),
        "runtime": st.one_of(st.sampled_from(["onnxruntime", "litert", "", "torch"]), garbage_text),
        "provider": st.one_of(
            st.sampled_from(["CUDAExecutionProvider", "XNNPACK", "GPU"]),
            garbage_text,
        ),
        "inputs": st.lists(tensor_specs, min_size=1, max_size=3),
        "threads": st.one_of(st.sampled_from([1025, 2**32 - 1]), uint32),
        "cpu_affinity": st.lists(uint32, min_size=1, max_size=4),
        "validation_sha256": hashes(held),
        "metric": int32,
        "settings": st.sampled_from(sorted(ABSURD_SETTINGS)),
    }


@st.composite
def measure_requests(draw, held: dict[str, str]) -> pb.MeasureRequest:
    """A valid request for a committed model (ONNX or TFLite, with or without the validation
    set), with none to three of its fields made absurd."""
    tflite = draw(st.booleans())
    scored = draw(st.booleans())
    fields = {
        "model_sha256": held["mlp.tflite" if tflite else "mlp.onnx"],
        "runtime": "litert" if tflite else "onnxruntime",
        "provider": "",
        "inputs": []
        if tflite or draw(st.booleans())
        else [pb.TensorSpec(name="x", shape=[draw(st.integers(1, 8)), 16], dtype="float32")],
        "threads": draw(st.integers(0, 2)),
        "cpu_affinity": draw(st.sampled_from([[], [0], [0, 1]])),
        "validation_sha256": held["valid.npz"] if scored else "",
        "metric": pb.METRIC_TOP1 if scored else pb.METRIC_UNSPECIFIED,
    }
    timing = draw(small_settings())
    absurd = mutations(held)
    for name in draw(st.lists(st.sampled_from(sorted(absurd)), max_size=3, unique=True)):
        if name == "settings":
            setting = draw(absurd["settings"])
            timing[setting] = draw(ABSURD_SETTINGS[setting])
        else:
            fields[name] = draw(absurd[name])
    return pb.MeasureRequest(settings=pb.MeasureSettings(**timing), **fields)


@st.composite
def uploads(draw, held: dict[str, str]) -> list[pb.ArtifactChunk]:
    """A PutArtifact stream: well formed with a new payload, or broken in one or more ways."""
    magic = draw(
        st.sampled_from([b"\x08", b"\x00\x00\x00\x00TFL3", b"PK\x03\x04", b"", b"\x80\x04\x95"])
    )
    payload = magic + draw(st.binary(max_size=3000))
    chunk_size = draw(st.integers(1, 4096))
    pieces = [payload[i : i + chunk_size] for i in range(0, len(payload), chunk_size)] or [b""]
    first = pb.ArtifactChunk(
        sha256=draw(st.one_of(st.just(sha256_hex(payload)), hashes(held))),
        kind=draw(st.one_of(st.integers(0, 4), int32)),
        total_size=draw(
            st.one_of(st.just(len(payload)), st.integers(0, 2**64 - 1), st.integers(0, 5000))
        ),
        data=pieces[0],
    )
    rest = [pb.ArtifactChunk(data=piece) for piece in pieces[1:]]
    if rest and draw(st.booleans()):  # a header field on a later chunk
        index = draw(st.integers(0, len(rest) - 1))
        rest[index] = pb.ArtifactChunk(sha256=first.sha256, kind=first.kind, data=rest[index].data)
    return [first, *draw(st.permutations(rest))] if draw(st.booleans()) else [first, *rest]


metadata = st.one_of(
    st.just((("authorization", f"Bearer {TOKEN}"),)),
    st.just(()),
    st.tuples(
        st.tuples(
            st.just("authorization"),
            st.one_of(
                st.just(f"Bearer {TOKEN} "),
                st.just(f"bearer {TOKEN}"),
                st.just(TOKEN),
                st.text("abcdefgh -_=", max_size=60),
            ),
        )
    ),
)


# -- the fuzzing ------------------------------------------------------------------------------


GET_INFO_EXAMPLES, PUT_EXAMPLES, MEASURE_EXAMPLES, RAW_EXAMPLES = 300, 500, 700, 300
"""Generated examples per test: 2,100 in all, 2,400 calls (each GetInfo example also calls
HasArtifact)."""


def test_fuzz_get_info_and_has_artifact(agent, stub, held) -> None:
    tally = Tally()

    @settings(FUZZ, max_examples=GET_INFO_EXAMPLES)
    @given(data=st.data())
    def fuzz(data) -> None:
        sent = data.draw(metadata)
        tally.record(
            "GetInfo",
            lambda: stub.stub.GetInfo(pb.GetInfoRequest(), metadata=sent, timeout=CALL_TIMEOUT),
        )
        sha = data.draw(hashes(held))
        tally.record(
            "HasArtifact",
            lambda: stub.stub.HasArtifact(
                pb.HasArtifactRequest(sha256=sha), metadata=sent, timeout=CALL_TIMEOUT
            ),
        )

    fuzz()
    tally.print("GetInfo and HasArtifact")
    assert tally.calls("GetInfo") >= GET_INFO_EXAMPLES
    assert tally.calls("HasArtifact") >= GET_INFO_EXAMPLES
    assert_still_up(agent, stub, held)


def test_fuzz_put_artifact(agent, stub, held) -> None:
    tally = Tally()

    @settings(FUZZ, max_examples=PUT_EXAMPLES)
    @given(data=st.data())
    def fuzz(data) -> None:
        chunks = data.draw(uploads(held))
        tally.record(
            "PutArtifact",
            lambda: stub.stub.PutArtifact(
                iter(chunks), metadata=stub.metadata, timeout=CALL_TIMEOUT
            ),
        )

    fuzz()
    tally.print("PutArtifact")
    assert tally.calls() >= PUT_EXAMPLES
    assert tally.codes["PutArtifact"]["OK"] > 0, "some generated uploads were valid and stored"
    assert_still_up(agent, stub, held)


def test_fuzz_measure(agent, stub, held) -> None:
    tally = Tally()

    @settings(FUZZ, max_examples=MEASURE_EXAMPLES)
    @given(data=st.data())
    def fuzz(data) -> None:
        request = data.draw(measure_requests(held))
        tally.record(
            "Measure",
            lambda: stub.stub.Measure(request, metadata=stub.metadata, timeout=CALL_TIMEOUT),
        )

    fuzz()
    tally.print("Measure")
    assert tally.calls() >= MEASURE_EXAMPLES
    assert tally.codes["Measure"]["OK"] > 0, "some generated measurements were valid and ran"
    assert_still_up(agent, stub, held)


def test_fuzz_raw_bytes(agent, stub, held) -> None:
    tally = Tally()

    @settings(FUZZ, max_examples=RAW_EXAMPLES)
    @given(
        method=st.sampled_from(["GetInfo", "HasArtifact", "Measure", "PutArtifact"]),
        raw=st.binary(max_size=512),
    )
    def fuzz(method, raw) -> None:
        path = SERVICE + method
        if method == "PutArtifact":
            call = stub.channel.stream_unary(path)
            tally.record(
                f"{method} (raw)",
                lambda: call(iter([raw, raw]), metadata=stub.metadata, timeout=CALL_TIMEOUT),
            )
        else:
            call = stub.channel.unary_unary(path)
            tally.record(
                f"{method} (raw)", lambda: call(raw, metadata=stub.metadata, timeout=CALL_TIMEOUT)
            )

    fuzz()
    tally.print("raw bytes")
    assert tally.calls() >= RAW_EXAMPLES
    assert_still_up(agent, stub, held)
