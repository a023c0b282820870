"""What a supernetwork offers the search: the contract every supernet in linas implements.

LINAS searches the sub-networks of a weight-sharing supernetwork, so a candidate is validated
without training. The search engine, the device evaluator and the CLI only ever speak to a
supernet through this protocol (structural typing: any object with these members qualifies,
no base class to inherit):

- ``name``: a short identifier (``"mobilenetv3"``), used in run journals and file names.
- ``space``: a ``linas_sdk.space.SearchSpace``; configs are plain dicts name -> value and the
  supernet accepts any config ``space.canonical`` returns.
- ``extract(config) -> torch.nn.Module``: a *standalone* module (no reference to the supernet)
  whose weights are sliced out of the shared ones, in eval mode, ready to export; exporting it
  yields a file whose size follows the sub-network. Any calibration the sub-network needs before
  it is scored (batch-norm statistics, say) is done here.
- ``example_input(config) -> tuple[torch.Tensor, ...]``: the positional inputs of one inference,
  as fed to the exporters (``linas_host.export``) and to the timed runs on a board.
- ``input_names`` / ``output_names``: names given to the exported graph's inputs and outputs;
  a validation ``.npz`` stores its inputs under ``input_names`` and its labels under ``"y"``.
- ``evaluate(module, *, limit=None) -> dict[str, float]``: the host-side quality of an extracted
  module on the supernet's own validation data (``{"accuracy": ...}`` in [0, 1] for image
  classification, ``{"bleu": ...}`` for translation); ``limit`` caps the validation samples.
- ``macs(config) -> int`` and ``params(config) -> int``: multiply-accumulates of one inference
  and parameter count of the extracted sub-network, computed without running it on a board.

Optional, for quality measured on the board rather than the host (declared below as
`ScoredOnDevice` and `ScoresOutputs`; callers test for them with ``isinstance``):

- ``validation_arrays(limit=None, config=None) -> dict[str, numpy.ndarray]``: the validation
  inputs under ``input_names`` (and, for top-1 accuracy, the labels under ``"y"``) for the
  sub-network at `config`, written to the ``.npz`` a board scores the exported model on. A
  supernet whose input shape follows the config (a searched resolution) returns the inputs at
  that shape; a search makes one set per input shape.
- ``score_outputs(tokens, limit=None) -> dict[str, float]``: the score (``{"bleu": ...}``) of
  the outputs a board returned for that set, when the references stay on the host.

Optional, for int8 candidates (`Calibrated`): ``calibration_arrays(limit=None, config=None)``,
the inputs of training-side images (never the validation set) for the sub-network at
`config`, which a static quantizer calibrates its activations on. A supernet without it is
quantized dynamically (int8 weights of its matrix products: a Transformer).

Optional, for `precision: mixed` (`Staged`): ``precision_stages``, the names of the stages
that are quantized or kept in float as a whole (``("stem", "stage1", ..., "head")``), and
``stage_operators(config, fmt)``: each of them -> a regular expression matching the names of
its operators in the sub-network's exported `fmt` file (ONNX node names, TFLite op scopes:
`linas_host.export.stages`, whose `module_pattern` writes one for modules of the extracted
network). A search at `precision: mixed` adds a precision gene per stage to the space
(`linas_host.supernets.precision`).

A supernet is made by a *factory*: a callable taking keyword options only and returning the
supernet, loading (or, when asked, training) its weights. ``linas_host.supernets.registry``
maps names to factories (``"mobilenetv3"``, ``"transformer"``, plus any ``"module:factory"``
path or ``linas.supernets`` entry point a user provides); see docs/supernets.md for a plug-in
example.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    import torch

    from linas_sdk.space import SearchSpace

Config = dict[str, Any]


@runtime_checkable
class Supernet(Protocol):
    """A weight-sharing supernetwork whose sub-networks the search explores."""

    name: str
    space: SearchSpace
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]

    def extract(self, config: Config) -> torch.nn.Module:
        """A standalone, calibrated sub-network with sliced weights, in eval mode."""
        ...

    def example_input(self, config: Config) -> tuple[torch.Tensor, ...]:
        """Positional inputs of one inference of the sub-network at `config`."""
        ...

    def evaluate(self, module: torch.nn.Module, *, limit: int | None = None) -> dict[str, float]:
        """Host-side quality of an extracted module on the validation data."""
        ...

    def macs(self, config: Config) -> int:
        """Multiply-accumulates of one inference of the sub-network at `config`."""
        ...

    def params(self, config: Config) -> int:
        """Parameters of the sub-network at `config` (what its exported file holds)."""
        ...


@runtime_checkable
class ScoredOnDevice(Supernet, Protocol):
    """A supernet whose sub-networks a board can score: it gives the validation arrays."""

    def validation_arrays(
        self, limit: int | None = None, config: Config | None = None
    ) -> dict[str, np.ndarray]:
        """Validation inputs by input name (and labels "y") for the sub-network at `config`."""
        ...


@runtime_checkable
class ScoresOutputs(ScoredOnDevice, Protocol):
    """A supernet that scores a board's returned outputs on the host (BLEU of tokens)."""

    def score_outputs(self, tokens: np.ndarray, limit: int | None = None) -> dict[str, float]:
        """The score of `tokens`, the outputs for `validation_arrays(limit)`."""
        ...


@runtime_checkable
class Calibrated(Supernet, Protocol):
    """A supernet whose sub-networks are quantized statically: it gives calibration inputs."""

    def calibration_arrays(
        self, limit: int | None = None, config: Config | None = None
    ) -> dict[str, np.ndarray]:
        """Calibration inputs by input name for the sub-network at `config`."""
        ...


@runtime_checkable
class Staged(Supernet, Protocol):
    """A supernet whose sub-networks can be quantized stage by stage (`precision: mixed`)."""

    precision_stages: tuple[str, ...]

    def stage_operators(self, config: Config, fmt: str) -> dict[str, str]:
        """Each of `precision_stages` -> a regular expression matching its operators' names in
        the `fmt` file of the sub-network at `config`."""
        ...
