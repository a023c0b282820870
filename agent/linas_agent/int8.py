"""Which int8 schemes each runtime's providers run with integer kernels, found out on this
install rather than assumed from a version number (a build may lack a provider's kernels, an
older LiteRT's XNNPACK may not take int8).

- onnxruntime: its kernel registry. A provider with QLinearConv and QLinearMatMul kernels runs
  "static" int8 (a QOperator model uses them as they are; the CPU provider fuses a QDQ model's
  DequantizeLinear-op-QuantizeLinear groups into them); one with DynamicQuantizeLinear and
  MatMulInteger runs "dynamic". A provider that compiles graphs instead of registering kernels
  (TensorRT, OpenVINO...) is not stated.
- LiteRT: the bundled tiny MLP, quantized, run once. XNNPACK runs "static" when its delegate
  takes the full-integer model's nodes (when it does not, the built-in kernels run them); CPU
  (the built-in kernels, whose int8 and hybrid kernels compute in integers) runs "static" and
  "dynamic" when the full-integer and the dynamic-range model run. XNNPACK's "dynamic" is not
  stated: it may compute a layer with int8 weights in float.

Run in the warm worker before it freezes its heap, so no session outlives it.
"""

from __future__ import annotations

import dataclasses
import importlib
from importlib.resources import files

from linas_sdk.errors import LinasError
from linas_sdk.measurement import RuntimeInfo
from linas_sdk.runtimes import Runtime, Session, random_inputs

ORT_KERNELS = {
    "static": {"QLinearConv", "QLinearMatMul"},
    "dynamic": {"DynamicQuantizeLinear", "MatMulInteger"},
}
"""The kernels an onnxruntime provider needs for each scheme."""
LITERT_PROBES = {"static": "tiny_mlp_int8.tflite", "dynamic": "tiny_mlp_dynamic.tflite"}
"""The bundled model of each scheme (tests/agent/models/make_models.py)."""


def runtime_info(runtime: Runtime) -> RuntimeInfo:
    """`runtime.info()` with the int8 schemes of its providers."""
    find = {"onnxruntime": _onnxruntime, "litert": _litert}[runtime.name]
    return dataclasses.replace(runtime.info(), int8=find(runtime))


def _onnxruntime(runtime: Runtime) -> dict[str, tuple[str, ...]]:
    state = importlib.import_module(f"{runtime.module.__name__}.capi._pybind_state")
    registry = getattr(state, "get_all_opkernel_def", None)
    if registry is None:  # a minimal build
        return {}
    kernels: dict[str, set[str]] = {}
    for kernel in registry():
        kernels.setdefault(kernel.provider, set()).add(kernel.op_name)
    return {
        provider: tuple(s for s, needs in ORT_KERNELS.items() if needs <= kernels[provider])
        for provider in runtime.info().providers
        if provider in kernels
    }


def _litert(runtime: Runtime) -> dict[str, tuple[str, ...]]:
    int8: dict[str, tuple[str, ...]] = {}
    full = _ran(runtime, LITERT_PROBES["static"], "XNNPACK")
    delegated = None if full is None else full.delegated()  # None: this interpreter cannot say
    if delegated is not None:
        int8["XNNPACK"] = ("static",) if delegated else ()
    cpu = tuple(s for s, model in LITERT_PROBES.items() if _ran(runtime, model, "CPU") is not None)
    if cpu:  # none ran: the probes, not int8, may be what this build cannot load
        int8["CPU"] = cpu
    return int8


def _ran(runtime: Runtime, model: str, provider: str) -> Session | None:
    """The bundled `model`, loaded on `provider` and run once; None when it would not run."""
    data = files("linas_agent.examples").joinpath(model).read_bytes()
    try:
        session = runtime.load(data, provider=provider, options={}, threads=1, inputs=())
        session.set_inputs(random_inputs(session.inputs))
        session.invoke()
    except (LinasError, RuntimeError, ValueError):
        return None
    return session
