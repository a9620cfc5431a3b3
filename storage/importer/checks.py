"""The rules that need the database: superior organizations, cells, cycles, the one top
organization, organization types."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from domain.i18n import N_
from storage.importer.columns import (
    CELL_KINDS,
    DATA_SHEETS,
    KIND_KEYS,
    KIND_WORDS,
    MEMBER_COLUMNS,
    MEMBER_FIELDS,
    MIN_YEAR,
    ORG_COLUMNS,
    SHEET_MEMBERS,
    SHEET_ORGS,
    key,
)
from storage.importer.reading import show_value
from storage.importer.results import ImportBatch, RowError
from storage.models import (
    Member,
    Organization,
    OrgKind,
    OrgType,
)
from storage.seed import ORG_TYPES, get_setting


@dataclass
class Reference:
    """What the database holds, loaded with one query per table."""

    orgs: dict[str, Organization]
    member_orgs: dict[str, int]
    members: dict[str, Row[Any]]  # id, code and the imported fields; no ORM objects
    org_types: dict[str, str]  # key(code or name) -> code
    type_codes_in_db: set[str]
    kind_keys: dict[str, OrgKind]

    @classmethod
    def load(cls, session: Session, *, full_members: bool) -> Reference:
        """Load organizations, members (codes only unless ``full_members``) and types."""
        orgs = {o.code: o for o in session.scalars(select(Organization))}
        members: dict[str, Row[Any]] = {}
        # Member codes compare case-insensitively (older imports kept them as typed).
        if full_members:
            # Plain rows, not ORM objects: 20,000 members compare in a fraction of the memory;
            # only the members that change are loaded as objects (see apply).
            fields = [getattr(Member, name) for name in MEMBER_FIELDS]
            members = {
                m.code.upper(): m for m in session.execute(select(Member.id, Member.code, *fields))
            }
            member_orgs = {c: m.org_id for c, m in members.items()}
        else:
            member_orgs = {
                c.upper(): o for c, o in session.execute(select(Member.code, Member.org_id))
            }
        db_types = [(t.code, t.name_vi, t.name_en) for t in session.scalars(select(OrgType))]
        types = db_types or ORG_TYPES
        org_types: dict[str, str] = {}
        for code, vi, en in types:
            for word in (en, vi, code):  # codes win over names on a clash
                org_types[key(word)] = code
        kind_keys = dict(KIND_KEYS)
        level_names = get_setting(session, "level_names")
        if isinstance(level_names, dict):
            for kind in OrgKind:
                name = level_names.get(kind.value)
                if isinstance(name, str) and key(name):
                    kind_keys[key(name)] = kind
        return cls(orgs, member_orgs, members, org_types, {t[0] for t in db_types}, kind_keys)


def _kind_choices() -> str:
    return ", ".join(words[0] for words in KIND_WORDS.values())


def check_batch(batch: ImportBatch, ref: Reference, today: date) -> list[RowError]:
    errors = list(batch.errors)

    def add(sheet: str, row: int | None, column: str | None, reason: str, **p: object) -> None:
        errors.append(RowError(sheet, row, column, reason, p))

    org_header = {c.field: c.header for c in ORG_COLUMNS}
    member_header = {c.field: c.header for c in MEMBER_COLUMNS}
    code_by_id = {o.id: code for code, o in ref.orgs.items()}
    # The tree as it will be: database rows, overridden by the file's rows.
    kinds: dict[str, OrgKind | None] = {code: o.kind for code, o in ref.orgs.items()}
    parents: dict[str, str | None] = {
        code: code_by_id.get(o.parent_id) if o.parent_id else None for code, o in ref.orgs.items()
    }
    file_orgs = {r.code: r for r in batch.orgs}
    for r in batch.orgs:
        kind = ref.kind_keys.get(key(r.kind_text)) if r.kind_text else None
        if r.kind_text and kind is None:
            add(
                SHEET_ORGS,
                r.row,
                org_header["kind"],
                N_("unknown level '{value}'; use one of: {choices}"),
                value=show_value(r.kind_text),
                choices=_kind_choices(),
            )
        if r.org_type_text and key(r.org_type_text) not in ref.org_types:
            add(
                SHEET_ORGS,
                r.row,
                org_header["org_type"],
                N_("unknown organization type '{value}'; see the LoaiHinh sheet for the codes"),
                value=show_value(r.org_type_text),
            )
        kinds[r.code] = kind
        parents[r.code] = r.parent_code

    for r in batch.orgs:
        kind = kinds[r.code]
        column = org_header["parent_code"]
        if kind is OrgKind.TOP and r.parent_code:
            add(
                SHEET_ORGS,
                r.row,
                column,
                N_("the top organization cannot have a superior organization"),
            )
        elif kind is not None and kind is not OrgKind.TOP and not r.parent_code:
            add(
                SHEET_ORGS,
                r.row,
                column,
                N_(
                    "a superior organization code is required (only the top organization has none)"
                ),
            )
        elif r.parent_code and r.parent_code not in kinds:
            add(
                SHEET_ORGS,
                r.row,
                column,
                N_("superior organization {code} is neither in this file nor in the database"),
                code=r.parent_code,
            )
        chain = _cycle(r.code, parents)
        if chain:
            add(
                SHEET_ORGS,
                r.row,
                column,
                N_("the chain of superior organizations loops back: {chain}"),
                chain=" → ".join(chain),
            )

    if SHEET_ORGS in batch.sheets:
        tops = sorted(code for code, kind in kinds.items() if kind is OrgKind.TOP)
        if not tops:
            add(
                SHEET_ORGS,
                None,
                None,
                N_("there must be exactly one top organization (Cấp: {word}); found none"),
                word=KIND_WORDS[OrgKind.TOP][0],
            )
        elif len(tops) > 1:
            lines: list[int | None] = [file_orgs[c].row for c in tops if c in file_orgs]
            for row in lines or [None]:
                add(
                    SHEET_ORGS,
                    row,
                    org_header["kind"] if row else None,
                    N_("there must be exactly one top organization; found {count}: {codes}"),
                    count=len(tops),
                    codes=", ".join(tops),
                )

    file_members = {m.code for m in batch.members}
    staying_in = Counter(
        org_id for code, org_id in ref.member_orgs.items() if code not in file_members
    )
    for r in batch.orgs:
        kind = kinds[r.code]
        existing = ref.orgs.get(r.code)
        if kind is None or kind in CELL_KINDS or existing is None:
            continue
        staying = staying_in[existing.id]
        if staying:
            add(
                SHEET_ORGS,
                r.row,
                org_header["kind"],
                N_(
                    "members in the database belong to this organization ({count}), so it must "
                    "stay a cell"
                ),
                count=staying,
            )

    for m in batch.members:
        if m.birth_year is not None and not MIN_YEAR <= m.birth_year <= today.year:
            add(
                SHEET_MEMBERS,
                m.row,
                member_header["birth_year"],
                N_("the birth year must be between 1900 and {max} ({value})"),
                max=today.year,
                value=m.birth_year,
            )
        if m.org_code is None:
            continue
        if m.org_code not in kinds:
            add(
                SHEET_MEMBERS,
                m.row,
                member_header["org_code"],
                N_("organization {code} is neither in this file nor in the database"),
                code=m.org_code,
            )
        elif kinds[m.org_code] is not None and kinds[m.org_code] not in CELL_KINDS:
            add(
                SHEET_MEMBERS,
                m.row,
                member_header["org_code"],
                N_(
                    "{code} is not a cell; members belong to a cell (Chi bộ cơ sở or Chi bộ "
                    "trực thuộc)"
                ),
                code=m.org_code,
            )

    order = {sheet: i for i, sheet in enumerate(DATA_SHEETS)}
    errors.sort(key=lambda e: (order.get(e.sheet, -1), e.row or 0))
    return errors


def _cycle(start: str, parents: Mapping[str, str | None]) -> list[str] | None:
    """The loop of superior organizations through ``start``, if there is one."""
    chain = [start]
    seen = {start}
    current = parents.get(start)
    while current is not None:
        chain.append(current)
        if current == start:
            return chain
        if current in seen:
            return None  # a loop above us; its own rows report it
        seen.add(current)
        current = parents.get(current)
    return None


def validate(session: Session, batch: ImportBatch, *, today: date | None = None) -> list[RowError]:
    """Return every error of the batch, including those that need the database."""
    ref = Reference.load(session, full_members=False)
    return check_batch(batch, ref, today or datetime.now(UTC).date())
