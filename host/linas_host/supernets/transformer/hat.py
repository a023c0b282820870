"""``variant: hat`` of the ``transformer`` supernet: HAT's published SuperTransformers, loaded
as they are (`hat_file`), run as HAT's network (`hat_layers`), scored on the user's test set
through HAT's text pipeline (`hat_text`).

`extract(config)` gives a `SubHat`: a standalone `HatNet` at the sub-network's sizes holding
the leading slice of every shared tensor. Called on source ids it runs the exported workload
(`steps` source tokens encoded, `steps` target tokens decoded greedily, unrolled, as the elastic
Transformer's); `log_probs` gives its teacher-forced log-probabilities with fairseq's token
conventions, and `translate` decodes on the host (beam 4, length penalty 0.6 by default: HAT's
``test.sh``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from linas_host.supernets.profile import count_params
from linas_host.supernets.transformer import hat_file, parallel
from linas_host.supernets.transformer.cost import workload_macs
from linas_host.supernets.transformer.decode import Specials, beam, greedy, unrolled_greedy
from linas_host.supernets.transformer.hat_layers import HatNet
from linas_host.supernets.transformer.hat_text import (
    EOS,
    PAD,
    Dictionary,
    TextPipeline,
    sacre_bleu,
    tokenized_bleu,
)
from linas_host.supernets.transformer.layers import Arch, LayerMemory
from linas_host.supernets.transformer.onnx import unrolled_greedy_onnx
from linas_host.supernets.transformer.space import arch_of, transformer_space
from linas_sdk.errors import InvalidArgument

FAIRSEQ = Specials(start=EOS, pad=PAD, eos=EOS)  # fairseq's decoder starts from </s>
BLEU_KINDS = ("tokenized", "sacre")
UNKNOWN_LIMIT = 0.05  # pieces of the test set the dictionary may lack with matching BPE codes


class SubHat(nn.Module):
    """One HAT sub-network, standalone. `forward(src)` is the exported workload."""

    def __init__(self, net: HatNet, steps: int):
        super().__init__()
        self.net, self.steps = net, steps

    def encode(self, src: torch.Tensor) -> list[LayerMemory]:
        return self.net.encode(src)

    def decode(
        self, tgt: torch.Tensor, memory: Sequence[LayerMemory], last: bool = False
    ) -> torch.Tensor:
        return self.net.decode(tgt, memory, last)

    def log_probs(self, src_tokens: torch.Tensor, prev_output_tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced log-probabilities (batch, target length, vocabulary), fairseq's
        conventions: sources end with ``</s>`` and are padded with ``<pad>``, and
        ``prev_output_tokens`` start with ``</s>``."""
        return torch.log_softmax(self.net(src_tokens, prev_output_tokens).float(), dim=-1)

    def forward(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # The agent times a model on random inputs: keep any id inside the vocabulary.
        src = src.clamp(0, self.net.vocab_size - 1)
        return unrolled_greedy(self, src, self.steps, start=FAIRSEQ.start)

    def onnx_model(
        self, example_inputs: tuple[torch.Tensor, ...], *, input_names: Sequence[str],
        output_names: Sequence[str] | None, dynamic_batch: bool, opset: int,
    ) -> onnx.ModelProto:  # fmt: skip
        """`forward`'s workload as ONNX from one trace of the encoder and one of a decoder step
        (`onnx.unrolled_greedy_onnx`)."""
        return unrolled_greedy_onnx(
            self, example_inputs[0], steps=self.steps, vocab_size=self.net.vocab_size,
            input_names=input_names, output_names=output_names or ("tokens", "scores"),
            dynamic_batch=dynamic_batch, opset=opset, start=FAIRSEQ.start,
        )  # fmt: skip

    def translate(
        self, src: torch.Tensor, *, beam_size: int = 4, length_penalty: float = 0.6,
        max_len: int = 200,
    ) -> torch.Tensor:  # fmt: skip
        """Output ids (batch, <= max_len), greedy (`beam_size` 1) or beam search."""
        if beam_size == 1:
            return greedy(self, src, max_len, specials=FAIRSEQ)
        return beam(self, src, max_len, size=beam_size, length_penalty=length_penalty,
                    specials=FAIRSEQ)  # fmt: skip


class HatSupernet:
    """A HAT SuperTransformer file as a `Supernet` over linas's 40 genes (HAT's space0)."""

    name = "transformer"
    input_names = ("src",)
    output_names = ("tokens", "scores")

    def __init__(
        self, file: hat_file.HatFile, pipeline: TextPipeline, *, steps: int = 30,
        valid: parallel.ParallelText | None = None, beam: int = 4, length_penalty: float = 0.6,
        max_len_b: int = 200, bleu: str = "tokenized",
    ) -> None:  # fmt: skip
        self.file, self.pipeline, self.valid = file, pipeline, valid
        self.steps, self.beam, self.length_penalty = steps, beam, length_penalty
        self.max_len_b, self.bleu_kind = max_len_b, bleu
        self.space = transformer_space(
            len(file.largest.encoder_ffn), file.decoder_layers, file.embed, file.ffn, file.heads,
            file.ende,
        )  # fmt: skip
        self.qkv_dim, self.vocab_size = file.qkv_dim, file.vocab_size
        self._sources: torch.Tensor | None = None

    @property
    def smallest(self) -> dict:
        return self.space.extreme(largest=False)

    @property
    def largest(self) -> dict:
        return self.space.extreme(largest=True)

    def arch(self, config: Mapping) -> Arch:
        return arch_of(self.space, config)

    def _net(self, arch: Arch) -> HatNet:
        return HatNet(self.vocab_size, arch, qkv_dim=self.qkv_dim,
                      position_dim=self.file.largest.encoder_embed)  # fmt: skip

    def extract(self, config: Mapping) -> SubHat:
        """The sub-network `config` standalone: each tensor the leading slice of the file's."""
        with torch.device("meta"):  # no initialisation: every tensor is assigned below
            net = self._net(self.arch(config))
        state = {
            name: self.file.state[name][tuple(slice(0, n) for n in tensor.shape)].clone()
            for name, tensor in net.state_dict().items()
        }
        net.load_state_dict(state, assign=True)  # the shared embedding's module takes one
        return SubHat(net, self.steps).eval()

    # -- data -------------------------------------------------------------------------------

    def _pairs(self) -> list:
        if self.valid is None:
            raise InvalidArgument(
                "BLEU of the hat variant needs a test set: give valid: [SOURCE, TARGET], two "
                "plain text files, one sentence a line"
            )
        return self.valid.pairs

    def _source_ids(self, limit: int | None, length: int | None) -> torch.Tensor:
        """Source ids (n, length) right-padded; a longer sentence keeps its first pieces and
        its ``</s>``. Without `length`, the longest sentence's."""
        rows = [self.pipeline.encode(p.source) for p in self._pairs()[:limit]]
        n = length or max(map(len, rows))
        rows = [row if len(row) <= n else [*row[: n - 1], EOS] for row in rows]
        out = torch.full((len(rows), n), PAD, dtype=torch.long)
        for i, row in enumerate(rows):
            out[i, : len(row)] = torch.as_tensor(row)
        return out

    def validation_arrays(
        self, limit: int | None = None, config: Mapping | None = None
    ) -> dict[str, np.ndarray]:
        """The test sources at the workload's `steps` tokens; references stay on the host."""
        return {self.input_names[0]: self._source_ids(limit, self.steps).numpy()}

    def score_outputs(self, tokens: np.ndarray, limit: int | None = None) -> dict[str, float]:
        """BLEU of the `tokens` a board returned for `validation_arrays(limit)`."""
        return self._bleu([self.pipeline.tokenized(row) for row in np.asarray(tokens).tolist()],
                          limit)  # fmt: skip

    def _bleu(self, hypotheses: list[str], limit: int | None) -> dict[str, float]:
        references = [p.target for p in self._pairs()[:limit]]
        scores = {
            "tokenized": tokenized_bleu(self.pipeline, hypotheses, references),
            "sacre": sacre_bleu(self.pipeline, hypotheses, references),
        }
        return {"bleu": scores[self.bleu_kind], "bleu_tokenized": scores["tokenized"],
                "sacrebleu": scores["sacre"]}  # fmt: skip

    def example_input(self, config: Mapping | None = None) -> tuple[torch.Tensor, ...]:
        """One sentence of `steps` ids (every sub-network takes this shape)."""
        ids = torch.arange(4, 4 + self.steps) % self.vocab_size
        ids[-1] = EOS
        return (ids[None],)

    # -- protocol ---------------------------------------------------------------------------

    def evaluate(
        self, module: nn.Module, *, limit: int | None = None, batch_size: int = 50
    ) -> dict[str, float]:
        """BLEU (0-100) of `module`'s translations of the test set, whole sentences, with the
        supernet's decoding settings (HAT's: beam 4, length penalty 0.6, at most `max_len_b`
        tokens); "bleu" is the kind chosen (`bleu` option), both kinds are returned."""
        src = self._source_ids(limit, None)
        module.eval()
        hypotheses = []
        for start in range(0, len(src), batch_size):
            ids = module.translate(
                src[start : start + batch_size], beam_size=self.beam,
                length_penalty=self.length_penalty, max_len=self.max_len_b,
            )  # fmt: skip
            hypotheses += [self.pipeline.tokenized(row) for row in ids.tolist()]
        return self._bleu(hypotheses, limit)

    def macs(self, config: Mapping) -> int:
        """Multiply-accumulates of the exported workload (`cost`, attention `qkv_dim` wide)."""
        return workload_macs(self.arch(config), steps=self.steps, vocab_size=self.vocab_size,
                             qkv_dim=self.qkv_dim)  # fmt: skip

    def params(self, config: Mapping) -> int:
        """Parameters of the extracted sub-network (the shared embedding counted once)."""
        with torch.device("meta"):
            return count_params(self._net(self.arch(config)))

    def hat_params(self, config: Mapping) -> int:
        """Parameters as HAT's figures count them: without the embedding table (and so the
        output projection that shares it)."""
        arch = self.arch(config)
        return self.params(config) - self.vocab_size * max(arch.encoder_embed, arch.decoder_embed)


def load(
    *, checkpoint: str | Path, dictionary: str | Path, bpe_codes: str | Path,
    valid: Sequence[str | Path] | None = None, source_lang: str | None = None,
    target_lang: str | None = None, steps: int = 30, beam: int = 4, length_penalty: float = 0.6,
    max_len_b: int = 200, bleu: str = "tokenized",
) -> HatSupernet:  # fmt: skip
    """HAT's SuperTransformer from `checkpoint` with its fairseq `dictionary` and joint
    `bpe_codes`, scored on the test pair `valid` ([SOURCE, TARGET] text files). Everything is
    checked before any candidate: the file (`hat_file.read`), the dictionary's size against the
    embedding, the test pair's lines, and the codes against the dictionary."""
    if bleu not in BLEU_KINDS:
        raise InvalidArgument(f"bleu is {bleu!r}; expected one of {', '.join(BLEU_KINDS)}")
    if steps < 2:
        raise InvalidArgument(f"steps is {steps}; expected at least 2 (a token and </s>)")
    file = hat_file.read(checkpoint)
    words = Dictionary(dictionary)
    if len(words) != file.vocab_size:
        raise InvalidArgument(
            f"dictionary {words.path} gives {len(words)} symbols (4 specials and "
            f"{len(words) - 4} lines), but checkpoint {file.path} embeds {file.vocab_size}: "
            "expected the dictionary of the checkpoint's data"
        )
    source = source_lang or file.source_lang or "en"
    target = target_lang or file.target_lang or "de"
    pipeline = TextPipeline(words, bpe_codes, source, target)
    pair = None
    if valid is not None:
        if isinstance(valid, (str, Path)) or len(valid) != 2:
            raise InvalidArgument(f"valid is {valid!r}; expected two text files, [SOURCE, TARGET]")
        pair = parallel.read(*valid)
        sample = [p.source for p in pair.pairs[:200]]
        share = pipeline.unknown_share(sample, source)
        if share > UNKNOWN_LIMIT:
            raise InvalidArgument(
                f"BPE codes {pipeline.codes_path} do not match dictionary {words.path}: "
                f"{share:.0%} of the pieces of {pair.source}'s first {len(sample)} lines are "
                f"not in the dictionary (expected under {UNKNOWN_LIMIT:.0%} when both come "
                "from the checkpoint's data)"
            )
    return HatSupernet(file, pipeline, steps=steps, valid=pair, beam=beam,
                       length_penalty=length_penalty, max_len_b=max_len_b, bleu=bleu)  # fmt: skip
