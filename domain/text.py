"""Text hygiene: Unicode normalization, accent-insensitive folding, HTML escaping."""

from __future__ import annotations

import html
import re
import unicodedata

_SPACES = re.compile(r"\s+")
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
