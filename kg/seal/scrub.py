"""Finding hidden names in text: every word of a hidden person's name, whatever its case or
Unicode form, and hidden records' full names, aliases and ids."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from .keys import MIN_WORD, STOP_WORDS

# --- finding hidden names in text ---------------------------------------------------------

# A word: letters (with the combining marks and invisible characters that may sit inside
# one: "Ze\u0301limkhan", a soft hyphen in "Tes\u00adtov"), or digits. Digits and an
# underscore end a word: "Testov2017" and "@testov_z" hold "Testov".
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
    "\u06d6-\u06ed\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
)
_INVISIBLE = "\u00ad\u034f\u200b\u200c\u200d\u2060\ufeff"
_WORD = re.compile(f"(?:[^\\W\\d_]|[{_MARKS}{_INVISIBLE}])+|\\d+")
_ASCII_WORD = re.compile(r"[a-z]+|[0-9]+")  # _WORD in lower-case ASCII text (quicker)
_DROP = dict.fromkeys(map(ord, _INVISIBLE))
# Letters that Unicode does not split into a letter and a mark, read as readers do.
_FOLD = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
        "ŀ": "l",
        "ĸ": "k",
    }
)
_RUN = re.compile(r"[a-z0-9]+")
_LAST_RUN = re.compile(r"(?<![a-z0-9])[a-z0-9]+$")
_ALNUM = re.compile(r"[a-z0-9]")
# Characters outside ASCII that a case-blind [a-z0-9] matches, or whose lower() has an ASCII
# letter (İ ı ſ K), and the letter the case-blind pattern takes each for (both tested against
# every code point).
_CASE_TRAPS = frozenset("\u0130\u0131\u017f\u212a")
_TRAP_ASCII = str.maketrans("\u0130\u0131\u017f\u212a", "iisk")


def norm(text: str) -> str:
    """Compare text as a reader would: letter case, accents, Unicode forms and invisible
    characters ignored ("Łukasz" is "lukasz", "Søren" "soren")."""
    text = unicodedata.normalize("NFKD", text.translate(_DROP))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", text.casefold()).translate(_FOLD)


# norm() of one word, remembered: a load compares every word of every text, and the same
# words come back.
norm_word = lru_cache(maxsize=1 << 17)(norm)


def words(text: str) -> list[str]:
    return [w for w in map(norm_word, _WORD.findall(text)) if w]


class Scrubber:
    """Replaces mentions of hidden records in text, word by word.

    A hidden *person*'s name and aliases hide each of their words (three letters or more, a
    few particles and words of public people's names aside: "Testov" alone is a mention); every hidden record's full name,
    aliases and id hide as whole word sequences ("Sokiryanskaya's sources within Chechnya"
    hides that phrase, not the word Chechnya)."""

    def __init__(self) -> None:
        self._first: dict[str, list[int]] = {}  # first word -> phrase lengths, longest first
        self.owner: dict[tuple[str, ...], str] = {}  # phrase -> label
        self._ids: dict[str, str] = {}
        self._id_re: re.Pattern | None = None
        self._id_dirty = False
        self._id_lasts: frozenset[str] = frozenset()  # each hidden id's last run (_may_name_id)
        self._id_few = True  # few ids, or one without such a run: always ask the pattern
        self._id_whole: frozenset[str] = frozenset()  # hidden ids that are one run (_names_id)
        self._id_ending: dict[str, tuple[str, ...]] = {}  # last run -> the longer ids (_names_id)
        self._singles: set[str] = set()  # the one-word phrases
        self._pairs: set[tuple[str, str]] = set()  # the first two words of longer ones

    def __bool__(self) -> bool:
        return bool(self._first or self._ids)

    def add(
        self,
        kind: str,
        label: str,
        names: Iterable[str],
        ids: Iterable[str] = (),
        common: Any = frozenset(),
    ) -> None:
        """``common``: words that stay visible alone (words of public people's names)."""
        phrases: set[tuple[str, ...]] = set()
        for name in names:
            if not isinstance(name, str):
                continue
            seq = tuple(words(name))
            if seq:
                phrases.add(seq)
            if kind == "person":
                phrases.update(
                    (w,)
                    for w in seq
                    if len(w) >= MIN_WORD
                    and w not in STOP_WORDS
                    and not w.isdigit()
                    and w not in common
                )
        for rid in ids:  # an id is hidden where it is written as an id
            self._ids.setdefault(rid.lower(), label)
            self._id_dirty = True
        for seq in phrases:
            if seq in self.owner:
                continue
            self.owner[seq] = label
            if len(seq) == 1:
                self._singles.add(seq[0])
            else:
                self._pairs.add((seq[0], seq[1]))
            lens = self._first.setdefault(seq[0], [])
            if len(seq) not in lens:
                lens.append(len(seq))
                lens.sort(reverse=True)

    def _ids_re(self) -> re.Pattern | None:
        if self._id_dirty:
            self._id_re = re.compile(
                r"(?<![A-Za-z0-9])("
                + "|".join(re.escape(i) for i in sorted(self._ids, key=len, reverse=True))
                + r")(?![A-Za-z0-9])",
                re.IGNORECASE,
            )
            lasts = [_LAST_RUN.search(i) for i in self._ids]
            self._id_lasts = frozenset(m.group(0) for m in lasts if m is not None)
            self._id_whole = frozenset(i for i in self._ids if _RUN.fullmatch(i))
            ending: dict[str, list[str]] = {}
            for m, i in zip(lasts, self._ids):
                if m is not None and i not in self._id_whole:
                    ending.setdefault(m.group(0), []).append(i)
            self._id_ending = {k: tuple(v) for k, v in ending.items()}
            # Few ids: the pattern is quicker than the test (measured: 28 ids, a 10,000-record
            # case, 0.49 s of sealing without the test, 0.61 s with; 139 ids: 2.95 s, 1.48 s).
            self._id_few = len(self._ids) < 64 or not all(
                m is not None and i.isascii() for m, i in zip(lasts, self._ids)
            )
            self._id_dirty = False
        return self._id_re

    def _id_label(self, written: str) -> str:
        """The label of the id the pattern found, however its letters were written (a
        case-blind match may differ from lower(): "İdx" is "idx" to it, "i̇dx" to lower())."""
        label = self._ids.get(written.lower()) or self._ids.get(
            written.translate(_TRAP_ASCII).lower()
        )
        if label is None:
            label = next(
                v for k, v in self._ids.items() if re.fullmatch(re.escape(k), written, re.I)
            )
        return label

    def _may_name_id(self, text: str) -> bool:
        """False only when no hidden id can be written in the text (the long pattern above is
        slow on long texts): an id ends with a run of letters and digits, which the text then
        has as a whole run. The four characters outside ASCII that the case-blind pattern
        takes for ASCII letters (_CASE_TRAPS) are first turned into those letters."""
        if self._id_few:
            return True
        return not self._id_lasts.isdisjoint(self._runs(text))

    @staticmethod
    def _folded(text: str) -> str:
        """The text as the case-blind pattern sees it: each of _CASE_TRAPS turned into its
        ASCII letter, then lower case (ASCII letters and digits only where the pattern sees
        them; no character changes length once İ is turned)."""
        if not text.isascii() and not _CASE_TRAPS.isdisjoint(text):
            text = text.translate(_TRAP_ASCII)  # each to the letter the pattern takes it for
        return text.lower()

    @classmethod
    def _runs(cls, text: str) -> list[str]:
        """The text's runs of ASCII letters and digits, as the case-blind pattern sees them."""
        return _RUN.findall(cls._folded(text))

    def _names_id(self, text: str, low: str | None = None) -> bool:
        """Whether the text holds a hidden id as the pattern finds ids, without the pattern
        (slow on long texts: it tries every id at every position). An id ends with a run of
        letters and digits that the text then has whole: an id that is one run is there
        exactly when the text has that run; a longer one, when the text (folded) has the id
        ending where that run ends, after no letter or digit. ``low``: an ASCII text's
        lower(), when the caller has it (what _folded gives for ASCII text)."""
        id_re = self._ids_re()
        if id_re is None:
            return False
        if self._id_few:
            return id_re.search(text) is not None
        folded = low if low is not None else self._folded(text)
        runs = _RUN.findall(folded)
        if self._id_lasts.isdisjoint(runs):
            return False
        if not self._id_whole.isdisjoint(runs):
            return True
        ending = self._id_ending
        for m in _RUN.finditer(folded):
            for rid in ending.get(m.group(0), ()):
                start = m.end() - len(rid)
                if (
                    start >= 0
                    and folded.startswith(rid, start)
                    and not (start and _ALNUM.match(folded, start - 1))
                ):
                    return True
        return False

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        id_re = self._ids_re()
        if id_re is not None and self._may_name_id(text):
            hits = [(m.start(), m.end(), self._id_label(m.group(0))) for m in id_re.finditer(text)]
            if hits:
                rest = self._word_spans(text)
                return sorted(
                    hits + [w for w in rest if not any(w[0] < h[1] and h[0] < w[1] for h in hits)]
                )
        return self._word_spans(text)

    def _may_hold_phrase(self, toks: list[str]) -> bool:
        """False only when no hidden phrase is in these words (normalised, in order): no
        one-word phrase is among them, and no longer phrase's first two words are side by
        side."""
        return not self._singles.isdisjoint(toks) or not self._pairs.isdisjoint(zip(toks, toks[1:]))

    def _word_spans(self, text: str) -> list[tuple[int, int, str]]:
        # Most text mentions no one: a cheap test first (C-speed for ASCII text).
        if text.isascii():
            if not self._may_hold_phrase(_ASCII_WORD.findall(text.lower())):
                return []
        elif not self._may_hold_phrase(words(text)):
            return []
        toks = [(m.start(), m.end(), norm_word(m.group(0))) for m in _WORD.finditer(text)]
        toks = [t for t in toks if t[2]]  # (a lone invisible character is no word)
        normed = [t[2] for t in toks]
        out: list[tuple[int, int, str]] = []
        i = 0
        while i < len(toks):
            hit = None
            for n in self._first.get(normed[i], ()):
                if i + n <= len(toks):
                    label = self.owner.get(tuple(normed[i : i + n]))
                    if label is not None:
                        hit = (n, label)
                        break
            if hit is None:
                i += 1
                continue
            n, label = hit
            start, end = toks[i][0], toks[i + n - 1][1]
            if out and out[-1][2] == label and not text[out[-1][1] : start].strip(" -'’"):
                out[-1] = (out[-1][0], end, label)  # "Zelimkhan Testov": one placeholder
            else:
                out.append((start, end, label))
            i += n
        return out

    def scrub(self, text: str) -> str:
        if not self or not text:
            return text
        spans = self._spans(text)
        if not spans:
            return text
        parts, pos = [], 0
        for start, end, label in spans:
            parts.append(text[pos:start])
            parts.append(label)
            pos = end
        parts.append(text[pos:])
        return "".join(parts)

    def mentions_any(self, text: Any) -> bool:
        """Whether a text mentions any hidden record: ``bool(self.mentions(text))`` without
        finding where. The left-to-right scan of _word_spans finds a phrase wherever one
        starts, so the text mentions one exactly when some phrase occurs in its words."""
        if not self or not isinstance(text, str) or not text:
            return False
        if text.isascii():
            low = text.lower()
            toks = _ASCII_WORD.findall(low)
            if self._names_id(text, low):
                return True
        else:
            if self._names_id(text):
                return True
            toks = words(text)
        if not self._singles.isdisjoint(toks):
            return True  # a one-word phrase: its word is there
        # A longer phrase is there only where its first two words are, side by side.
        firsts = {a for a, _b in self._pairs.intersection(zip(toks, toks[1:]))}
        if not firsts:
            return False
        owner = self.owner
        for i, w in enumerate(toks):
            if w in firsts:
                for n in self._first[w]:
                    if tuple(toks[i : i + n]) in owner:
                        return True
        return False

    def mentions(self, text: str) -> list[str]:
        """The labels of the hidden records a text mentions."""
        if not self or not isinstance(text, str):
            return []
        return list(dict.fromkeys(s[2] for s in self._spans(text)))


def scrub_value(scrubber: Scrubber, value: Any) -> Any:
    if isinstance(value, str):
        return scrubber.scrub(value)
    if isinstance(value, list):
        return [scrub_value(scrubber, v) for v in value]
    return value
