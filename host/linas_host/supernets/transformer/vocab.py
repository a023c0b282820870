"""Sub-word vocabularies, shared by both languages: a small byte-pair encoding written here for
the bundled numbers corpus, and a SentencePiece model for a user's corpus.

German number words are long compounds ("dreihundertsechsundfünfzig"); a word vocabulary would
need one entry per number and a character one makes sequences three times longer, so, as in
real translation systems, words are split into sub-word pieces learned by BPE (Sennrich et al.,
2016): the pieces end up being the morphemes ("drei", "hundert", "sechs", "und", "fünfzig").

`Vocabulary` is the bundled corpus's: its merges live in the committed weights' manifest, so
those weights load as they were trained. Text is first cut into words and punctuation; a piece
that starts a space-separated word carries the marker "▁" (as in SentencePiece), so decoding
is exact: join, then turn markers into spaces.

`SentencePieceVocabulary` is learned by SentencePiece (BPE, every character covered) from the
training files of `linas train transformer --train SRC TGT`, for any language pair; its model
file sits beside the weights and their manifest holds its sha256. Both give PAD, BOS, EOS and
UNK the same ids and decode the same way (stop at the first EOS, skip PAD and BOS).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path

import sentencepiece

from linas_host.supernets.weights import sha256_file
from linas_sdk.errors import ArtifactCorrupt, InvalidArgument

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")
_MARK = "▁"
_PRETOKEN = re.compile(r"\w+|[^\w\s]")


def _pretokens(text: str) -> list[str]:
    """Words and punctuation; the first one of each space-separated chunk gets the marker."""
    out = []
    for chunk in text.split():
        parts = _PRETOKEN.findall(chunk)
        out.extend([_MARK + parts[0], *parts[1:]])
    return out


def _content(ids: Iterable[int], size: int) -> list[int]:
    """The ids before the first EOS, without PAD and BOS, each checked to be below `size`."""
    content = []
    for i in map(int, ids):
        if i == EOS:
            break
        if i in (PAD, BOS):
            continue
        if not 0 <= i < size:
            raise InvalidArgument(f"token id {i} outside the vocabulary of {size}")
        content.append(i)
    return content


def _merge(symbols: list[str], pair: tuple[str, str]) -> list[str]:
    merged, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            merged.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            merged.append(symbols[i])
            i += 1
    return merged


class Vocabulary:
    """Pieces and the ordered BPE merges that produce them; `encode`/`decode` map text to ids."""

    def __init__(self, pieces: Sequence[str], merges: Sequence[tuple[str, str]]):
        self.pieces = list(pieces)
        self.merges = [tuple(m) for m in merges]
        self._ids = {piece: i for i, piece in enumerate(self.pieces)}
        self._rank = {pair: rank for rank, pair in enumerate(self.merges)}
        self._cache: dict[str, list[str]] = {}

    @classmethod
    def learn(cls, texts: Iterable[str], merges: int) -> Vocabulary:
        """Learn up to `merges` merges from `texts`; ties go to the alphabetically first pair.

        Pair counts are updated only for the words a merge touches, so learning takes seconds.
        """
        counts = Counter(p for text in texts for p in _pretokens(text))
        words = list(counts)
        split = [list(word) for word in words]
        pairs: Counter[tuple[str, str]] = Counter()
        where: dict[tuple[str, str], set[int]] = {}
        for w, symbols in enumerate(split):
            for pair in pairwise(symbols):
                pairs[pair] += counts[words[w]]
                where.setdefault(pair, set()).add(w)
        learned: list[tuple[str, str]] = []
        while len(learned) < merges and pairs:
            best = min(pairs, key=lambda pair: (-pairs[pair], pair))
            learned.append(best)
            for w in where.pop(best, set()):
                count = counts[words[w]]
                for pair in pairwise(split[w]):
                    pairs[pair] -= count
                split[w] = _merge(split[w], best)
                for pair in pairwise(split[w]):
                    pairs[pair] += count
                    where.setdefault(pair, set()).add(w)
            pairs = +pairs  # drop pairs whose count fell to zero
        chars = sorted({c for word in words for c in word})
        pieces = [*SPECIALS, *chars, *(a + b for a, b in learned)]
        return cls(list(dict.fromkeys(pieces)), learned)

    def __len__(self) -> int:
        return len(self.pieces)

    def _split(self, word: str) -> list[str]:
        if word not in self._cache:
            symbols, unknown = list(word), len(self._rank)
            while len(symbols) > 1:
                rank, pair = min((self._rank.get(p, unknown), p) for p in pairwise(symbols))
                if rank == unknown:
                    break
                symbols = _merge(symbols, pair)
            self._cache[word] = symbols
        return self._cache[word]

    def tokenize(self, text: str) -> list[str]:
        """The pieces of `text`."""
        return [piece for word in _pretokens(text) for piece in self._split(word)]

    def encode(self, text: str) -> list[int]:
        """Piece ids of `text` (no BOS/EOS); unseen characters become UNK."""
        return [self._ids.get(piece, UNK) for piece in self.tokenize(text)]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of `ids`, stopping at the first EOS and skipping PAD and BOS."""
        pieces = [self.pieces[i] for i in _content(ids, len(self))]
        return "".join(pieces).replace(_MARK, " ").strip()

    def to_dict(self) -> dict:
        return {"pieces": list(self.pieces), "merges": [list(m) for m in self.merges]}

    @classmethod
    def from_dict(cls, data: dict) -> Vocabulary:
        return cls(data["pieces"], [tuple(m) for m in data["merges"]])


class SentencePieceVocabulary:
    """A SentencePiece BPE model kept in a file (`path`, whose sha256 a manifest records)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        model = self.path.read_bytes()
        self.sha256 = hashlib.sha256(model).hexdigest()
        try:
            self._processor = sentencepiece.SentencePieceProcessor(model_proto=model)
        except RuntimeError as error:
            raise InvalidArgument(
                f"{path} is not a SentencePiece model ({error}); expected the vocabulary "
                "`linas train transformer --train SRC TGT` wrote beside the weights"
            ) from error

    @classmethod
    def learn(
        cls, texts: Iterable[str], size: int, path: Path, *, threads: int = 1
    ) -> SentencePieceVocabulary:
        """Learn a vocabulary of about `size` pieces from `texts` and write its model to `path`.
        `size` is a soft limit: a small corpus yields the pieces it supports."""
        model = io.BytesIO()
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(texts), model_writer=model, vocab_size=size,
            model_type="bpe", character_coverage=1.0, hard_vocab_limit=False,
            pad_id=PAD, bos_id=BOS, eos_id=EOS, unk_id=UNK, num_threads=threads, minloglevel=2,
        )  # fmt: skip
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(model.getvalue())
        return cls(path)

    @classmethod
    def read(cls, path: Path, sha256: str) -> SentencePieceVocabulary:
        """The vocabulary at `path`, after checking its sha256 against the manifest's."""
        path = Path(path)
        if not path.is_file():
            raise InvalidArgument(
                f"expected the SentencePiece vocabulary {path} beside the weights (their "
                "manifest names it); copy it along with the weights and the manifest"
            )
        actual = sha256_file(path)
        if actual != sha256:
            raise ArtifactCorrupt(
                f"{path} has sha256 {actual}, but the weights' manifest expects {sha256}: "
                "the vocabulary is corrupted or was replaced"
            )
        return cls(path)

    def __len__(self) -> int:
        return self._processor.get_piece_size()

    def encode(self, text: str) -> list[int]:
        """Piece ids of `text` (no BOS/EOS); unseen characters become UNK."""
        return self._processor.encode(text)

    def decode(self, ids: Iterable[int]) -> str:
        """Text of `ids`, stopping at the first EOS and skipping PAD and BOS."""
        return self._processor.decode(_content(ids, len(self)))

    def to_dict(self) -> dict:
        return {"sentencepiece": self.path.name, "sha256": self.sha256, "size": len(self)}


def from_manifest(entry: dict, folder: Path) -> Vocabulary | SentencePieceVocabulary:
    """The vocabulary a weights manifest's ``vocab`` entry describes (a SentencePiece model is
    read from `folder`, the weights' own)."""
    if "sentencepiece" in entry:
        return SentencePieceVocabulary.read(Path(folder) / entry["sentencepiece"], entry["sha256"])
    return Vocabulary.from_dict(entry)
