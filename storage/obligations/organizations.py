"""The organizations as the calendar sees them: kind, type, parent, when active, usual day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Organization, OrgKind, OrgType


@dataclass(frozen=True)
class OrgRow:
    """What the calendar needs of an organization."""

    id: int
    code: str
    name: str
    kind: OrgKind
    org_type: str | None
    parent_id: int | None
    active_from: date | None
    active_to: date | None
    usual_day: int | None
    # When the organization was added to chibo: obligations due before that are not chased
    # (a cell imported on 23/11 is not reminded of September's meeting).
    tracked_since: datetime | None = None

    def tracked_on(self, due: date, tz: ZoneInfo) -> bool:
        """Tell whether chibo already followed the organization on ``due``."""
        return self.tracked_since is None or due >= self.tracked_since.astimezone(tz).date()

    def active_during(self, start: date, end: date) -> bool:
        """Tell whether the organization existed at some point of [start, end]."""
        return (self.active_from is None or self.active_from <= end) and (
            self.active_to is None or self.active_to >= start
        )


def org_rows(session: Session) -> dict[int, OrgRow]:
    """Every organization of the tree (a few thousand rows at most)."""
    rows = session.execute(
        select(
            Organization.id,
            Organization.code,
            Organization.name,
            Organization.kind,
            Organization.org_type,
            Organization.parent_id,
            Organization.active_from,
            Organization.active_to,
            Organization.usual_meeting_day,
            Organization.created_at,
        )
    ).all()
    return {r[0]: OrgRow(*r) for r in rows}


def org_type_names(session: Session) -> dict[str, tuple[str, str, int]]:
    """Organization type code → (Vietnamese name, English name, sort)."""
    return {
        code: (vi, en, sort)
        for code, vi, en, sort in session.execute(
            select(OrgType.code, OrgType.name_vi, OrgType.name_en, OrgType.sort)
        )
    }


def org_type_codes(session: Session) -> set[str]:
    """The organization type codes known to the database."""
    return set(session.scalars(select(OrgType.code)))
