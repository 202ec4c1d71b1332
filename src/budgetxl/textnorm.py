"""Normalising the text people type into labels and headers, for matching."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")
_CN_NUMERALS = "一二三四五六七八九十"


_SQUASHED: dict[str, str] = {}  # labels repeat within and across workbooks; bounded (a server lives long)
_SQUASH_ENTRIES, _SQUASH_LENGTH = 20_000, 100


def squash(text: object) -> str:
    """NFKC, no whitespace at all: 'a （教育收 费）' == 'a(教育收费)'."""
    if text is None:
        return ""
    s = text if type(text) is str else str(text)
    out = _SQUASHED.get(s)
    if out is None:
        out = _SPACE.sub("", unicodedata.normalize("NFKC", s))
        if len(s) <= _SQUASH_LENGTH:
            if len(_SQUASHED) >= _SQUASH_ENTRIES:
                _SQUASHED.clear()
            _SQUASHED[s] = out
    return out


def first_of(text: str, words: tuple[str, ...]) -> str | None:
    """The word of ``words`` that occurs first in ``text`` (at one position, the
    earlier in ``words``), as ``re.search("|".join(words), text).group(0)`` finds
    it, without compiling a pattern (a CJK alternation costs a start-up ~0.2 ms)."""
    found = None
    for i, word in enumerate(words):
        at = text.find(word)
        if at >= 0 and (found is None or at < found[0]):
            found = (at, i, word)
    return found[2] if found else None


def _numbering(t: str) -> int:
    """The length of the numbering a squashed label starts with: 一、 一. (一) 一) 1. 1、 1) (1);
    0 without one. What ``^(?:[一…十]+[、.]|\\(?[一…十]+\\)|\\d+[.、)]|\\(\\d+\\))`` matches, without
    compiling it (a pattern with CJK classes costs every start-up about a millisecond)."""
    n = len(t)
    i = 0
    while i < n and t[i] in _CN_NUMERALS:
        i += 1
    if i and i < n and t[i] in "、.":
        return i + 1
    start = i = 1 if t[:1] == "(" else 0
    while i < n and t[i] in _CN_NUMERALS:
        i += 1
    if i > start and i < n and t[i] == ")":
        return i + 1
    i = 0
    while i < n and t[i].isdecimal():  # \d: a Unicode decimal digit
        i += 1
    if i and i < n and t[i] in ".、)":
        return i + 1
    if start:
        i = 1
        while i < n and t[i].isdecimal():
            i += 1
        if i > 1 and i < n and t[i] == ")":
            return i + 1
    return 0


def bare_label(text: object) -> str:
    """A row label without its numbering and '其中：' prefix."""
    t = squash(text)
    t = t[_numbering(t):]
    if t.startswith("其中"):
        t = t[3:] if t.startswith("其中:") else t[2:]
    return t


def tidy(text: object) -> str:
    """Text as stored: NFKC-free, trimmed, inner line breaks kept."""
    if text is None:
        return ""
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    return str(text).strip()
