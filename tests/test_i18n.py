"""Every message the code can show has a Vietnamese translation, and catalogs load."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from domain.i18n import LOCALE_DIR, pick_locale, translator

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "pgettext": ((1, "c"), 2)}


def _msgids() -> set[str]:
    ids: set[str] = set()
    for folder in ("bot", "domain", "services", "documents", "handlers", "storage"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            ids.add(message[0] if isinstance(message, tuple) else message)
    ids.discard("")
    return ids


def _catalog(locale: str) -> dict[str, object]:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    return {(m.id[0] if isinstance(m.id, tuple) else m.id): m.string for m in catalog if m.id}


def test_every_message_has_a_vietnamese_translation() -> None:
    vi = _catalog("vi")
    missing = sorted(
        mid
        for mid in _msgids()
        if not (vi.get(mid) if not isinstance(vi.get(mid), tuple) else vi[mid][0])  # type: ignore[index]
    )
    assert missing == [], f"{len(missing)} message(s) lack a vi translation, e.g. {missing[:5]}"


def test_every_message_has_an_english_entry() -> None:
    en = _catalog("en")
    assert sorted(_msgids() - set(en)) == []


def test_placeholders_survive_translation() -> None:
    vi = _catalog("vi")
    field = re.compile(r"\{(\w*)[^{}]*\}")
    for mid, string in vi.items():
        strings = string if isinstance(string, tuple) else (string,)
        for s in strings:
            if s:
                assert set(field.findall(s)) <= set(field.findall(mid)), (mid, s)


def test_language_is_picked_stored_then_telegram_then_default() -> None:
    assert pick_locale("en", "vi") == "en"
    assert pick_locale(None, "en-US") == "en"
    assert pick_locale(None, "fr") == "vi"
    assert pick_locale(None, None) == "vi"


def test_documents_date_line_is_vietnamese() -> None:
    from datetime import date

    assert translator("vi").long_date(date(2026, 11, 15)) == "ngày 15 tháng 11 năm 2026"
    assert translator("vi").long_date(date(2026, 2, 5)) == "ngày 05 tháng 02 năm 2026"
    assert translator("vi").date(date(2026, 11, 5)) == "05/11/2026"


def test_the_catalog_check_writes_nothing_and_passes() -> None:
    import subprocess
    import sys

    tracked = [
        LOCALE_DIR / "messages.pot",
        *sorted(LOCALE_DIR.glob("*/LC_MESSAGES/messages.po")),
    ]
    before = {path: path.read_bytes() for path in tracked}

    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "i18n.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert {path: path.read_bytes() for path in tracked} == before
    assert result.returncode == 0, result.stdout[-2000:]
