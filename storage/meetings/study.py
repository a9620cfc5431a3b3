"""Study models (mô hình học tập và làm theo Bác): the use cases behind /model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.errors import InvalidInput, NotFound
from domain.i18n import N_
from domain.text import clean, has_letters
from storage import drafts
from storage.audit import record, snapshot
from storage.meetings.access import MODEL_FLOW, CellRef, ModelState, _actor, _require_writer
from storage.meetings.conversation import _new_key
from storage.models import (
    Draft,
    StudyModel,
)


@dataclass(frozen=True)
class ModelRow:
    """A study model as /model lists it."""

    id: int
    year: int
    title: str
    registered_on: date
    reviewed_on: date | None
    result: str | None


@dataclass(frozen=True)
class ModelOverview:
    """The /model screen of one cell."""

    org: CellRef
    year: int
    models: list[ModelRow]  # this year's
    carry_over: list[ModelRow]  # last year's, offered when this year has none


def _model_row(m: StudyModel) -> ModelRow:
    return ModelRow(m.id, m.year, m.title, m.registered_on, m.reviewed_on, m.result)


def model_overview(session: Session, *, person_id: int, org_id: int, today: date) -> ModelOverview:
    """The cell's study models of this year (and last year's when none is registered)."""
    org = _require_writer(session, person_id, org_id)
    rows = session.scalars(
        select(StudyModel)
        .where(
            StudyModel.org_id == org.id,
            StudyModel.deleted_at.is_(None),
            StudyModel.year.in_([today.year, today.year - 1]),
        )
        .order_by(StudyModel.year.desc(), StudyModel.id)
    ).all()
    this_year = [_model_row(m) for m in rows if m.year == today.year]
    last_year = [_model_row(m) for m in rows if m.year == today.year - 1]
    return ModelOverview(
        CellRef(org.id, org.code, org.name),
        today.year,
        this_year,
        [] if this_year else last_year,
    )


def start_model_entry(
    session: Session,
    *,
    person_id: int,
    org_id: int,
    now: datetime,
    model_id: int | None = None,
) -> Draft:
    """Ask for a new model's title, or (``model_id``) for the result of its yearly review."""
    _require_writer(session, person_id, org_id)
    if model_id is not None:
        model = session.get(StudyModel, model_id)
        if model is None or model.deleted_at is not None or model.org_id != org_id:
            raise NotFound()
    state = ModelState.RESULT if model_id else ModelState.TITLE
    return drafts.start(
        session,
        person_id=person_id,
        flow=MODEL_FLOW,
        state=state,
        data={"cid": _new_key(), "org_id": org_id, "model_id": model_id},
        now=now,
    )


def save_model_text(
    session: Session,
    *,
    person_id: int,
    text: str,
    today: date,
    now: datetime,
    key: int | None = None,
) -> ModelRow:
    """Register a model with the typed title, or record the typed review result (in the
    conversation ``key`` when given)."""
    draft = drafts.current(
        session, person_id, flow=MODEL_FLOW, conversation=key, states=tuple(ModelState)
    )
    org = _require_writer(session, person_id, draft.data["org_id"])
    actor = _actor(session, person_id)
    value = clean(text)
    model: StudyModel | None
    if draft.state == ModelState.TITLE:
        if not has_letters(value) or len(value) > 300:
            raise InvalidInput(
                N_("Please type the model's name, at most {limit} characters."), limit=300
            )
        model = StudyModel(
            org_id=org.id,
            year=today.year,
            title=value,
            registered_on=today,
            created_at=now,
            deleted_at=None,
        )
        session.add(model)
        session.flush()
        record(
            session,
            actor=actor,
            at=now,
            action="create",
            entity="study_model",
            entity_id=model.id,
            after=snapshot(model, ["org_id", "year", "title", "registered_on"]),
        )
    else:
        model = session.get(StudyModel, draft.data.get("model_id"))
        if model is None or model.deleted_at is not None or model.org_id != org.id:
            raise NotFound()
        if not value or len(value) > 500:
            raise InvalidInput(
                N_("Please type the result of the review, at most {limit} characters."),
                limit=500,
            )
        before = snapshot(model, ["reviewed_on", "result"])
        model.reviewed_on, model.result = today, value
        record(
            session,
            actor=actor,
            at=now,
            action="update",
            entity="study_model",
            entity_id=model.id,
            before=before,
            after=snapshot(model, ["reviewed_on", "result"]),
        )
    drafts.finish(session, person_id)
    return _model_row(model)


def carry_over_model(
    session: Session, *, person_id: int, model_id: int, today: date, now: datetime
) -> ModelRow:
    """Register last year's model again for this year (a repeated tap changes nothing)."""
    old = session.get(StudyModel, model_id)
    if old is None or old.deleted_at is not None:
        raise NotFound()
    org = _require_writer(session, person_id, old.org_id)
    same = session.scalar(
        select(StudyModel).where(
            StudyModel.org_id == org.id,
            StudyModel.year == today.year,
            StudyModel.title == old.title,
            StudyModel.deleted_at.is_(None),
        )
    )
    if same is not None:
        return _model_row(same)
    model = StudyModel(
        org_id=org.id,
        year=today.year,
        title=old.title,
        registered_on=today,
        created_at=now,
        deleted_at=None,
    )
    session.add(model)
    session.flush()
    record(
        session,
        actor=_actor(session, person_id),
        at=now,
        action="create",
        entity="study_model",
        entity_id=model.id,
        after={**snapshot(model, ["org_id", "year", "title"]), "from": old.id},
    )
    return _model_row(model)


def delete_model(session: Session, *, person_id: int, model_id: int, now: datetime) -> int:
    """Remove a model registered by mistake (soft delete). Returns its cell id."""
    model = session.get(StudyModel, model_id)
    if model is None:
        raise NotFound()
    org = _require_writer(session, person_id, model.org_id)
    if model.deleted_at is None:
        model.deleted_at = now
        record(
            session,
            actor=_actor(session, person_id),
            at=now,
            action="delete",
            entity="study_model",
            entity_id=model.id,
            before=snapshot(model, ["year", "title"]),
        )
    return org.id


def model_org(session: Session, *, person_id: int, model_id: int) -> int:
    """The cell of a study model the person may manage."""
    model = session.get(StudyModel, model_id)
    if model is None or model.deleted_at is not None:
        raise NotFound()
    _require_writer(session, person_id, model.org_id)
    return model.org_id


def cancel_model_entry(session: Session, *, person_id: int) -> bool:
    """Leave a model entry in progress (nothing is saved)."""
    draft = drafts.get(session, person_id)
    if draft is None or draft.flow != MODEL_FLOW:
        return False
    return drafts.finish(session, person_id)
