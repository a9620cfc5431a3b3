"""Text hygiene: Unicode normalization, accent-insensitive folding, HTML escaping, and the
checks every typed answer goes through (length refused rather than cut, names with letters)."""

from __future__ import annotations

import html
import re
import unicodedata

_SPACES = re.compile(r"\s+")
_TAGS = re.compile(r"<[^>]*>")
#: Characters that render as nothing but split a word ("M\u200bật"): besides the format
#: characters (Unicode category Cf: zero-width space and joiners, soft hyphen, word joiner,
#: BOM, bidi marks), the fillers that are letters by category.
_INVISIBLE_LETTERS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")
#: Characters that make a spreadsheet cell a formula (CSV/Excel injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean(text: str) -> str:
    """Return ``text`` in NFC with runs of white space folded and ends trimmed."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch in "\n\t")
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Return an accent- and case-insensitive search key ("Nguyễn Thị Lan" → "nguyen thi lan")."""
    text = unicodedata.normalize("NFD", clean(text)).replace("đ", "d").replace("Đ", "D")
    stripped = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return stripped.casefold()


def h(value: object) -> str:
    """Escape a value for Telegram's HTML parse mode."""
    return html.escape(str(value), quote=False)


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def excel_safe(value: str) -> str:
    """Keep a user-typed string from being read as a spreadsheet formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def visible(text: str) -> str:
    """``text`` as it reads on screen: NFKC (full-width "ＭẬＴ" becomes "MẬT") with the
    invisible characters removed ("M\u200bật" becomes "Mật")."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        ch for ch in text if unicodedata.category(ch) != "Cf" and ch not in _INVISIBLE_LETTERS
    )


def plain(html_text: str) -> str:
    """The plain text of a message written for Telegram's HTML mode (alerts show raw text)."""
    return html.unescape(_TAGS.sub("", html_text))


def has_letters(text: str) -> bool:
    """Whether ``text`` contains a letter (a name of emoji, digits or punctuation has none)."""
    return any(unicodedata.category(ch).startswith("L") for ch in visible(text))
