"""Names as comparable tokens: transliterated to ASCII, split, weighted, keyed for blocking.

Transliteration is ``anyascii`` (pure Python, every script: Cyrillic, Arabic, Greek, CJK...),
phonetic keys are ``jellyfish``'s Metaphone and similarities ``rapidfuzz``'s (Levenshtein,
Jaro-Winkler), all installed as wheels: no compiler and no system library (the
FollowTheMoney libraries ``normality`` and ``rigour`` now require PyICU, which builds against
the system's ICU, so kg does not depend on them). Pure: no I/O.

Two things make one name's transliterations meet:

- *folding* (``fold``): the spellings that romanization systems choose between for one
  Cyrillic letter are made one ('Alexei'/'Aleksey', 'Yevgeny'/'Evgeniy', 'Dmitry'/'Dmitriy'
  all fold alike); words are compared folded, by edit distance and Jaro-Winkler, and filed
  under the Metaphone key of the folded word;
- *consonant skeletons* (``skeleton``): Arabic and Hebrew script write no short vowels, so
  'عسيري' transliterates to 'syry' where a Latin source writes 'Asiri', 'Assiri' or 'Aseeri';
  a name written in such a script is compared with the other by their consonants ('sr'),
  vowels, doubled letters and the glides w/y dropped, and the Arabic article 'ال' is split off
  as 'al'.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from anyascii import anyascii
from rapidfuzz.distance import JaroWinkler, Levenshtein

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
        "bn",
        "bnt",
        "bw",
    }
)  # the last three: bin, bint, abu in Arabic script
# A particle's consonant skeleton: one form whatever the script ('bin', 'ibn', 'بن' -> 'bn').
_PARTICLE_SKELETON = {
    "al": "al",
    "el": "al",
    "bin": "bn",
    "ibn": "bn",
    "ben": "bn",
    "bn": "bn",
    "bint": "bnt",
    "bnt": "bnt",
    "abu": "bw",
    "bw": "bw",
}
_SPLIT = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = re.compile(r"['`]")  # soft signs, hamza and ayn are no word boundary
TOKEN_MATCH = 0.75  # two tokens below this similarity do not match at all
INITIAL_MATCH = 0.8  # "r" against "ramzan"
JW_OFFSET = 0.1  # a folded Jaro-Winkler similarity counts this much less than edit distance
SKELETON_CAP = 0.92  # a match of consonants only is never quite "the same name"
# Scripts that write no short vowels (abjads): Hebrew, Arabic (with its supplements and
# presentation forms), Syriac, Thaana.
_ABJAD = re.compile(
    "[\u0590-\u05ff\u0600-\u06ff\u0700-\u074f\u0750-\u077f\u0780-\u07bf"
    "\u08a0-\u08ff\ufb1d-\ufb4f\ufb50-\ufdff\ufe70-\ufeff]"
)
_ARABIC_LETTER = "\u0621-\u064a\u0671-\u06d3"
# The Arabic article written joined to its word ('القحطاني'): split off as 'al-'.
_ARABIC_ARTICLE = re.compile(f"(?<![{_ARABIC_LETTER}])\u0627\u0644(?=[{_ARABIC_LETTER}]{{2,}})")


@lru_cache(maxsize=200_000)
def ascii_lower(text: str) -> str:
    """Any script as lower-case ASCII: 'Рамзан Кадыров' -> 'ramzan kadyrov'."""
    if _ABJAD.search(text):
        text = _ARABIC_ARTICLE.sub("al-", text)
    return anyascii(text).lower()


def is_abjad(text: str) -> bool:
    """Whether a name is written (partly) in a script without short vowels (Arabic, Hebrew)."""
    return bool(_ABJAD.search(text))


@lru_cache(maxsize=200_000)
def tokens(text: str) -> tuple[str, ...]:
    """The words of a name after transliteration ('al-Asiri' -> ('al', 'asiri'))."""
    return tuple(t for t in _SPLIT.split(_APOSTROPHES.sub("", ascii_lower(text))) if t)


def normalized(text: str) -> str:
    return " ".join(tokens(text))


_DOUBLE = re.compile(r"(.)\1+")
_NOT_CONSONANT = re.compile(r"[aeiouyw]")
# 'dh' and 'th' (Arabic dhal and thal, written either way in Latin script) as 'd', 'zh' as 'z'
_DH = re.compile(r"[dt]h")


def is_code(token: str) -> bool:
    """A word with a digit ('17', '7kq3m2') or a placeholder (`placeholder`): a number or
    code, equal or not, never alike."""
    return ":" in token or any(c.isdigit() for c in token)


# The name kg.seal gives a confidential record in the graph ("Confidential person 7KQ3M2").
_PLACEHOLDER = re.compile(r"Confidential ([a-z]+) ([A-Z2-7]{6})")


def placeholder(text: str) -> tuple[str, ...] | None:
    """A confidential record's placeholder name as one code token, so that it meets the same
    placeholder only (a public record naming a confidential one shows its placeholder), never
    a like one; None for any other name."""
    m = _PLACEHOLDER.fullmatch(text)
    return (f"confidential:{m.group(1)}:{m.group(2).lower()}",) if m else None


@lru_cache(maxsize=200_000)
def fold(token: str) -> str:
    """One spelling for the variants romanizations choose between: 'x' is 'ks', a 'y' that
    stands for a vowel or a soft sign is 'i', a word-initial 'ye' is 'e', doubled letters are
    single ('Alexei', 'Aleksey', 'Aleksei' -> 'aleksei'; 'Yevgeny', 'Evgeniy' -> 'evgeni';
    'Groznyy' -> 'grozni')."""
    if is_code(token) or len(token) < 3:
        return token
    t = token.replace("x", "ks")
    if t.startswith("ye"):
        t = t[1:]
    t = t.replace("y", "i")
    return _DOUBLE.sub(r"\1", t)


@lru_cache(maxsize=200_000)
def skeleton(token: str) -> str:
    """A word's consonants, as a script without short vowels writes them: 'asiri', 'assiri'
    and 'syry' (from 'عسيري') -> 'sr'; 'mohammed', 'muhammad', 'mhmd' -> 'mhmd'."""
    if token in _PARTICLE_SKELETON:
        return _PARTICLE_SKELETON[token]
    if is_code(token):
        return token
    t = _DH.sub("d", _NOT_CONSONANT.sub("", fold(token))).replace("zh", "z")
    return _DOUBLE.sub(r"\1", t) or token


def skeletons(toks: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(skeleton(t) for t in toks)


@lru_cache(maxsize=200_000)
def phonetic(token: str) -> str:
    return jellyfish.metaphone(token) if not token.isdigit() else token


def block_keys(toks: tuple[str, ...], abjad: bool = False) -> set[str]:
    """Keys under which a name is filed: each significant word's sound (Metaphone of the
    folded word) and consonant skeleton, the whole name, and the initials of a name of three
    or more words (so 'MBS' meets 'Mohammed bin Salman'). A name written in Arabic or Hebrew
    script is filed by its skeletons only (its vowels are not written)."""
    keys = {"n:" + " ".join(sorted(toks))} if toks else set()
    for t in toks:
        if len(t) < 2 or t in PARTICLES:
            continue
        if is_code(t):
            keys.add("d:" + t)
            continue
        keys.add("s:" + skeleton(t))
        if not abjad:
            keys.add("m:" + (phonetic(fold(t)) or t))
    if len(toks) >= 3 and not abjad:
        keys.add("m:" + phonetic("".join(t[0] for t in toks)))
    return keys


@lru_cache(maxsize=500_000)
def token_similarity(a: str, b: str) -> float:
    """0 (no match) or from TOKEN_MATCH to 1: the best of the edit-distance similarity of the
    words and of their folded forms, and of the folded forms' Jaro-Winkler similarity less
    JW_OFFSET when the words are of like length (so 'republic' / 'respubliki' match, 'olga' /
    'oleg' and 'akhmat' / 'akhmadovich' do not)."""
    if a == b:
        return 1.0
    if is_code(a) or is_code(b):
        return 0.0
    if (len(a) == 1 or len(b) == 1) and a[0] == b[0]:
        return INITIAL_MATCH
    if len(a) < 3 or len(b) < 3:
        return 0.0
    fa, fb = fold(a), fold(b)
    if fa == fb:
        return 0.95
    s = max(Levenshtein.normalized_similarity(a, b), Levenshtein.normalized_similarity(fa, fb))
    if TOKEN_MATCH > s >= 0.6 and phonetic(fa) == phonetic(fb) and len(a) > 3 and len(b) > 3:
        s = TOKEN_MATCH  # 'kadyrov' / 'qadirov'
    short, long_ = sorted((len(fa), len(fb)))
    if short >= 5 and short >= 0.75 * long_:  # not a prefix: 'akhmat' / 'akhmadovich'
        s = max(s, JaroWinkler.similarity(fa, fb) - JW_OFFSET)
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


def _plain_weight(token: str) -> float:
    return 0.2 if token in PARTICLES else 1.0


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
    w = weight or _plain_weight
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


def compare_forms(
    a: tuple[str, ...],
    a_abjad: bool,
    b: tuple[str, ...],
    b_abjad: bool,
    weight: Weights | None = None,
    skeleton_weight: Weights | None = None,
) -> NameMatch:
    """`compare`, or, when either name is written in a script without short vowels, the
    comparison of their consonant skeletons (at most SKELETON_CAP: consonants alone never
    make quite the same name)."""
    if not (a_abjad or b_abjad):
        return compare(a, b, weight)
    m = compare(skeletons(a), skeletons(b), skeleton_weight)
    how = "same consonants" if m.how in ("same", "same words") else f"consonants: {m.how}"
    return NameMatch(min(m.score, SKELETON_CAP), a, b, how)


def _acronym(short: tuple[str, ...], long_: tuple[str, ...]) -> bool:
    if len(short) != 1 or len(long_) < 2 or not 2 <= len(short[0]) <= 6:
        return False
    letters = "".join(t[0] for t in long_)
    sig = "".join(t[0] for t in long_ if t not in PARTICLES)
    return short[0] in (letters, sig)
