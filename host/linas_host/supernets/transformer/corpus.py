"""The translation corpus the project builds itself: English number and date phrases and their
German renderings, which need reordering ("twenty-one" -> "einundzwanzig", "March 3, 2021" ->
"3. März 2021", "on the third of June" -> "am dritten Juni").

`generate(seed)` renders the phrases with `num2words` from a seeded generator, so the same seed
gives the same corpus byte for byte; the generated file is committed beside this module
(`data/numbers_en_de.csv.gz`, written by `python -m linas_host.supernets.transformer.corpus`),
and a test regenerates it to prove it matches (and to notice a `num2words` that renders
differently). Sentences are unique by source across the train, validation and test splits.
"""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import random
from dataclasses import dataclass
from pathlib import Path

from linas_sdk.errors import InvalidArgument

CORPUS_PATH = Path(__file__).with_name("data") / "numbers_en_de.csv.gz"
SEED = 2021
SPLIT_SIZES = {"train": 12000, "valid": 600, "test": 600}

_MONTHS = [
    ("January", "Januar"), ("February", "Februar"), ("March", "März"), ("April", "April"),
    ("May", "Mai"), ("June", "Juni"), ("July", "Juli"), ("August", "August"),
    ("September", "September"), ("October", "Oktober"), ("November", "November"),
    ("December", "Dezember"),
]  # fmt: skip
_WEEKDAYS = [
    ("Monday", "Montag"), ("Tuesday", "Dienstag"), ("Wednesday", "Mittwoch"),
    ("Thursday", "Donnerstag"), ("Friday", "Freitag"), ("Saturday", "Samstag"),
    ("Sunday", "Sonntag"),
]  # fmt: skip
_NOUNS = [
    ("cats", "Katzen"), ("dogs", "Hunde"), ("books", "Bücher"), ("apples", "Äpfel"),
    ("houses", "Häuser"), ("cars", "Autos"), ("trees", "Bäume"), ("days", "Tage"),
    ("years", "Jahre"), ("children", "Kinder"), ("birds", "Vögel"), ("euros", "Euro"),
]  # fmt: skip


@dataclass(frozen=True)
class Pair:
    """One sentence pair: a source sentence and its translation (here English and German)."""

    source: str
    target: str


def _words(n: int, lang: str = "en", to: str = "cardinal") -> str:
    from num2words import num2words

    return num2words(n, lang=lang, to=to)


def _number(rng: random.Random) -> int:
    """A number whose size is spread evenly over one, two, three and four digits."""
    digits = rng.randint(1, 4)
    return rng.randint(0 if digits == 1 else 10 ** (digits - 1), 10**digits - 1)


def _cardinal(rng: random.Random) -> Pair:
    n = _number(rng)
    return Pair(_words(n), _words(n, "de"))


def _counted(rng: random.Random) -> Pair:
    n = max(2, _number(rng))
    en, de = rng.choice(_NOUNS)
    return Pair(f"{_words(n)} {en}", f"{_words(n, 'de')} {de}")


def _date(rng: random.Random) -> datetime.date:
    return datetime.date(rng.randint(1950, 2049), 1, 1) + datetime.timedelta(rng.randrange(365))


def _numeric_date(rng: random.Random) -> Pair:
    day = _date(rng)
    en_month, de_month = _MONTHS[day.month - 1]
    en, de = f"{en_month} {day.day}, {day.year}", f"{day.day}. {de_month} {day.year}"
    if rng.random() < 0.5:
        en_day, de_day = _WEEKDAYS[day.weekday()]
        en, de = f"{en_day}, {en}", f"{de_day}, {de}"
    return Pair(en, de)


def _spoken_date(rng: random.Random) -> Pair:
    day = _date(rng)
    en_month, de_month = _MONTHS[day.month - 1]
    ordinal_en, ordinal_de = _words(day.day, to="ordinal"), _words(day.day, "de", "ordinal")
    if rng.random() < 0.5:
        en = f"on {en_month} {ordinal_en}"
    else:
        en = f"on the {ordinal_en} of {en_month}"
    return Pair(en, f"am {ordinal_de}n {de_month}")


def _year(rng: random.Random) -> Pair:
    year = rng.randint(1901, 2099)
    return Pair(f"in {_words(year, to='year')}", f"im Jahr {_words(year, 'de', 'year')}")


def _ordinal(rng: random.Random) -> Pair:
    n = rng.randint(1, 199)
    return Pair(f"the {_words(n, to='ordinal')} day", f"der {_words(n, 'de', 'ordinal')} Tag")


_KINDS = (_cardinal, _counted, _numeric_date, _spoken_date, _year, _ordinal)


def generate(seed: int = SEED, sizes: dict[str, int] | None = None) -> dict[str, list[Pair]]:
    """The corpus for `seed`: split name -> pairs, unique by source sentence across splits."""
    sizes = dict(SPLIT_SIZES if sizes is None else sizes)
    rng = random.Random(seed)
    seen: set[str] = set()
    pairs: list[Pair] = []
    total = sum(sizes.values())
    attempts = 0
    while len(pairs) < total:
        attempts += 1
        if attempts > 50 * total:
            raise InvalidArgument(f"cannot draw {total} distinct sentence pairs; ask for fewer")
        pair = rng.choice(_KINDS)(rng)
        if pair.source not in seen:
            seen.add(pair.source)
            pairs.append(pair)
    splits, start = {}, 0
    for name, size in sizes.items():
        splits[name] = pairs[start : start + size]
        start += size
    return splits


def to_bytes(splits: dict[str, list[Pair]]) -> bytes:
    """The corpus as gzipped CSV (split, en, de), byte-identical for identical corpora."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["split", "en", "de"])
    for name, pairs in splits.items():
        writer.writerows([name, pair.source, pair.target] for pair in pairs)
    return gzip.compress(text.getvalue().encode("utf-8"), mtime=0)


def load(path: Path | str = CORPUS_PATH) -> dict[str, list[Pair]]:
    """Read a corpus written by `to_bytes` (by default the committed one)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidArgument(
            f"no translation corpus at {path}; write it with "
            "`python -m linas_host.supernets.transformer.corpus`"
        )
    rows = csv.reader(io.StringIO(gzip.decompress(path.read_bytes()).decode("utf-8")))
    header = next(rows, None)
    if header != ["split", "en", "de"]:
        raise InvalidArgument(f"{path} is not a corpus file: header {header}, expected split,en,de")
    splits: dict[str, list[Pair]] = {}
    for split, en, de in rows:
        splits.setdefault(split, []).append(Pair(en, de))
    return splits


if __name__ == "__main__":
    CORPUS_PATH.parent.mkdir(exist_ok=True)
    CORPUS_PATH.write_bytes(to_bytes(generate()))
    print(f"wrote {CORPUS_PATH}")
