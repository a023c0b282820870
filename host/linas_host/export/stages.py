"""Which operators of an exported file belong to which stage of the sub-network, so that
`precision: mixed` can keep some stages in float through the quantizer's own exclusion list.

An operator is named as its quantizer matches it: an ONNX node by its name, a TFLite op by its
scope (its output tensors' names, as ai-edge-quantizer reads them). A supernet gives each stage
a regular expression over those names (`linas_host.supernets.protocol.Staged`); `module_pattern`
writes one for modules of a traced `torch.nn.Module`, in each exporter's naming:

- ONNX (torch's TorchScript exporter): a node is named by the chain of modules whose
  ``forward`` ran it, each by its attribute name, a list index joined to its list's name:
  module ``blocks.3.depth_conv`` gives ``/blocks/blocks.3/depth_conv/Conv``;
- TFLite (litert-torch): the first location of the scope is the root's class, then each
  module as ``<class>_<attribute>``: ``...MobileNetV3/...Sequential_blocks/...InvertedResidual_3/``.

An operator no pattern matches (the forward's own pooling or flatten, an embedding lookup
outside any module's forward) joins the stage of the next operator one matches; one after all
of them (a TFLite output op, named after the graph's output) joins the last stage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from linas_sdk.errors import InvalidArgument


def operator_names(model: bytes, fmt: str) -> list[str]:
    """The operators of the `fmt` file `model`, in the file's order, by the names its
    quantizer matches."""
    if fmt == "onnx":
        import onnx

        return [node.name for node in onnx.load_from_string(model).graph.node]
    if fmt == "tflite":
        from ai_edge_quantizer.utils import tfl_flatbuffer_utils

        graph = tfl_flatbuffer_utils.read_model(model).subgraphs[0]
        return [tfl_flatbuffer_utils.get_op_scope(op, graph.tensors) for op in graph.operators]
    raise InvalidArgument(f"unknown model format {fmt!r}; expected onnx or tflite")


def stage_operators(names: Sequence[str], patterns: Mapping[str, str]) -> dict[str, list[str]]:
    """Each stage of `patterns` (in order) -> the operator names of `names` that are its: those
    its pattern matches (`re.search`; the first stage that matches), and those no pattern
    matches before one of its own (the last stage's, after every matched one)."""
    compiled = {stage: re.compile(pattern) for stage, pattern in patterns.items()}
    if not compiled:
        raise InvalidArgument("a sub-network with mixed precision needs at least one stage")
    owned: dict[str, list[str]] = {stage: [] for stage in compiled}
    current = list(compiled)[-1]
    for name in reversed(names):
        current = next((s for s, p in compiled.items() if p.search(name)), current)
        owned[current].insert(0, name)
    return owned


def module_pattern(paths: Sequence[str], fmt: str) -> str:
    """A regular expression matching the operators of the modules at `paths` (dotted
    `named_modules` names in the exported module) in the `fmt` exporter's naming."""
    if fmt == "onnx":
        return "|".join(f"^/{'/'.join(re.escape(level) for level in _onnx_levels(path))}/"
                        for path in paths)
    if fmt == "tflite":
        return "|".join("^[^/;]+" + "".join(rf"/[^/;]*_{re.escape(a)}" for a in path.split("."))
                        + "[/;]" for path in paths)
    raise InvalidArgument(f"unknown model format {fmt!r}; expected onnx or tflite")


def _onnx_levels(path: str) -> list[str]:
    """The ONNX scope levels of module `path`: each its attribute name, list indices kept
    with the name of their list (``blocks.3`` -> ``blocks``, ``blocks.3``)."""
    atoms = path.split(".")
    return [".".join(atoms[max((j for j in range(i + 1) if not atoms[j].isdigit()), default=0)
                           :i + 1]) for i in range(len(atoms))]
