"""Translations: one gettext translator per locale, chosen per update — never a global install().

Message ids are English; ``vi`` (the default) and ``en`` catalogs live in ``locales/``.
Use :func:`N_` to mark strings that are translated later (tables of labels).
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

import locales as _locales_pkg

#: ``date`` under another name, for annotations inside :class:`Translator` (whose ``date``
#: method hides the type there).
Day = date

SUPPORTED = ("vi", "en")
DEFAULT_LOCALE = "vi"
LOCALE_DIR = Path(_locales_pkg.__file__).parent
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


def pick_locale(
    stored: str | None, telegram_code: str | None, default: str = DEFAULT_LOCALE
) -> str:
    """Choose the locale: stored choice, then Telegram's language, then the default."""
    for candidate in (stored, telegram_code):
        if candidate:
            base = candidate.split("-")[0].split("_")[0].lower()
            if base in SUPPORTED:
                return base
    return default if default in SUPPORTED else DEFAULT_LOCALE


@cache
def _translations(locale: str) -> gettext.NullTranslations:
    mo = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if mo.exists():
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    po = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if po.exists():
        # A source checkout without compiled catalogs: compile in memory with Babel.
        from io import BytesIO

        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buf = BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        return gettext.GNUTranslations(buf)
    return gettext.NullTranslations()


@dataclass(frozen=True)
class Translator:
    """The gettext functions of one locale, plus Vietnamese-style date formatting."""

    locale: str

    def gettext(self, message: str) -> str:
        """Translate ``message``."""
        return _translations(self.locale).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate a message whose form depends on ``n``."""
        return _translations(self.locale).ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        """Translate ``message`` in a disambiguating ``context``."""
        return _translations(self.locale).pgettext(context, message)

    def date(self, value: date | datetime) -> str:
        """Format a date the way Vietnamese readers expect: 15/11/2026 (both locales)."""
        return f"{value.day:02d}/{value.month:02d}/{value.year}"

    def long_date(self, value: Day) -> str:
        """Format a date for documents: "ngày 15 tháng 11 năm 2026"."""
        # Party and state document rules: the day takes a leading zero below 10, the month
        # only for January and February ("ngày 05 tháng 02 năm 2026", "ngày 15 tháng 11…").
        month = f"{value.month:02d}" if value.month < 3 else str(value.month)
        return self.gettext("day {d} month {m} year {y}").format(
            d=f"{value.day:02d}", m=month, y=value.year
        )

    def month(self, year: int, month: int) -> str:
        """Format a month: "11/2026"."""
        return f"{month:02d}/{year}"

    def number(self, value: float, digits: int = 0) -> str:
        """Format a number with the locale's decimal mark (Vietnamese uses a comma)."""
        text = f"{value:,.{digits}f}"
        if self.locale == "vi":
            text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return text

    def percent(self, ratio: float | None) -> str:
        """Format a ratio (0.875) as a percentage ("87,5%"), or a dash when unknown."""
        if ratio is None:
            return "—"
        return self.number(ratio * 100, 1) + "%"


@cache
def translator(locale: str) -> Translator:
    """Return the translator for ``locale`` (falls back to the default locale)."""
    return Translator(locale if locale in SUPPORTED else DEFAULT_LOCALE)
