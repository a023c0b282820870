"""A small byte-pair-encoding vocabulary learned from the corpus, shared by both languages.

German number words are long compounds ("dreihundertsechsundfünfzig"); a word vocabulary would
need one entry per number and a character one makes sequences three times longer, so, as in
real translation systems, words are split into sub-word pieces learned by BPE (Sennrich et al.,
2016): the pieces end up being the morphemes ("drei", "hundert", "sechs", "und", "fünfzig").

Text is first cut into words and punctuation; a piece that starts a space-separated word
carries the marker "▁" (as in SentencePiece), so decoding is exact: join, then turn markers
into spaces.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise

from linas_sdk.errors import InvalidArgument

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
        pieces = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i in (PAD, BOS):
                continue
            if not 0 <= i < len(self.pieces):
                raise InvalidArgument(f"token id {i} outside the vocabulary of {len(self)}")
            pieces.append(self.pieces[i])
        return "".join(pieces).replace(_MARK, " ").strip()

    def to_dict(self) -> dict:
        return {"pieces": list(self.pieces), "merges": [list(m) for m in self.merges]}

    @classmethod
    def from_dict(cls, data: dict) -> Vocabulary:
        return cls(data["pieces"], [tuple(m) for m in data["merges"]])
