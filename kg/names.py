"""Names as comparable tokens: transliterated to ASCII, split, weighted, keyed for blocking.

Transliteration is ``anyascii`` (pure Python, every script: Cyrillic, Arabic, Greek, CJK...),
phonetic keys are ``jellyfish``'s Metaphone and similarities ``rapidfuzz``'s, all installed
as wheels: no compiler and no system library (the FollowTheMoney libraries ``normality`` and
``rigour`` now require PyICU, which builds against the system's ICU, so kg does not depend
on them). Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from anyascii import anyascii
from rapidfuzz.distance import Levenshtein

# Name particles: kept in the text, weighted low when comparing and never used as a block.
PARTICLES = frozenset(
    {
        "al",
        "el",
        "bin",
        "ibn",
        "bint",
        "ben",
        "abu",
        "de",
        "del",
        "da",
        "di",
        "van",
        "von",
        "der",
        "den",
        "la",
        "le",
        "the",
        "of",
        "and",
        "y",
    }
)
_SPLIT = re.compile(r"[^a-z0-9]+")
TOKEN_MATCH = 0.75  # two tokens below this similarity do not match at all
INITIAL_MATCH = 0.8  # "r" against "ramzan"


@lru_cache(maxsize=200_000)
def ascii_lower(text: str) -> str:
    """Any script as lower-case ASCII: 'Рамзан Кадыров' -> 'ramzan kadyrov'."""
    return anyascii(text).lower()


@lru_cache(maxsize=200_000)
def tokens(text: str) -> tuple[str, ...]:
    """The words of a name after transliteration ('al-Asiri' -> ('al', 'asiri'))."""
    return tuple(t for t in _SPLIT.split(ascii_lower(text).replace("'", "")) if t)


def normalized(text: str) -> str:
    return " ".join(tokens(text))


@lru_cache(maxsize=200_000)
def phonetic(token: str) -> str:
    return jellyfish.metaphone(token) if not token.isdigit() else token


def block_keys(toks: tuple[str, ...]) -> set[str]:
    """Keys under which a name is filed: each significant word's sound, the whole name, and
    the initials of a name of three or more words (so 'MBS' meets 'Mohammed bin Salman')."""
    keys = {"n:" + " ".join(sorted(toks))} if toks else set()
    for t in toks:
        if len(t) < 2 or t in PARTICLES:
            continue
        keys.add("d:" + t if t.isdigit() else "m:" + (phonetic(t) or t))
    if len(toks) >= 3:
        keys.add("m:" + phonetic("".join(t[0] for t in toks)))
    return keys


def token_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if a.isdigit() or b.isdigit():
        return 0.0
    if (len(a) == 1 or len(b) == 1) and a[0] == b[0]:
        return INITIAL_MATCH
    if len(a) < 3 or len(b) < 3:
        return 0.0
    s = Levenshtein.normalized_similarity(a, b)
    if TOKEN_MATCH > s >= 0.6 and phonetic(a) == phonetic(b) and len(a) > 3 and len(b) > 3:
        s = TOKEN_MATCH  # 'kadyrov' / 'qadirov'
    return s if s >= TOKEN_MATCH else 0.0


class Weights:
    """Inverse document frequency of words among the names of one kind: 'police' or
    'republic' count for less than 'kadyrov'."""

    def __init__(self, docs: Iterable[Iterable[str]]):
        self.df: dict[str, int] = {}
        n = 0
        for doc in docs:
            n += 1
            for t in set(doc):
                self.df[t] = self.df.get(t, 0) + 1
        self.n = max(n, 1)

    def __call__(self, token: str) -> float:
        if token in PARTICLES:
            return 0.2
        w = math.log(1 + self.n / self.df.get(token, 1))
        return w * (0.5 if len(token) == 1 else 1.0)


@dataclass
class NameMatch:
    score: float
    a: tuple[str, ...]
    b: tuple[str, ...]
    how: str


def compare(a: tuple[str, ...], b: tuple[str, ...], weight: Weights | None = None) -> NameMatch:
    """How alike two token lists are, from 0 to 1, and in what way.

    Words are aligned one to one (best pairs first); each side's share of matched weight is
    its coverage. A name that is wholly inside the other ('Ramzan Kadyrov' in 'Ramzan
    Akhmadovich Kadyrov', 'Kadyrov, R.') scores high; one differing given name ('Akhmat
    Kadyrov' against 'Ramzan Kadyrov') halves the score."""
    if not a or not b:
        return NameMatch(0.0, a, b, "")
    if a == b:
        return NameMatch(1.0, a, b, "same")
    if sorted(a) == sorted(b):
        return NameMatch(0.98, a, b, "same words")
    w = weight or (lambda t: 1.0)
    acr = _acronym(a, b) or _acronym(b, a)
    pairs = sorted(
        ((token_similarity(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)),
        reverse=True,
    )
    used_a: dict[int, float] = {}
    used_b: dict[int, float] = {}
    for s, i, j in pairs:
        if s <= 0:
            break
        if i in used_a or j in used_b:
            continue
        used_a[i], used_b[j] = s, s
    cov_a = sum(w(t) * used_a.get(i, 0.0) for i, t in enumerate(a)) / sum(w(t) for t in a)
    cov_b = sum(w(t) * used_b.get(j, 0.0) for j, t in enumerate(b)) / sum(w(t) for t in b)
    short, long_ = (cov_a, cov_b) if len(a) <= len(b) else (cov_b, cov_a)
    n_short = min(len(a), len(b))
    score = (short + long_) / 2
    how = "similar"
    covered = (
        all(s >= TOKEN_MATCH for s in (used_a if len(a) <= len(b) else used_b).values())
        and len(used_a) == n_short
    )
    if covered and n_short >= 2 and short > 0.85:
        score, how = max(score, 0.75 + 0.2 * short), "one name within the other"
    elif covered and n_short == 1 and len(a) != len(b) and short > 0.85:
        score, how = max(score, 0.6 + 0.1 * short), "one word of the other"
    unmatched_a = any(i not in used_a and t not in PARTICLES for i, t in enumerate(a))
    unmatched_b = any(j not in used_b and t not in PARTICLES for j, t in enumerate(b))
    if unmatched_a and unmatched_b:
        score *= 0.85  # each has a word the other lacks: 'Akhmat' / 'Ramzan' Kadyrov
    if acr:
        score, how = max(score, 0.85), "initials"
    return NameMatch(round(min(score, 1.0), 4), a, b, how)


def _acronym(short: tuple[str, ...], long_: tuple[str, ...]) -> bool:
    if len(short) != 1 or len(long_) < 2 or not 2 <= len(short[0]) <= 6:
        return False
    letters = "".join(t[0] for t in long_)
    sig = "".join(t[0] for t in long_ if t not in PARTICLES)
    return short[0] in (letters, sig)
