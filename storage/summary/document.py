"""The Word report's header, and the audit of a view naming members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import Actor, record
from storage.doc_names import Signer, doc_names
from storage.models import (
    Organization,
    OrgKind,
)
from storage.seed import get_setting
from storage.summary.model import Summary
from storage.summary.scope import Scope

# --- The Word report's header ------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentMeta:
    """Who issues the summary report, and the names its header and recipients need."""

    kind: OrgKind  # of the issuing organization
    issuer: str  # its committee where there is one (storage.doc_names)
    issuer_short: str
    superior: str
    superior_short: str
    abbreviation: str  # in the number line: ĐUK, ĐU, CB
    place: str
    signer: Signer = Signer.CELL_COMMITTEE


def document_meta(session: Session, summary: Summary, scope: Scope) -> DocumentMeta:
    """The issuing body of a summary report: the committee of the organization it covers (a
    type's summary is issued by the scope's organization), the organization above, the place.

    The top organization's own superior is the setting ``document_superior`` ({"name": …};
    shipped default "Đảng bộ thành phố Cần Thơ"), or "Đảng bộ <place>" when it is emptied.
    """
    org = None
    if summary.subject.org_code:
        org = session.scalar(
            select(Organization).where(Organization.code == summary.subject.org_code)
        )
    if org is None and scope.sees_all:
        org = session.scalar(
            select(Organization).where(Organization.kind == OrgKind.TOP).order_by(Organization.id)
        )
    if org is None and scope.roots:
        org = session.get(Organization, min(scope.roots))
    place_setting = get_setting(session, "document_place")
    place = str(place_setting.get("place", "")) if isinstance(place_setting, dict) else ""
    if org is None:
        return DocumentMeta(OrgKind.TOP, "", "", "", "", "", place)
    names = doc_names(session, org)
    return DocumentMeta(
        kind=org.kind,
        issuer=names.issuer,
        issuer_short=names.issuer,
        superior=names.superior,
        superior_short=names.superior,
        abbreviation=names.doc_code,
        place=place,
        signer=names.signer,
    )


@dataclass(frozen=True)
class Seen:
    """What the audit row of a summary seen or exported records: no names, only counts."""

    period_key: str
    subject_key: str
    cells: int
    members_named: int

    @classmethod
    def of(cls, summary: Summary) -> Seen:
        return cls(
            period_key=summary.period.key,
            subject_key=summary.subject.subject.key,
            cells=len(summary.cells),
            members_named=len(summary.flagged) + len(summary.warned) + len(summary.new_signs),
        )


def audit_seen(session: Session, *, actor: Actor, what: str, seen: Seen, now: datetime) -> None:
    """Note that someone saw or exported a list naming members (DOMAIN.md, personal data)."""
    record(
        session,
        actor=actor,
        at=now,
        action=what,
        entity="summary",
        entity_id=seen.period_key,
        after={
            "subject": seen.subject_key,
            "cells": seen.cells,
            "members_named": seen.members_named,
        },
    )


def audit_view(
    session: Session, *, actor: Actor, what: str, summary: Summary, now: datetime
) -> None:
    """:func:`audit_seen` of a summary read in this process."""
    audit_seen(session, actor=actor, what=what, seen=Seen.of(summary), now=now)
