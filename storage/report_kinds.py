"""The reports cells owe, in one catalogue built from the kinds the features define.

Listed here explicitly (nothing registers itself on import): the two remedy reports of
:mod:`storage.reports` and the annual plan report of :mod:`storage.summary`. A new kind is a
:class:`~storage.reports.ReportKind` defined beside its drafter and added to this list.
"""

from __future__ import annotations

from storage.reports import REMEDY_ANNUAL, REMEDY_QUARTERLY, ReportKind, catalog, lookup
from storage.summary import PLAN_ANNUAL

#: Code → kind, in the order menus list them.
KINDS: dict[str, ReportKind] = catalog(REMEDY_QUARTERLY, REMEDY_ANNUAL, PLAN_ANNUAL)


def kind_of(code: str) -> ReportKind:
    """The kind of ``code`` (from a button or a command); :class:`NotFound` when unknown."""
    return lookup(KINDS, code)
