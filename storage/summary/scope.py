"""Who sees what: the scope of a person's roles and the subject that narrows it.

Scope follows the role (DOMAIN.md, "Organizations and people"): a leader on the top organization
sees every cell; a grassroots party committee's secretary the cells of that committee; a cell's
secretary, deputy, committee member or the superior committee member who follows it, that cell.
A :class:`Subject` narrows the scope (one organization type, one party committee, one cell) and
is checked against the scope every time, so button data is never trusted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from domain import access
from domain.errors import NotFound, NotInScope
from storage import access as access_facts
from storage.models import (
    Organization,
    OrgKind,
    OrgType,
)
from storage.orgs import descendants

# --- Scope -------------------------------------------------------------------------------------


#: What a person may see (decided by :func:`domain.access.summary_scope`).
Scope = access.Scope


def scope_of(session: Session, person_id: int, *, on: date) -> Scope:
    """The scope of a person's active roles, read in this session; :class:`NotAllowed` when
    they hold none (see :func:`domain.access.summary_scope`)."""
    return access.summary_scope(access_facts.holder(session, person_id), on=on)


def scope_under(session: Session, roots: Iterable[int], *, on: date) -> Scope:
    """The scope of everything at or below ``roots`` (the CLI's ``--org``)."""
    root_set = set(roots)
    return access.scope_over(access_facts.subtree(session, root_set), root_set, on=on)


@dataclass(frozen=True)
class Subject:
    """What part of the scope a screen shows: all of it, one organization, or one type."""

    kind: str = "all"  # "all" | "org" | "type"
    org_id: int | None = None
    type_code: str | None = None

    @property
    def key(self) -> str:
        """Short text form used in callback data: ``-``, ``o42``, ``thanh_chinh``."""
        if self.kind == "org":
            return f"o{self.org_id}"
        if self.kind == "type":
            return f"t{self.type_code}"
        return "-"

    @classmethod
    def parse(cls, text: str) -> Subject:
        """Inverse of :attr:`key`; raises :class:`ValueError` on anything else."""
        if text == "-":
            return cls()
        if text.startswith("o") and text[1:].isdigit():
            return cls("org", org_id=int(text[1:]))
        if text.startswith("t") and len(text) > 1 and text[1:].replace("_", "").isalnum():
            return cls("type", type_code=text[1:])
        raise ValueError(text)


@dataclass(frozen=True)
class SubjectInfo:
    """The subject resolved against the scope: its cells and how to name it."""

    subject: Subject
    cell_ids: tuple[int, ...]
    org_ids: frozenset[int] = frozenset()  # every organization the subject covers
    org_code: str | None = None
    org_name: str | None = None
    org_kind: OrgKind | None = None
    type_name_vi: str | None = None
    type_name_en: str | None = None


def resolve_subject(session: Session, scope: Scope, subject: Subject) -> SubjectInfo:
    """Narrow ``scope`` to ``subject``; :class:`NotInScope` if it reaches outside the scope."""
    if subject.kind == "org":
        assert subject.org_id is not None
        if not scope.allows(subject.org_id):
            raise NotInScope()
        org = session.get(Organization, subject.org_id)
        if org is None:
            raise NotFound()
        below = frozenset(descendants(session, {org.id}))
        cells = tuple(c for c in scope.cell_ids if c in below)
        return SubjectInfo(
            subject, cells, below, org_code=org.code, org_name=org.name, org_kind=org.kind
        )
    if subject.kind == "type":
        org_type = session.get(OrgType, subject.type_code)
        if org_type is None:
            raise NotFound()
        types = cell_types(session, scope.reachable)
        orgs = frozenset(o for o in scope.reachable if types.get(o) == org_type.code)
        cells = tuple(c for c in scope.cell_ids if c in orgs)
        return SubjectInfo(
            subject,
            cells,
            orgs,
            type_name_vi=org_type.name_vi,
            type_name_en=org_type.name_en,
        )
    label_org = None
    if len(scope.roots) == 1:
        label_org = session.get(Organization, next(iter(scope.roots)))
    if label_org is not None:
        return SubjectInfo(
            subject,
            scope.cell_ids,
            scope.reachable,
            org_code=label_org.code,
            org_name=label_org.name,
            org_kind=label_org.kind,
        )
    return SubjectInfo(subject, scope.cell_ids, scope.reachable)


def cell_types(session: Session, cell_ids: Iterable[int]) -> dict[int, str | None]:
    """Cell id → its organization type (its own, else its parent's)."""
    ids = list(cell_ids)
    if not ids:
        return {}
    parent = aliased(Organization)
    rows = session.execute(
        select(Organization.id, func.coalesce(Organization.org_type, parent.org_type))
        .outerjoin(parent, parent.id == Organization.parent_id)
        .where(Organization.id.in_(ids))
    ).all()
    return {cid: code for cid, code in rows}
