"""One "did you mean" for every name a user types: options, parameters, cases, queries."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str]) -> str | None:
    hits = difflib.get_close_matches(word, list(choices), n=1)
    return hits[0] if hits else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' or ''."""
    hit = closest(word, choices)
    return f" (did you mean {hit!r}?)" if hit else ""
