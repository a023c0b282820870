"""Which int8 schemes each runtime's providers run with integer kernels, found out on this
install by running the bundled tiny MLP quantized both ways ("static": full integer, ONNX QDQ;
"dynamic": int8 weights, activations quantized as it runs), rather than assumed from a version
number: a build may lack kernels, and an older LiteRT's XNNPACK does not take int8.

- onnxruntime, CPU provider: the session's profile names the kernels that ran. A scheme counts
  when the MLP's layers ran as integer kernels (QGemm, DynamicQuantizeMatMul...), not as float
  Gemm or MatMul between DequantizeLinear and QuantizeLinear. Other providers are not probed:
  the worker must not initialise a GPU before it forks its model processes.
- LiteRT: XNNPACK runs "static" when its delegate takes the full-integer model's nodes (else
  the built-in kernels run them); CPU, the built-in kernels, whose int8 and hybrid kernels
  compute in integers, runs each scheme whose model runs. XNNPACK's "dynamic" is not claimed:
  it may compute a layer with int8 weights in float.

A probe that does not run leaves its provider out (not known), never "no int8". Run in the warm
worker before it freezes its heap, so no session outlives it.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from importlib.resources import files
from pathlib import Path

import numpy as np

from linas_sdk.errors import LinasError
from linas_sdk.formats import format_of_runtime
from linas_sdk.measurement import RuntimeInfo
from linas_sdk.runtimes import Runtime, Session, random_inputs

PROBES = {"static": "tiny_mlp_int8", "dynamic": "tiny_mlp_dynamic"}
"""The bundled quantized MLP of each scheme, without its format's suffix (made by
tests/agent/models/make_models.py)."""
FLOAT_LAYERS = {"Gemm", "FusedGemm", "MatMul", "FusedMatMul"}
"""The onnxruntime kernels the MLP's layers run as when they run in float."""


def runtime_info(runtime: Runtime) -> RuntimeInfo:
    """`runtime.info()` with the int8 schemes of its providers."""
    find = {"onnxruntime": _onnxruntime, "litert": _litert}[runtime.name]
    return dataclasses.replace(runtime.info(), int8=find(runtime))


def _probe(runtime: Runtime, scheme: str) -> bytes:
    name = PROBES[scheme] + format_of_runtime(runtime.name).suffix
    return files("linas_agent.examples").joinpath(name).read_bytes()


def _onnxruntime(runtime: Runtime) -> dict[str, tuple[str, ...]]:
    ran = {scheme: _kernels_run(runtime, _probe(runtime, scheme)) for scheme in PROBES}
    if all(kernels is None for kernels in ran.values()):
        return {}
    integer = tuple(s for s, kernels in ran.items() if kernels and not kernels & FLOAT_LAYERS)
    return {"CPUExecutionProvider": integer}


def _kernels_run(runtime: Runtime, model: bytes) -> set[str] | None:
    """The kernels onnxruntime's CPU provider ran for the bundled MLP `model`, read from the
    session's profile; None when it did not run."""
    ort = runtime.module
    with tempfile.TemporaryDirectory(prefix="linas-int8-") as folder:
        options = ort.SessionOptions()
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(folder) / "probe")
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
            session.run(None, {"x": np.zeros((1, 16), np.float32)})
            events = json.loads(Path(session.end_profiling()).read_text())
        except Exception:  # onnxruntime raises its own classes
            return None
    return {e["args"]["op_name"] for e in events if e.get("cat") == "Node"}


def _litert(runtime: Runtime) -> dict[str, tuple[str, ...]]:
    int8: dict[str, tuple[str, ...]] = {}
    full = _ran(runtime, _probe(runtime, "static"), "XNNPACK")
    delegated = None if full is None else full.delegated()  # None: this interpreter cannot say
    if delegated is not None:
        int8["XNNPACK"] = ("static",) if delegated else ()
    cpu = tuple(s for s in PROBES if _ran(runtime, _probe(runtime, s), "CPU") is not None)
    if cpu:  # none ran: the probes, not int8, may be what this build cannot load
        int8["CPU"] = cpu
    return int8


def _ran(runtime: Runtime, model: bytes, provider: str) -> Session | None:
    """`model` loaded on `provider` and run once; None when it would not run."""
    try:
        session = runtime.load(model, provider=provider, options={}, threads=1, inputs=())
        session.set_inputs(random_inputs(session.inputs))
        session.invoke()
    except (LinasError, RuntimeError, ValueError):
        return None
    return session
