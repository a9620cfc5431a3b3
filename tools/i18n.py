"""Build the catalogs: extract messages, merge Vietnamese fragments, fill English, compile.

Message ids are English. Vietnamese translations are kept in ``locales/fragments/*.po`` (one
fragment per feature, so translators and developers do not edit one huge file at once) and
merged into ``locales/vi/LC_MESSAGES/messages.po``. English is the identity translation.

Usage:
    python tools/i18n.py            # extract, merge, compile; list missing translations
    python tools/i18n.py --check    # write nothing; exit 1 if a message lacks a Vietnamese
                                    # translation or the tracked catalogs are out of date
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
FRAGMENTS = LOCALES / "fragments"


def extract(pot: Path = POT) -> Catalog:
    """Run pybabel extract over the code into ``pot`` and return the template."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "N_",
            "--add-comments=TRANSLATORS:",
            "--sort-by-file",
            "--no-location",
            "--project=chibo",
            "-o",
            str(pot),
            "bot",
            "domain",
            "services",
            "documents",
            "handlers",
            "storage",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        return read_po(fh)


def _known_vi() -> dict[object, object]:
    known: dict[object, object] = {}
    sources = sorted(FRAGMENTS.glob("*.po"))
    existing = LOCALES / "vi" / "LC_MESSAGES" / "messages.po"
    for path in [existing, *sources]:  # fragments win over the merged file
        if not path.exists():
            continue
        with path.open("rb") as fh:
            for msg in read_po(fh, locale="vi"):
                if (
                    msg.id
                    and msg.string
                    and (any(msg.string) if isinstance(msg.string, tuple) else True)
                ):
                    known[msg.id if not isinstance(msg.id, tuple) else msg.id[0]] = msg.string
    return known


def build(template: Catalog, *, write: bool = True) -> tuple[list[str], list[Path]]:
    """Make the vi and en catalogs from the template.

    Returns:
        The msgids missing in vi, and the tracked catalogs whose content differs from what
        was made (written when ``write``, only compared otherwise).
    """
    missing: list[str] = []
    stale: list[Path] = []
    known = _known_vi()
    for locale in ("vi", "en"):
        catalog = Catalog(locale=locale, project="chibo", fuzzy=False)
        for msg in template:
            if not msg.id:
                continue
            key = msg.id[0] if isinstance(msg.id, tuple) else msg.id
            if locale == "en":
                string = msg.id
            else:
                string = known.get(key, "")
                if isinstance(msg.id, tuple) and isinstance(string, str):
                    string = (string,)  # Vietnamese has one plural form
                if isinstance(msg.id, tuple) and isinstance(string, tuple):
                    string = string[:1]
                if not string or (isinstance(string, tuple) and not string[0]):
                    missing.append(key)
            catalog.add(msg.id, string, auto_comments=msg.auto_comments, context=msg.context)
        if locale == "vi":
            catalog.plural_forms  # noqa: B018 - babel derives "nplurals=1" from the locale
        folder = LOCALES / locale / "LC_MESSAGES"
        buf = io.BytesIO()
        write_po(buf, catalog, width=99, omit_header=False)
        made = buf.getvalue()
        po = folder / "messages.po"
        if not po.exists() or _content(po.read_bytes()) != _content(made):
            stale.append(po)
        if write:
            folder.mkdir(parents=True, exist_ok=True)
            po.write_bytes(made)
            with (folder / "messages.mo").open("wb") as fh:
                write_mo(fh, catalog)
    return missing, stale


_STAMPS = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date|Generated-By): .*\n', re.MULTILINE)


def _content(po: bytes) -> bytes:
    """A catalog without what Babel stamps on every write: the dates and its own version."""
    return _STAMPS.sub(b"", po)


def main() -> int:
    """Extract, merge and compile (or only check); report missing Vietnamese translations."""
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; fail on a missing translation or an out-of-date catalog",
    )
    args = parser.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            missing, stale = build(extract(Path(tmp) / "messages.pot"), write=False)
    else:
        missing, stale = build(extract())
    for key in missing:
        print(f"missing vi: {key!r}")
    print(f"{len(missing)} message(s) without a Vietnamese translation")
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)} (run: python tools/i18n.py)")
        return 1 if (missing or stale) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
