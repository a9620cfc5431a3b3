"""Queries over the organization tree: descendants, cells in scope, lookups."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Member, MemberStatus, Organization, OrgKind

CELL_KINDS = (OrgKind.GRASSROOTS_CELL, OrgKind.CELL)


def descendants(session: Session, root_ids: set[int]) -> set[int]:
    """Return ``root_ids`` and every organization below them (recursive CTE, portable)."""
    if not root_ids:
        return set()
    tree = select(Organization.id).where(Organization.id.in_(root_ids)).cte("tree", recursive=True)
    tree = tree.union_all(select(Organization.id).where(Organization.parent_id == tree.c.id))
    return set(session.scalars(select(tree.c.id)))


def cells_under(session: Session, root_ids: set[int], *, on: date | None = None) -> list[int]:
    """Return the ids of the cells (chi bộ) at or below ``root_ids``, active on ``on``."""
    ids = descendants(session, root_ids)
    if not ids:
        return []
    stmt = select(Organization.id).where(
        Organization.id.in_(ids), Organization.kind.in_(CELL_KINDS)
    )
    if on is not None:
        stmt = stmt.where(
            (Organization.active_from.is_(None)) | (Organization.active_from <= on),
            (Organization.active_to.is_(None)) | (Organization.active_to >= on),
        )
    return list(session.scalars(stmt.order_by(Organization.code)))


def by_code(session: Session, code: str) -> Organization | None:
    """Find an organization by its code (case-insensitive)."""
    return session.scalar(select(Organization).where(Organization.code == code.strip().upper()))


def active_members(session: Session, org_id: int) -> list[Member]:
    """The members on a cell's roll (full, probationary, exempt), sorted by name."""
    stmt = select(Member).where(
        Member.org_id == org_id,
        Member.status.in_([s for s in MemberStatus if s.is_active]),
    )
    return sorted(session.scalars(stmt), key=lambda m: (m.name_folded.split()[-1:], m.name_folded))


def top_organization(session: Session) -> Organization | None:
    """The root of the tree (the Khối or its successor)."""
    return session.scalar(
        select(Organization).where(Organization.kind == OrgKind.TOP).order_by(Organization.id)
    )
