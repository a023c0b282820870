"""The elastic Transformer supernet (HAT's space) on the English -> German numbers corpus, or on
a user's own parallel corpus, as a `linas_host.supernets.protocol.Supernet`.

`load()` is the registry's factory for ``transformer`` (``variant: hat`` loads HAT's published
SuperTransformers instead: `hat`): it reads the committed demo weights (or
the file given) after checking their sha256, and scores on the validation pair given (default:
the bundled corpus's validation split, or the pair the weights were trained with).
`extract(config)` returns a `SubTransformer`: a standalone network built at the sub-network's
sizes with its weights sliced out of the shared ones. Called on source ids, it runs the
exported workload (`steps` tokens encoded, `steps` tokens decoded greedily, unrolled);
`translate` decodes on the host with greedy or beam search.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from linas_host.supernets import weights as weight_files
from linas_host.supernets.profile import count_params
from linas_host.supernets.transformer import corpus as phrases
from linas_host.supernets.transformer import hat, parallel
from linas_host.supernets.transformer.bleu import bleu, bleu_of_ids, source_ids
from linas_host.supernets.transformer.cost import workload_macs
from linas_host.supernets.transformer.decode import beam, greedy, unrolled_greedy
from linas_host.supernets.transformer.hat import HatSupernet
from linas_host.supernets.transformer.layers import Arch, LayerMemory, TransformerNet
from linas_host.supernets.transformer.onnx import unrolled_greedy_onnx
from linas_host.supernets.transformer.space import arch_of, transformer_space
from linas_host.supernets.transformer.vocab import (
    SentencePieceVocabulary,
    Vocabulary,
    from_manifest,
)
from linas_sdk.errors import InvalidArgument

DEFAULT_WEIGHTS = weight_files.PACKAGED / "transformer.pt"
HAT_OPTIONS = set(inspect.signature(hat.load).parameters) - {"valid"}
STAGE_OPERATORS = {
    # ONNX: the encoder's trace (which also projects the decoder layers' cross-attention keys
    # and values, once per sentence), then the decoding steps, named step/ and stepN/.
    "onnx": {"encoder": "^(?!step)", "decoder": "^step"},
    # TFLite: the encoder layers and the encoder's norm (the keys and values are fused into
    # its output's name), then the decoder layers; an op named by no layer (an embedding, the
    # output projection) joins the stage of the next layer, the decoder after the last one.
    "tflite": {"encoder": r"^[^/;]+/[^/;]*(?:EncoderLayer_\d+|_encoder_norm)[/;]",
               "decoder": r"^[^/;]+/[^/;]*DecoderLayer_\d+[/;]"},
}
"""The encoder's and the decoder's operators in an exported file, for `precision: mixed`."""
BPE_MERGES = 400  # sentences of at most 11 pieces; German numbers split into morphemes

# The demo member that trains on 2 CPU cores in minutes: HAT's 6 + 6 layers and 40 variables,
# with every width scaled down (HAT: embed 512/640, FFN 1024/2048/3072, 4/8 heads of 64 dims)
# and a third, smaller embedding width and head count, so the small end is really small.
DEMO_OPTIONS: dict[str, Any] = {
    "encoder_layers": 6,
    "decoder_layers": (1, 2, 3, 4, 5, 6),
    "embed": (32, 64, 128),
    "ffn": (128, 256, 384),
    "heads": (1, 2, 4),
    "ende": (1, 2, 3),
    "head_dim": 16,
    "steps": 12,  # N of the exported workload: the longest sentence (11 pieces) and EOS
}


class SubTransformer(nn.Module):
    """One sub-network: `TransformerNet` run at a fixed `Arch`.

    `forward(src)` is the exported workload and returns `(tokens, scores)`; `encode`/`decode`
    serve the host-side decoders (`translate`).
    """

    def __init__(self, net: TransformerNet, arch: Arch, steps: int):
        super().__init__()
        self.net, self.arch, self.steps = net, arch, steps

    def encode(self, src: torch.Tensor) -> list[LayerMemory]:
        return self.net.encode(src, self.arch)

    def decode(
        self, tgt: torch.Tensor, memory: Sequence[LayerMemory], last: bool = False
    ) -> torch.Tensor:
        return self.net.decode(tgt, memory, self.arch, last)

    def forward(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # The agent times a model on random inputs: keep any id inside the vocabulary.
        return unrolled_greedy(self, src.clamp(0, self.net.vocab_size - 1), self.steps)

    def onnx_model(
        self, example_inputs: tuple[torch.Tensor, ...], *, input_names: Sequence[str],
        output_names: Sequence[str] | None, dynamic_batch: bool, opset: int,
    ) -> onnx.ModelProto:  # fmt: skip
        """`forward`'s workload as ONNX, built from one trace of the encoder and one of a
        decoder step (`translation_onnx`); `linas_host.export.export_onnx` calls this.
        Outputs are named ``tokens`` and ``scores`` unless `output_names` says otherwise."""
        return unrolled_greedy_onnx(
            self, example_inputs[0], steps=self.steps, vocab_size=self.net.vocab_size,
            input_names=input_names, output_names=output_names or ("tokens", "scores"),
            dynamic_batch=dynamic_batch, opset=opset,
        )  # fmt: skip

    def translate(
        self, src: torch.Tensor, *, beam_size: int = 1, length_penalty: float = 1.0
    ) -> torch.Tensor:
        """Output ids (batch, <= steps) by greedy search (`beam_size` 1) or beam search."""
        if beam_size == 1:
            return greedy(self, src, self.steps)
        return beam(self, src, self.steps, size=beam_size, length_penalty=length_penalty)


class TransformerSupernet:
    """Elastic encoder-decoder Transformer over HAT's space (40 variables at 6 + 6 layers)."""

    name = "transformer"
    input_names = ("src",)
    output_names = ("tokens", "scores")
    precision_stages = ("encoder", "decoder")

    def __init__(
        self, vocab: Vocabulary | SentencePieceVocabulary, options: Mapping[str, Any], *,
        corpus: Path | Mapping[str, list[phrases.Pair]] | None = None,
    ) -> None:  # fmt: skip
        """`corpus`: the splits themselves (a user's), or a bundled-format file read when first
        needed (default: the numbers corpus)."""
        self.vocab, self.options = vocab, dict(options)
        o = self.options
        self.steps = int(o["steps"])
        self.space = transformer_space(
            o["encoder_layers"], o["decoder_layers"], o["embed"], o["ffn"], o["heads"], o["ende"]
        )
        largest = arch_of(self.space, self.largest)
        self.net = TransformerNet(len(vocab), **_sizes(largest), head_dim=o["head_dim"],
                                  max_len=self.steps)  # fmt: skip
        self.net.eval()
        self.corpus_path = (
            None if isinstance(corpus, Mapping) else Path(corpus or phrases.CORPUS_PATH)
        )
        self._corpus = dict(corpus) if isinstance(corpus, Mapping) else None

    @property
    def smallest(self) -> dict:
        return self.space.extreme(largest=False)

    @property
    def largest(self) -> dict:
        return self.space.extreme(largest=True)

    def arch(self, config: Mapping) -> Arch:
        return arch_of(self.space, config)

    def at(self, config: Mapping) -> SubTransformer:
        """The sub-network `config` running on the supernet's shared weights (for training)."""
        return SubTransformer(self.net, self.arch(config), self.steps)

    def extract(self, config: Mapping) -> SubTransformer:
        """The sub-network `config` as a standalone module with its sliced weights, eval mode."""
        arch = self.arch(config)
        net = TransformerNet(self.net.vocab_size, **_sizes(arch), head_dim=self.net.head_dim,
                             max_len=self.steps)  # fmt: skip
        shared = self.net.state_dict()
        with torch.no_grad():
            for name, tensor in net.state_dict().items():
                tensor.copy_(shared[name][tuple(slice(0, n) for n in tensor.shape)])
        return SubTransformer(net, arch, self.steps).eval()

    # -- data -------------------------------------------------------------------------------

    def corpus(self) -> dict[str, list[phrases.Pair]]:
        if self._corpus is None:
            self._corpus = phrases.load(self.corpus_path)
        return self._corpus

    def validation(self, limit: int | None = None) -> tuple[torch.Tensor, list[str]]:
        """Source ids (n, steps) of the validation set and their reference translations."""
        pairs = self.corpus()["valid"][:limit]
        return source_ids(self.vocab, pairs, self.steps), [p.target for p in pairs]

    def validation_arrays(
        self, limit: int | None = None, config: Mapping | None = None
    ) -> dict[str, np.ndarray]:
        """The validation sources for a ``.npz`` (input "src"; every sub-network takes the same
        shape); the references stay on the host, which scores the returned `tokens` with
        `score_outputs`."""
        return {self.input_names[0]: self.validation(limit)[0].numpy()}

    def score_outputs(self, tokens: np.ndarray, limit: int | None = None) -> dict[str, float]:
        """BLEU of the `tokens` output over the validation set (as `validation_arrays` gave)."""
        return {"bleu": bleu_of_ids(self.vocab, np.asarray(tokens), self.validation(limit)[1])}

    def example_input(self, config: Mapping | None = None) -> tuple[torch.Tensor, ...]:
        """One validation sentence padded to `steps` tokens: every sub-network takes this shape."""
        return (self.validation(1)[0],)

    # -- protocol ---------------------------------------------------------------------------

    def evaluate(
        self, module: nn.Module, *, limit: int | None = None, beam_size: int = 1,
        length_penalty: float = 1.0, batch_size: int = 200,
    ) -> dict[str, float]:  # fmt: skip
        """BLEU (0-100) of `module`'s translations of the validation set."""
        src, references = self.validation(limit)
        module.eval()
        hypotheses = []
        for start in range(0, len(src), batch_size):
            ids = module.translate(
                src[start : start + batch_size], beam_size=beam_size, length_penalty=length_penalty
            )
            hypotheses += [self.vocab.decode(row) for row in ids.tolist()]
        return {"bleu": bleu(hypotheses, references)}

    def macs(self, config: Mapping) -> int:
        """Multiply-accumulates of the exported workload (`transformer_cost`)."""
        return workload_macs(
            self.arch(config), steps=self.steps, vocab_size=self.net.vocab_size,
            head_dim=self.net.head_dim,
        )  # fmt: skip

    def params(self, config: Mapping) -> int:
        """Parameters of the extracted sub-network, counted on a shape-only copy."""
        with torch.device("meta"):
            net = TransformerNet(self.net.vocab_size, **_sizes(self.arch(config)),
                                 head_dim=self.net.head_dim, max_len=self.steps)  # fmt: skip
        return count_params(net)

    def stage_operators(self, config: Mapping, fmt: str) -> dict[str, str]:
        """Encoder and decoder -> patterns of their operators (`precision: mixed`)."""
        return dict(STAGE_OPERATORS[fmt])

    def state(self) -> dict[str, torch.Tensor]:
        return self.net.state_dict()

    def manifest(self) -> dict[str, Any]:
        """What `load` rebuilds the supernet from (besides the weights)."""
        options = {k: list(v) if isinstance(v, tuple) else v for k, v in self.options.items()}
        return {"supernet": self.name, "options": options, "vocab": self.vocab.to_dict()}


def _sizes(arch: Arch) -> dict[str, Any]:
    """TransformerNet's size keywords for `arch`."""
    return {
        "encoder_embed": arch.encoder_embed,
        "encoder_ffn": arch.encoder_ffn,
        "encoder_heads": arch.encoder_heads,
        "decoder_embed": arch.decoder_embed,
        "decoder_ffn": arch.decoder_ffn,
        "decoder_self_heads": arch.decoder_self_heads,
        "decoder_cross_heads": arch.decoder_cross_heads,
    }


def learn_vocab(corpus: Mapping[str, list[phrases.Pair]]) -> Vocabulary:
    """The shared BPE vocabulary, learned from the training split of both languages."""
    train = corpus["train"]
    return Vocabulary.learn([p.source for p in train] + [p.target for p in train], BPE_MERGES)


def build(
    options: Mapping[str, Any] | None = None, *,
    vocab: Vocabulary | SentencePieceVocabulary | None = None,
    corpus: Path | Mapping[str, list[phrases.Pair]] | None = None,
) -> TransformerSupernet:  # fmt: skip
    """An untrained supernet (the demo sizes unless `options` says otherwise) on `corpus` (see
    `TransformerSupernet`); without `vocab`, a BPE one is learned from its training split."""
    if vocab is None:
        splits = (
            corpus if isinstance(corpus, Mapping) else phrases.load(corpus or phrases.CORPUS_PATH)
        )
        vocab = learn_vocab(splits)
    return TransformerSupernet(vocab, {**DEMO_OPTIONS, **(options or {})}, corpus=corpus)


def load(
    *, variant: str | None = None, weights: str | Path | None = None,
    valid: Sequence[str | Path] | None = None, **hat_options: Any,
) -> TransformerSupernet | HatSupernet:  # fmt: skip
    """The trained supernet from `weights` (default: the committed demo weights), after
    verifying the file's sha256 (and its SentencePiece vocabulary's) against its manifest.
    Weights may be stored in half precision; they are loaded into float32.

    `valid` is the validation pair ``[SOURCE, TARGET]`` (text files, one sentence a line) the
    search scores BLEU on; by default, the pair the weights were trained with, else the bundled
    corpus's validation split.

    ``variant="hat"`` loads one of HAT's published SuperTransformers instead, with
    `hat_options` (``checkpoint``, ``dictionary``, ``bpe_codes``, ...: `hat.load`)."""
    if variant == "hat":
        if weights is not None:
            raise InvalidArgument("variant hat reads 'checkpoint', not 'weights'")
        unknown = sorted(set(hat_options) - HAT_OPTIONS)
        if unknown:
            raise InvalidArgument(
                f"unknown option(s) {', '.join(unknown)} of variant hat: expected "
                f"{', '.join(sorted(HAT_OPTIONS | {'valid'}))}"
            )
        return hat.load(valid=valid, **hat_options)
    if variant is not None or hat_options:
        raise InvalidArgument(
            f"variant {variant!r} and options {sorted(hat_options)}: expected no variant (the "
            "elastic Transformer: weights, valid) or variant hat (checkpoint, dictionary, "
            "bpe_codes, valid, ...)"
        )
    path = Path(weights) if weights else DEFAULT_WEIGHTS
    state, manifest = weight_files.load(path)
    vocab = from_manifest(manifest["vocab"], path.parent)
    valid = valid if valid is not None else _trained_valid(manifest)
    corpus = None
    if valid is not None:
        if isinstance(valid, (str, Path)) or len(valid) != 2:
            raise InvalidArgument(f"valid is {valid!r}; expected two text files, [SOURCE, TARGET]")
        corpus = {"valid": parallel.read(*valid).pairs}
    supernet = TransformerSupernet(vocab, manifest["options"], corpus=corpus)
    supernet.net.load_state_dict({k: v.float() for k, v in state.items()})
    return supernet


def _trained_valid(manifest: Mapping[str, Any]) -> list[str] | None:
    """The validation pair a manifest records (weights trained on a user's corpus), if any."""
    recorded = manifest.get("corpus", {}).get("valid")
    return None if recorded is None else [recorded["source"], recorded["target"]]
