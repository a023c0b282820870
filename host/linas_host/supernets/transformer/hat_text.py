"""HAT's text pipeline, with the libraries made for each step, so a sentence reaches the network
as it reached HAT's and BLEU is scored the two ways HAT reports it.

- Moses tokenisation with its HTML escapes (sacremoses; what the WMT'16 data HAT trained on went
  through), then the joint BPE codes (subword-nmt's format, ``@@`` marking a cut word);
- fairseq's dictionary (``dict.en.txt``; one ``SYMBOL COUNT`` a line after the four specials
  ``<s> <pad> </s> <unk>``), each source sentence ending with ``</s>``;
- back: symbols to text, the BPE marks removed (fairseq's ``--remove-bpe``), Moses
  detokenisation;
- BLEU: *tokenised* with compound splitting (HAT's ``test.sh`` ``normal``: hyphens between
  non-spaces become ``##AT##-##AT##`` in the output and the Moses-tokenised reference, then
  BLEU on spaces) and *sacreBLEU* on detokenised text, the references through the same Moses
  round trip (``sacre``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from linas_sdk.errors import InvalidArgument

SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
BOS, PAD, EOS, UNK = 0, 1, 2, 3
_COMPOUND = re.compile(r"(\S)-(\S)")


class Dictionary:
    """fairseq's dictionary file: ids 0-3 are the specials, then one symbol a line."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise InvalidArgument(f"dictionary {self.path} does not exist; expected fairseq's "
                                  "dict.SRC.txt of the checkpoint's data")  # fmt: skip
        self.symbols = list(SPECIALS)
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            symbol, _, count = line.rstrip("\n").rpartition(" ")
            if not symbol or not count.lstrip("-").isdigit():
                raise InvalidArgument(
                    f"dictionary {self.path} line {number} is {line!r}; expected fairseq's "
                    "'SYMBOL COUNT'"
                )
            self.symbols.append(symbol)
        self.indices = {s: i for i, s in enumerate(self.symbols)}  # a repeat wins, as in fairseq

    def __len__(self) -> int:
        return len(self.symbols)

    def index(self, symbol: str) -> int:
        return self.indices.get(symbol, UNK)

    def string(self, ids: Iterable[int]) -> str:
        """The symbols of `ids` up to the first ``</s>``, without ``<s>`` and ``<pad>``."""
        out = []
        for i in map(int, ids):
            if i == EOS:
                break
            if i not in (BOS, PAD):
                out.append(self.symbols[i] if 0 <= i < len(self.symbols) else SPECIALS[UNK])
        return " ".join(out)


def read_codes(path: str | Path):
    """subword-nmt's BPE of the codes file at `path`, each line checked (subword-nmt itself
    exits the process on a bad line)."""
    from subword_nmt.apply_bpe import BPE

    path = Path(path)
    if not path.is_file():
        raise InvalidArgument(f"BPE codes {path} do not exist; expected subword-nmt's codes file")
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate(text.rstrip("\n").split("\n"), 1):
        if number == 1 and line.startswith("#version:"):
            continue
        if len(line.strip("\r ").split(" ")) != 2:
            raise InvalidArgument(
                f"BPE codes {path} line {number} is {line!r}; expected two units, 'A B'"
            )
    return BPE(io.StringIO(text))


class TextPipeline:
    """Raw sentences to fairseq ids and ids back to text, for one language pair."""

    def __init__(self, dictionary: Dictionary, codes_path: str | Path, source: str, target: str):
        from sacremoses import MosesDetokenizer, MosesTokenizer

        self.dictionary, self.codes_path = dictionary, Path(codes_path)
        self.bpe = read_codes(codes_path)
        self.source, self.target = source, target
        self._tokenizers = {lang: MosesTokenizer(lang=lang) for lang in {source, target}}
        self._detokenizer = MosesDetokenizer(lang=target)

    def tokenize(self, text: str, lang: str) -> str:
        return self._tokenizers[lang].tokenize(text, escape=True, return_str=True)

    def pieces(self, text: str, lang: str) -> list[str]:
        """The BPE pieces of a raw sentence in `lang`."""
        return self.bpe.process_line(self.tokenize(text, lang)).split()

    def encode(self, text: str, lang: str | None = None) -> list[int]:
        """Ids of a raw sentence (source language by default), ending with ``</s>``."""
        return [self.dictionary.index(p) for p in self.pieces(text, lang or self.source)] + [EOS]

    def tokenized(self, ids: Iterable[int]) -> str:
        """The Moses-tokenised text of output `ids` (BPE marks removed)."""
        return (self.dictionary.string(ids) + " ").replace("@@ ", "").rstrip()

    def detokenize(self, tokenized: str) -> str:
        return self._detokenizer.detokenize(tokenized.split(), unescape=True)

    def unknown_share(self, lines: Sequence[str], lang: str) -> float:
        """The share of `lines`' BPE pieces the dictionary lacks: near 0 when codes and
        dictionary were made together."""
        pieces = [p for line in lines for p in self.pieces(line, lang)]
        return sum(p not in self.dictionary.indices for p in pieces) / max(1, len(pieces))


def compound_split(text: str) -> str:
    """HAT's ``##AT##`` compound splitting for tokenised BLEU."""
    return _COMPOUND.sub(r"\1 ##AT##-##AT## \2", text)


def tokenized_bleu(pipeline: TextPipeline, hypotheses: Sequence[str], references: Sequence[str]):
    """BLEU of Moses-tokenised `hypotheses` against raw `references` (Moses-tokenised here),
    both compound-split, on whitespace tokens with no smoothing (HAT's ``normal`` BLEU)."""
    import sacrebleu

    refs = [compound_split(pipeline.tokenize(r, pipeline.target)) for r in references]
    hyps = [compound_split(h) for h in hypotheses]
    return float(sacrebleu.corpus_bleu(hyps, [refs], tokenize="none", smooth_method="none",
                                       force=True).score)  # fmt: skip


def sacre_bleu(pipeline: TextPipeline, hypotheses: Sequence[str], references: Sequence[str]):
    """sacreBLEU (13a) of detokenised `hypotheses` against the raw `references` put through the
    same Moses round trip, as HAT's ``sacre`` scores its tokenised references (the round trip
    is not exact: German ``groß's.`` comes back ``groß 's.``)."""
    import sacrebleu

    hyps = [pipeline.detokenize(h) for h in hypotheses]
    refs = [pipeline.detokenize(pipeline.tokenize(r, pipeline.target)) for r in references]
    return float(sacrebleu.corpus_bleu(hyps, [refs]).score)
