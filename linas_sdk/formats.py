"""The model formats linas ships, and the runtime that runs each: one table for the host, the
agent and the wire.

A candidate is its exported file, so a format fixes three things at once: the file's suffix,
the artifact kind it is uploaded as, and the runtime a board loads it with. A config, the CLI
and a devices file name the runtime (``onnxruntime``, ``litert``); files and export name the
format (``onnx``, ``tflite``).
"""

from __future__ import annotations

from dataclasses import dataclass

from linas_sdk.errors import InvalidArgument
from linas_sdk.proto.agent.v1 import agent_pb2 as pb


@dataclass(frozen=True)
class Format:
    """``name`` (``onnx``), file ``suffix``, artifact ``kind`` on the wire, the ``runtime`` that
    runs it, and what people call such a file (``description``)."""

    name: str
    suffix: str
    kind: int
    runtime: str
    description: str


FORMATS = (
    Format("onnx", ".onnx", pb.ARTIFACT_KIND_ONNX, "onnxruntime", "ONNX model"),
    Format("tflite", ".tflite", pb.ARTIFACT_KIND_TFLITE, "litert", "TFLite model"),
)
FORMAT_NAMES = tuple(f.name for f in FORMATS)
RUNTIMES = tuple(f.runtime for f in FORMATS)


def format_named(name: str) -> Format:
    """The format called `name` (``onnx`` or ``tflite``)."""
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise InvalidArgument(f"unknown model format {name!r}; expected one of {list(FORMAT_NAMES)}")


def format_of_runtime(runtime: str) -> Format:
    """The format the runtime `runtime` (``onnxruntime`` or ``litert``) runs."""
    for fmt in FORMATS:
        if fmt.runtime == runtime:
            return fmt
    raise InvalidArgument(f"unknown runtime {runtime!r}; expected one of {list(RUNTIMES)}")
