"""Writing: upserts by code in the caller's transaction, one audit row per created or changed
record; new members with core ``INSERT`` statements in chunks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from domain.text import fold
from storage import membership
from storage.audit import Actor, jsonable, record
from storage.importer.checks import Reference, check_batch
from storage.importer.columns import (
    IMPORT_TZ,
    MEMBER_FIELDS,
    MEMBER_NAME_MAX,
    ORG_FIELDS,
    ORG_TEXT_MAX,
    key,
)
from storage.importer.results import ImportBatch, ImportInvalid, ImportResult, OrgRow
from storage.models import (
    AuditLog,
    Member,
    Organization,
    OrgType,
)
from storage.seed import ORG_TYPES


def _diff(obj: object, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            before[name] = old
            after[name] = value
    return before, after


def apply(session: Session, batch: ImportBatch, *, actor: Actor, now: datetime) -> ImportResult:
    """Upsert the batch by code in the caller's transaction; raise :class:`ImportInvalid`."""
    ref = Reference.load(session, full_members=True)
    errors = check_batch(batch, ref, now.date())
    if errors:
        raise ImportInvalid(errors)
    counts = Counter[str]()

    # Types named by the file that the database lacks (only when its list is still empty).
    wanted = {ref.org_types[key(r.org_type_text)] for r in batch.orgs if r.org_type_text}
    for sort, (code, vi, en) in enumerate(ORG_TYPES):
        if code in wanted and code not in ref.type_codes_in_db:
            session.add(OrgType(code=code, name_vi=vi, name_en=en, sort=sort))

    ids = {code: o.id for code, o in ref.orgs.items()}
    code_by_id = {i: code for code, i in ids.items()}
    parent_of = {
        code: code_by_id.get(o.parent_id) if o.parent_id else None for code, o in ref.orgs.items()
    }
    parent_of.update({r.code: r.parent_code for r in batch.orgs})

    def depth(code: str) -> int:
        n, current = 0, parent_of.get(code)
        while current is not None:
            n, current = n + 1, parent_of.get(current)
        return n

    levels: dict[int, list[OrgRow]] = {}
    for r in batch.orgs:
        levels.setdefault(depth(r.code), []).append(r)
    for level in sorted(levels):
        created: list[Organization] = []
        for r in levels[level]:
            assert r.name is not None and r.kind_text is not None
            values: dict[str, Any] = {
                "name": r.name,
                "name_folded": fold(r.name)[:ORG_TEXT_MAX],
                "kind": ref.kind_keys[key(r.kind_text)],
                "org_type": ref.org_types[key(r.org_type_text)] if r.org_type_text else None,
                "parent_id": ids[r.parent_code] if r.parent_code else None,
                "host_unit": r.host_unit,
                "usual_meeting_day": r.usual_day,
                "active_from": r.active_from,
                "active_to": r.active_to,
            }
            org = ref.orgs.get(r.code)
            if org is None:
                org = Organization(code=r.code, created_at=now, updated_at=now, **values)
                session.add(org)
                created.append(org)
                continue
            before, after = _diff(org, values)
            if not after:
                counts["unchanged"] += 1
                continue
            for name, value in after.items():
                setattr(org, name, value)
            org.updated_at = now
            counts["updated"] += 1
            record(
                session,
                actor=actor,
                at=now,
                action="update",
                entity="organization",
                entity_id=org.id,
                before=before,
                after=after,
            )
        session.flush()
        for org in created:
            ids[org.code] = org.id
            counts["created"] += 1
            record(
                session,
                actor=actor,
                at=now,
                action="create",
                entity="organization",
                entity_id=org.id,
                after=_snapshot(org, ("code", *ORG_FIELDS)),
            )

    new_members: list[dict[str, Any]] = []
    for mrow in batch.members:
        assert mrow.full_name is not None and mrow.org_code is not None
        values = {
            "org_id": ids[mrow.org_code],
            "full_name": mrow.full_name,
            "name_folded": fold(mrow.full_name)[:MEMBER_NAME_MAX],
            "gender": mrow.gender,
            "birth_year": mrow.birth_year,
            "birth_month": mrow.birth_month,
            "status": mrow.status,
            "admitted_on": mrow.admitted_on,
            "ceremony_on": mrow.ceremony_on,
            "probation_end_on": mrow.probation_end_on,
            "full_member_on": mrow.full_member_on,
            "external_code": mrow.external_code,
        }
        known = ref.members.get(mrow.code)
        if known is None:
            new_members.append({"code": mrow.code, **values})
            continue
        before, after = _diff(known, values)
        if not after:
            counts["unchanged"] += 1
            continue
        member = session.get_one(Member, known.id)
        # A move to another cell or a new status is recorded with its date (the import day):
        # earlier months keep counting the member where and as what they were then.
        moved_on = now.astimezone(IMPORT_TZ).date()
        changes = dict(after)
        if "org_id" in changes:
            membership.record_transfer(
                session,
                member=member,
                to_org_id=changes.pop("org_id"),
                on=moved_on,
                source="import",
                actor=actor,
                now=now,
            )
        if "status" in changes:
            membership.record_status(
                session,
                member=member,
                status=changes.pop("status"),
                on=moved_on,
                source="import",
                now=now,
            )
        for name, value in changes.items():
            setattr(member, name, value)
        member.updated_at = now
        counts["updated"] += 1
        record(
            session,
            actor=actor,
            at=now,
            action="update",
            entity="member",
            entity_id=member.id,
            before=before,
            after=after,
        )
    session.flush()
    counts["created"] += _insert_members(session, new_members, actor=actor, now=now)
    return ImportResult(counts["created"], counts["updated"], counts["unchanged"])


#: Rows per INSERT statement of new members and their audit rows.
INSERT_CHUNK = 1000


def _insert_members(
    session: Session, rows: list[dict[str, Any]], *, actor: Actor, now: datetime
) -> int:
    """Insert new members with core ``INSERT`` statements in chunks, each with its audit row
    (the same row :func:`storage.audit.record` writes), without building ORM objects."""
    audit_base = {
        "at": now,
        "actor_person_id": actor.person_id,
        "actor": actor.label[:120],
        "action": "create",
        "entity": "member",
        "before": None,
    }
    # render_nulls: a None is sent as NULL (no member column has a default), so every row of a
    # chunk has the same columns and goes in one batch; without it the ORM splits the chunk at
    # each change in which fields are empty (about 10,900 statements for 20,000 members).
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(
            insert(Member),
            [
                {**row, "created_at": now, "updated_at": now}
                for row in rows[start : start + INSERT_CHUNK]
            ],
            execution_options={"render_nulls": True},
        )
    # The new ids by code, in one query (RETURNING in order costs more than it saves here).
    created = {row["code"] for row in rows}
    ids = {
        code: member_id
        for code, member_id in session.execute(select(Member.code, Member.id))
        if code in created
    }
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(
            insert(AuditLog),
            [
                {
                    **audit_base,
                    "entity_id": str(ids[row["code"]]),
                    "after": {name: jsonable(row[name]) for name in ("code", *MEMBER_FIELDS)},
                }
                for row in rows[start : start + INSERT_CHUNK]
            ],
        )
    return len(rows)


def _snapshot(obj: object, names: Iterable[str]) -> dict[str, Any]:
    return {name: jsonable(getattr(obj, name)) for name in names}
