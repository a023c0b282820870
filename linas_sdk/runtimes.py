"""Inference runtimes behind one small interface: ONNX Runtime and LiteRT (TFLite).

A `Runtime` loads a model file (a path, or the file's bytes) into a `Session`. A session knows
the input specs it will be fed (the model's own, with dynamic dimensions set from the request
or to 1) and the scale and zero point of its quantized inputs and outputs, times `invoke()` on
inputs set once, and `run()`s a batch for validation. The agent's warm worker imports the
runtimes once, so a forked model process never pays for the import; the host loads the same
classes to score an exported file (`linas_sdk.scoring`), so both sides run a file alike.
"""

from __future__ import annotations

import abc
import functools
import importlib
import math
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType

import numpy as np

from linas_sdk.errors import InvalidArgument, ModelError
from linas_sdk.measurement import RuntimeInfo, TensorSpec

ONNX_DTYPES = {
    "tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64",
    "tensor(int8)": "int8", "tensor(int16)": "int16", "tensor(int32)": "int32",
    "tensor(int64)": "int64", "tensor(uint8)": "uint8", "tensor(uint16)": "uint16",
    "tensor(uint32)": "uint32", "tensor(uint64)": "uint64", "tensor(bool)": "bool",
}  # fmt: skip


Model = Path | bytes
"""A model file by its path, or its bytes."""


class Session(abc.ABC):
    """A loaded model. Subclasses fill `model_inputs` (as the model declares them, -1 for a
    dynamic dimension), `inputs` (as they will be fed), `output_names`, `provider` (the
    provider or delegate that runs it) and, for quantized tensors, their (scale, zero point):
    `input_quantization` by input name, `output_quantization` by output position."""

    provider: str
    model_inputs: list[TensorSpec]
    inputs: list[TensorSpec]
    output_names: list[str]
    input_quantization: dict[str, tuple[float, int]]
    output_quantization: dict[int, tuple[float, int]]

    @abc.abstractmethod
    def set_inputs(self, feeds: Mapping[str, np.ndarray]) -> None:
        """Fix the inputs that `invoke()` will run on."""

    @abc.abstractmethod
    def invoke(self) -> None:
        """One inference on the inputs set last: the call that is timed."""

    @abc.abstractmethod
    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """One inference on `feeds`, returning every output."""


class Runtime(abc.ABC):
    """One inference runtime; `load` turns a model file into a Session."""

    name: str
    module: ModuleType

    @abc.abstractmethod
    def info(self) -> RuntimeInfo:
        """The runtime's version and the providers or delegates it offers here (read once:
        looking up package metadata takes milliseconds)."""

    @abc.abstractmethod
    def load(self, model: Model, *, provider: str, options: Mapping[str, str], threads: int,
             inputs: Sequence[TensorSpec]) -> Session:  # fmt: skip
        """Load a model file with `provider` (as `choose_provider` names it) and its options;
        ModelError when it cannot be loaded."""


ORT_SUFFIX = "ExecutionProvider"


def choose_provider(info: RuntimeInfo, provider: str) -> str:
    """The provider or delegate of `info` that `provider` names ("" = the first, the CPU
    default; onnxruntime's also without their "ExecutionProvider" suffix, e.g. "CUDA").
    ModelError, naming those there are, when the device has none such."""
    if not provider:
        return info.providers[0]
    for name in (provider, provider + ORT_SUFFIX if info.name == "onnxruntime" else provider):
        if name in info.providers:
            return name
    raise ModelError(
        f"{info.name} on this device has no provider or delegate {provider!r}; "
        f"available: {list(info.providers)}"
    )


MAX_INPUT_BYTES = 1 << 30
"""Largest input tensor the agent makes up (1 GiB)."""


def resolve_inputs(
    model: Sequence[TensorSpec], requested: Sequence[TensorSpec]
) -> list[TensorSpec]:
    """The model's inputs with the shapes the request asks for; unknown dims become 1.

    `model` marks a dynamic dimension with -1. A requested shape must have the model's rank,
    agree with its fixed dimensions, and stay under MAX_INPUT_BYTES.
    """
    by_name = {spec.name: spec for spec in requested}
    names = {spec.name for spec in model}
    unknown = sorted(set(by_name) - names)
    if unknown:
        raise InvalidArgument(f"the model has no inputs {unknown}; its inputs are {sorted(names)}")
    resolved = []
    for spec in model:
        asked = by_name.get(spec.name)
        if asked is None:
            shape = tuple(d if d > 0 else 1 for d in spec.shape)
        else:
            fits = len(asked.shape) == len(spec.shape) and all(
                a > 0 and (m <= 0 or a == m) for a, m in zip(asked.shape, spec.shape, strict=True)
            )
            if not fits:
                raise InvalidArgument(
                    f"input {spec.name!r} cannot take shape {list(asked.shape)}; the model "
                    f"expects {list(spec.shape)} (-1 = any size)"
                )
            shape = asked.shape
        size = math.prod(shape) * np.dtype(spec.dtype).itemsize
        if size > MAX_INPUT_BYTES:
            raise InvalidArgument(
                f"input {spec.name!r} of shape {list(shape)} would take {size} bytes; the agent "
                f"makes up inputs of at most {MAX_INPUT_BYTES} bytes"
            )
        resolved.append(TensorSpec(spec.name, shape, spec.dtype))
    return resolved


NORMALS_KEPT = 1 << 20
"""How many values of a seed's standard normal stream `random_inputs` keeps (8 MiB): the warm
worker draws them once, and every model process it forks slices them instead of drawing its
inputs again (~5 ms for a 768x512 input, paid per candidate)."""


@functools.lru_cache(maxsize=1)
def normal_stream(seed: int = 0) -> np.ndarray:
    """The first NORMALS_KEPT values a generator seeded with `seed` draws (read-only)."""
    values = np.random.default_rng(seed).standard_normal(NORMALS_KEPT)
    values.flags.writeable = False
    return values


def random_inputs(specs: Sequence[TensorSpec], seed: int = 0) -> dict[str, np.ndarray]:
    """Latency inputs: standard normal floats, drawn in order from one generator seeded with
    `seed` (the same values whether or not they come from the kept stream); zeros for
    integers (safe as indices)."""
    floats = [s for s in specs if np.dtype(s.dtype).kind == "f"]
    kept = sum(math.prod(s.shape) for s in floats) <= NORMALS_KEPT
    rng = None if kept else np.random.default_rng(seed)
    feeds, offset = {}, 0
    for spec in specs:
        dtype = np.dtype(spec.dtype)
        if dtype.kind != "f":
            feeds[spec.name] = np.zeros(spec.shape, dtype=dtype)
        elif rng is not None:
            feeds[spec.name] = rng.standard_normal(spec.shape).astype(dtype)
        else:
            count = math.prod(spec.shape)
            values = normal_stream(seed)[offset : offset + count]
            feeds[spec.name] = values.astype(dtype).reshape(spec.shape)
            offset += count
    return feeds


def _package_version(module: ModuleType, *distributions: str) -> str:
    for dist in distributions:
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return str(getattr(module, "__version__", ""))


# -- ONNX Runtime -----------------------------------------------------------------------------


class OnnxSession(Session):
    def __init__(self, ort: ModuleType, model: Model, provider: str,
                 provider_options: Mapping[str, str], threads: int,
                 requested: Sequence[TensorSpec]) -> None:  # fmt: skip
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            # TensorRT hands what it cannot run to CUDA; onnxruntime adds the CPU fallback itself.
            chain = [(provider, dict(provider_options))] + (
                ["CUDAExecutionProvider"] if provider.startswith("Tensorrt") else [])  # fmt: skip
            source = model if isinstance(model, bytes) else str(model)
            self._session = ort.InferenceSession(source, options, providers=chain)
        except Exception as error:  # onnxruntime raises its own classes for bad models
            raise ModelError(f"onnxruntime could not load the model: {error}") from error
        model = []
        for arg in self._session.get_inputs():
            if arg.type not in ONNX_DTYPES:
                raise ModelError(f"input {arg.name!r} has type {arg.type}, which cannot be fed")
            dims = tuple(d if isinstance(d, int) and d > 0 else -1 for d in arg.shape)
            model.append(TensorSpec(arg.name, dims, ONNX_DTYPES[arg.type]))
        self.provider = self._session.get_providers()[0]  # CPU when the provider failed
        self.model_inputs = model
        self.inputs = resolve_inputs(model, requested)
        self.output_names = [o.name for o in self._session.get_outputs()]
        # a QDQ model keeps float inputs and outputs; integer ones carry no scale in ONNX
        self.input_quantization, self.output_quantization = {}, {}
        self._feeds: Mapping[str, np.ndarray] = {}

    def set_inputs(self, feeds: Mapping[str, np.ndarray]) -> None:
        self._feeds = dict(feeds)

    def invoke(self) -> None:
        self._session.run(None, self._feeds)

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return self._session.run(None, dict(feeds))


class OnnxRuntime(Runtime):
    name = "onnxruntime"

    def __init__(self) -> None:
        self.module = importlib.import_module("onnxruntime")
        self._info = self._read_info()

    def info(self) -> RuntimeInfo:
        return self._info

    def _read_info(self) -> RuntimeInfo:
        providers = self.module.get_available_providers()
        # CPU first: it is the default; Azure is a remote-call provider, not a device.
        ordered = ["CPUExecutionProvider"] + [
            p for p in providers if p not in ("CPUExecutionProvider", "AzureExecutionProvider")
        ]
        return RuntimeInfo(
            self.name,
            _package_version(self.module, "onnxruntime", "onnxruntime-gpu"),
            tuple(ordered),
            "onnxruntime",
        )

    def load(self, model, *, provider, options, threads, inputs):
        return OnnxSession(self.module, model, provider, options, threads, inputs)


# -- LiteRT / TFLite --------------------------------------------------------------------------

LITERT_MODULES = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter")
"""Where the interpreter comes from, in order of preference."""


class LiteRtSession(Session):
    def __init__(self, interpreter_cls, resolver, model: Model, threads: int,
                 requested: Sequence[TensorSpec]) -> None:  # fmt: skip
        source = {"model_content": model} if isinstance(model, bytes) else {
            "model_path": str(model)}
        try:
            self._interp = interpreter_cls(
                **source,
                num_threads=threads or None,
                experimental_op_resolver_type=resolver,
            )
            details = self._interp.get_input_details()
            model = [
                TensorSpec(
                    d["name"],
                    tuple(int(x) for x in d.get("shape_signature", d["shape"])),
                    np.dtype(d["dtype"]).name,
                )
                for d in details
            ]
            self.model_inputs = model
            self.inputs = resolve_inputs(model, requested)
            for d, spec in zip(details, self.inputs, strict=True):
                if tuple(d["shape"]) != spec.shape:
                    self._interp.resize_tensor_input(d["index"], list(spec.shape))
            self._interp.allocate_tensors()
        except InvalidArgument:
            raise
        except Exception as error:  # the interpreter raises ValueError/RuntimeError
            raise ModelError(f"LiteRT could not load the model: {error}") from error
        ins = self._interp.get_input_details()
        self._in = {d["name"]: d["index"] for d in ins}
        outs = self._interp.get_output_details()
        self._out = [d["index"] for d in outs]
        self.output_names = [d["name"] for d in outs]
        self.input_quantization = {d["name"]: q for d in ins if (q := _quantization(d))}
        self.output_quantization = {i: q for i, d in enumerate(outs) if (q := _quantization(d))}

    def delegated(self) -> bool | None:
        """Whether a delegate took nodes of the graph (DELEGATE nodes in the interpreter's
        execution plan); None when this interpreter cannot say."""
        ops = getattr(self._interp, "_get_ops_details", None)  # in LiteRT and tflite-runtime
        return None if ops is None else any(op["op_name"] == "DELEGATE" for op in ops())

    def set_inputs(self, feeds: Mapping[str, np.ndarray]) -> None:
        for name, array in feeds.items():
            self._interp.set_tensor(self._in[name], array)

    def invoke(self) -> None:
        self._interp.invoke()

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        for name, array in feeds.items():
            if tuple(array.shape) != tuple(self._interp.get_tensor(self._in[name]).shape):
                self._interp.resize_tensor_input(self._in[name], list(array.shape))
                self._interp.allocate_tensors()
        self.set_inputs(feeds)
        self._interp.invoke()
        return [self._interp.get_tensor(i).copy() for i in self._out]


def _quantization(detail: Mapping) -> tuple[float, int] | None:
    """A TFLite tensor's (scale, zero point) when it is quantized (an integer tensor with a
    scale), else None."""
    scale, zero_point = detail.get("quantization", (0.0, 0))
    if scale and np.dtype(detail["dtype"]).kind in "iu":
        return float(scale), int(zero_point)
    return None


class LiteRt(Runtime):
    """LiteRT. Provider "XNNPACK" (the default) runs with the XNNPACK delegate the interpreter
    applies by default, on the request's threads; "CPU" runs the built-in kernels without
    default delegates. A session's provider is read back from the interpreter: XNNPACK only
    if the delegate took nodes of the graph. The GPU delegate is not in LiteRT's pip wheels,
    so it is not offered."""

    name = "litert"

    def __init__(self) -> None:
        errors = []
        for name in LITERT_MODULES:
            try:
                self.module = importlib.import_module(name)
                break
            except ImportError as error:
                errors.append(f"{name}: {error}")
        else:
            raise ImportError("; ".join(errors))
        self._info = self._read_info()

    def info(self) -> RuntimeInfo:
        return self._info

    def _read_info(self) -> RuntimeInfo:
        package = self.module.__name__.split(".")[0]
        dist = "ai-edge-litert" if package == "ai_edge_litert" else "tflite-runtime"
        top = importlib.import_module(package)
        return RuntimeInfo(
            self.name, _package_version(top, dist), ("XNNPACK", "CPU"), self.module.__name__
        )

    def load(self, model, *, provider, options, threads, inputs):
        if options:
            raise InvalidArgument(
                f"LiteRT's {provider} takes no provider_options, got {sorted(options)}; "
                "XNNPACK's thread count is the request's threads"
            )
        kinds = self.module.OpResolverType
        resolver = kinds.AUTO if provider == "XNNPACK" else kinds.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        session = LiteRtSession(self.module.Interpreter, resolver, model, threads, inputs)
        # The one that ran, as onnxruntime's sessions say: XNNPACK only if it took nodes.
        delegated = session.delegated()
        session.provider = provider if delegated is None else "XNNPACK" if delegated else "CPU"
        return session


RUNTIMES = {cls.name: cls for cls in (OnnxRuntime, LiteRt)}
"""Every runtime the agent knows, by the name a request uses (`linas_sdk.formats`' names)."""


def load_runtimes() -> tuple[dict[str, Runtime], dict[str, str]]:
    """The runtimes importable here, and why each of the others is not."""
    loaded, missing = {}, {}
    for name, cls in RUNTIMES.items():
        try:
            loaded[name] = cls()
        except ImportError as error:
            missing[name] = str(error)
    return loaded, missing
