"""Who issues a Party document and the names its header and signing block need.

DOMAIN.md, "Documents": the issuing body is the organization's committee where there is one
(*Đảng ủy …*, *Chi ủy …*), under the line of the organization above it; a cell with fewer than 9
full members elects no committee (Party Statute art. 25), so the cell itself issues and signs
*T/M CHI BỘ*. The names come from the organization's columns (``committee_name``,
``doc_code``) and are derived from its name and kind when those are empty.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Member, MemberStatus, Organization, OrgKind
from storage.seed import get_setting

RULE_SOURCE_COMMITTEE = "Điều lệ Đảng, Điều 25"
#: A cell with fewer full members than this elects no committee (Party Statute art. 25).
COMMITTEE_MIN_FULL_MEMBERS = 9
#: The issuing body's code in the number line ("Số …-BC/ĐU") by kind, unless the row sets one.
DOC_CODES = {OrgKind.TOP: "ĐUK", OrgKind.COMMITTEE: "ĐU"}
CELL_DOC_CODE = "CB"


class Signer(enum.StrEnum):
    """On whose behalf the secretary signs."""

    STANDING_BOARD = "standing_board"  # T/M BAN THƯỜNG VỤ
    PARTY_COMMITTEE = "party_committee"  # T/M ĐẢNG ỦY
    CELL_COMMITTEE = "cell_committee"  # T/M CHI ỦY
    CELL = "cell"  # T/M CHI BỘ: a cell without a committee


@dataclass(frozen=True)
class DocNames:
    """The names a document issued for one organization needs."""

    kind: OrgKind
    org_name: str  # the organization: "Chi bộ Bệnh viện Đa khoa"
    issuer: str  # the issuing body: its committee where there is one, else the organization
    superior: str  # the line above the issuer: the organization above
    doc_code: str  # in the number line: ĐUK, ĐU, CB
    signer: Signer
    has_committee: bool


def committee_name(org: Organization) -> str:
    """The committee's name: the row's, else "Đảng ủy …" for a party organization ("Đảng bộ
    Sở Y tế" → "Đảng ủy Sở Y tế") and "Chi ủy …" for a cell ("Chi ủy Chi bộ Bệnh viện …")."""
    if org.committee_name:
        return org.committee_name
    name = org.name.strip()
    if org.kind in (OrgKind.TOP, OrgKind.COMMITTEE):
        head, _, rest = name.partition(" ")
        word, _, tail = rest.partition(" ")
        if f"{head} {word}".casefold() == "đảng ủy":
            return name
        if f"{head} {word}".casefold() == "đảng bộ":
            return f"Đảng ủy {tail}".strip()
        return f"Đảng ủy {name}"
    if name.casefold().startswith("chi ủy"):
        return name
    return f"Chi ủy {name}"


def full_members(session: Session, org_id: int) -> int:
    """The cell's full members now (probationary and exempt members aside)."""
    return int(
        session.scalar(
            select(func.count(Member.id)).where(
                Member.org_id == org_id, Member.status == MemberStatus.FULL
            )
        )
        or 0
    )


def has_committee(session: Session, org: Organization) -> bool:
    """A party organization always has its committee; a cell only with 9 full members or
    more (Party Statute art. 25)."""
    if org.kind in (OrgKind.TOP, OrgKind.COMMITTEE):
        return True
    return full_members(session, org.id) >= COMMITTEE_MIN_FULL_MEMBERS


def superior_name(session: Session, org: Organization) -> str:
    """The organization above; for the top organization the setting ``document_superior``
    ({"name": …}), or "Đảng bộ <place>" when it is emptied."""
    parent = session.get(Organization, org.parent_id) if org.parent_id else None
    if parent is not None:
        return parent.name
    value = get_setting(session, "document_superior")
    name = value.get("name") if isinstance(value, dict) else None
    if name:
        return str(name)
    place = get_setting(session, "document_place")
    return f"Đảng bộ {place.get('place', '') if isinstance(place, dict) else ''}".strip()


def doc_names(session: Session, org: Organization) -> DocNames:
    """Who issues a document for ``org``, under which line, with which number code, signed on
    whose behalf."""
    committee = has_committee(session, org)
    if org.kind is OrgKind.TOP:
        signer = Signer.STANDING_BOARD
    elif org.kind is OrgKind.COMMITTEE:
        signer = Signer.PARTY_COMMITTEE
    else:
        signer = Signer.CELL_COMMITTEE if committee else Signer.CELL
    return DocNames(
        kind=org.kind,
        org_name=org.name,
        issuer=committee_name(org) if committee else org.name,
        superior=superior_name(session, org),
        doc_code=org.doc_code or DOC_CODES.get(org.kind, CELL_DOC_CODE),
        signer=signer,
        has_committee=committee,
    )
