"""Build the catalogs: extract messages, merge Vietnamese fragments, fill English, compile.

Message ids are English. Vietnamese translations are kept in ``locales/fragments/*.po`` (one
fragment per feature, so translators and developers do not edit one huge file at once) and
merged into ``locales/vi/LC_MESSAGES/messages.po``. English is the identity translation.

Usage:
    python tools/i18n.py            # extract, merge, compile; list missing translations
    python tools/i18n.py --check    # exit 1 if any message lacks a Vietnamese translation
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
FRAGMENTS = LOCALES / "fragments"


def extract() -> Catalog:
    """Run pybabel extract over the code and return the template."""
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
            str(POT),
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
    with POT.open("rb") as fh:
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


def build(template: Catalog) -> list[str]:
    """Write vi and en catalogs from the template; return the msgids missing in vi."""
    missing: list[str] = []
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
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "messages.po").open("wb") as fh:
            write_po(fh, catalog, width=99, omit_header=False)
        with (folder / "messages.mo").open("wb") as fh:
            write_mo(fh, catalog)
    return missing


def main() -> int:
    """Extract, merge and compile; report missing Vietnamese translations."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    missing = build(extract())
    for key in missing:
        print(f"missing vi: {key!r}")
    print(f"{len(missing)} message(s) without a Vietnamese translation")
    return 1 if (missing and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
