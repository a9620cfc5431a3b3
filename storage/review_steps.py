"""The step use cases of /review and /commitments: one function per transition.

Each step takes the caller's open :class:`Session`, finds the person's draft with
:func:`storage.drafts.current` (a button of another conversation, another step or an older
key is a :class:`~domain.errors.StaleAction`), checks again *from the database* that the person
still writes for the draft's cell, records what the step records (:mod:`storage.reviews`) and
advances the draft — all in the caller's one transaction. A step that ends the conversation
returns None.

The flow of ``/review`` (states are :class:`ReviewState`)::

    board ⇄ member → (remedied | being remedied | not remedied) → board
                   → group → sign → measure (typed) → board
                   (desc (typed) → measure: a draft of an older client, no new ones)
          ⇄ comment (typed) → board          board ⇄ watch

The flow of ``/commitments`` (states are :class:`CommitState`)::

    list ⇄ member → (signed today) → list
                  → date (typed) → list
                  → item (typed, or "just the group") → member
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from domain.errors import StaleAction
from domain.rules import reviews as rules
from storage import drafts, meetings, reviews
from storage.audit import Actor
from storage.models import Draft, ReviewOutcome, SignGroup

REVIEW_FLOW = "review"
COMMIT_FLOW = "commitments"


class ReviewState(enum.StrEnum):
    """Steps of the /review conversation."""

    BOARD = "board"
    MEMBER = "member"
    GROUP = "group"
    SIGN = "sign"
    DESC = "desc"
    MEASURE = "measure"
    COMMENT = "comment"
    WATCH = "watch"


class CommitState(enum.StrEnum):
    """Steps of the /commitments conversation."""

    LIST = "list"
    MEMBER = "member"
    DATE = "date"
    ITEM = "item"


ANY_REVIEW = tuple(ReviewState)
ANY_COMMIT = tuple(CommitState)


def _set(draft: Draft, state: enum.StrEnum | None, now: datetime, **changes: Any) -> Draft:
    return drafts.advance(draft, state=state.value if state else None, now=now, **changes)


#: Per flow: its states, the state of its member list and of one member, and what going back
#: to the list drops.
_ANY: dict[str, tuple[enum.StrEnum, ...]] = {REVIEW_FLOW: ANY_REVIEW, COMMIT_FLOW: ANY_COMMIT}
_LIST = {REVIEW_FLOW: ReviewState.BOARD, COMMIT_FLOW: CommitState.LIST}
_MEMBER = {REVIEW_FLOW: ReviewState.MEMBER, COMMIT_FLOW: CommitState.MEMBER}
_DROPPED = {REVIEW_FLOW: ("member", "desc", "sign"), COMMIT_FLOW: ("member", "group")}


def _current(
    session: Session, person_id: int, key: int, flow: str, states: tuple[enum.StrEnum, ...] = ()
) -> Draft:
    draft = drafts.current(
        session, person_id, flow=flow, conversation=key, states=states or _ANY[flow]
    )
    meetings.require_writer(session, person_id, int(draft.data["org"]))
    return draft


def _review(session: Session, person_id: int, key: int, *states: ReviewState) -> Draft:
    return _current(session, person_id, key, REVIEW_FLOW, states)


def _commit(session: Session, person_id: int, key: int, *states: CommitState) -> Draft:
    return _current(session, person_id, key, COMMIT_FLOW, states)


# --- Both flows: the member list ---------------------------------------------------------------


def open_member(
    session: Session, *, flow: str, person_id: int, key: int, member_id: int, now: datetime
) -> Draft:
    """Open one member's review (``flow`` :data:`REVIEW_FLOW`) or commitment."""
    draft = _current(session, person_id, key, flow)
    return _set(draft, _MEMBER[flow], now, member=member_id)


def back_to_list(session: Session, *, flow: str, person_id: int, key: int, now: datetime) -> Draft:
    """Back to the member list (a half-typed new sign, or a chosen group, is dropped)."""
    draft = _current(session, person_id, key, flow)
    return _set(draft, _LIST[flow], now, **dict.fromkeys(_DROPPED[flow]))


def set_page(
    session: Session, *, flow: str, person_id: int, key: int, page: int, now: datetime
) -> Draft:
    """Show another page of members."""
    draft = _current(session, person_id, key, flow)
    return _set(draft, _LIST[flow], now, page=max(0, page))


# --- /review ---------------------------------------------------------------------------------


def link_month(
    session: Session,
    *,
    person_id: int,
    org_id: int,
    year: int,
    month: int,
    actor: Actor,
    now: datetime,
) -> None:
    """Reviews saved before the month's meeting was recorded join it now."""
    meetings.require_writer(session, person_id, org_id)
    reviews.link_meeting(session, org_id=org_id, year=year, month=month, actor=actor, now=now)


def start_review(
    session: Session,
    *,
    person_id: int,
    org_id: int,
    year: int,
    month: int,
    actor: Actor,
    today: date,
    now: datetime,
) -> Draft:
    """Open the month's review board of a cell the person writes for."""
    link_month(
        session, person_id=person_id, org_id=org_id, year=year, month=month, actor=actor, now=now
    )
    rules.check_review_month(year, month, today)
    return drafts.start(
        session,
        person_id=person_id,
        flow=REVIEW_FLOW,
        state=ReviewState.BOARD.value,
        data={"org": org_id, "y": year, "m": month, "page": 0},
        now=now,
    )


def set_outcome(
    session: Session,
    *,
    person_id: int,
    key: int,
    member_id: int,
    outcome: ReviewOutcome | None,
    actor: Actor,
    today: date,
    now: datetime,
) -> Draft:
    """Record remedied / being remedied / not remedied; ``None`` (a new sign) asks for the
    sign's group."""
    draft = _review(
        session, person_id, key, ReviewState.BOARD, ReviewState.MEMBER, ReviewState.GROUP
    )
    if outcome is None or outcome is ReviewOutcome.NEW_SIGN:
        return _set(draft, ReviewState.GROUP, now, member=member_id)
    reviews.record_review(
        session,
        org_id=draft.data["org"],
        member_id=member_id,
        year=draft.data["y"],
        month=draft.data["m"],
        outcome=outcome,
        actor=actor,
        now=now,
        today=today,
    )
    return _set(draft, ReviewState.BOARD, now, member=None)


def set_group(
    session: Session, *, person_id: int, key: int, member_id: int, group: SignGroup, now: datetime
) -> Draft:
    """Store the group of a new sign and offer the group's signs."""
    draft = _review(session, person_id, key, ReviewState.GROUP, ReviewState.SIGN)
    if draft.data.get("member") != member_id:
        raise StaleAction()
    return _set(draft, ReviewState.SIGN, now, group=group.value, sign=None)


def set_sign(
    session: Session, *, person_id: int, key: int, member_id: int, code: str, now: datetime
) -> Draft:
    """Store the sign picked from the group's list (signs in force) and ask for the measure."""
    draft = _review(session, person_id, key, ReviewState.SIGN, ReviewState.MEASURE)
    known = {x.code: x for x in reviews.signs_in_force(session)}
    if draft.data.get("member") != member_id or code not in known:
        raise StaleAction()
    if known[code].group.value != draft.data.get("group"):
        raise StaleAction()
    return _set(draft, ReviewState.MEASURE, now, sign=code, desc=None)


def set_description(
    session: Session, *, person_id: int, key: int, text: str, now: datetime
) -> Draft:
    """Store the typed description of a new sign and ask for the measure."""
    draft = _review(session, person_id, key, ReviewState.DESC)
    return _set(draft, ReviewState.MEASURE, now, desc=rules.check_description(text))


def set_measure(
    session: Session,
    *,
    person_id: int,
    key: int,
    text: str,
    actor: Actor,
    today: date,
    now: datetime,
) -> Draft:
    """Save the new sign of degradation with the typed measure; back to the board."""
    draft = _review(session, person_id, key, ReviewState.MEASURE)
    measure = rules.check_measure(text)
    data = draft.data
    reviews.record_review(
        session,
        org_id=data["org"],
        member_id=int(data["member"]),
        year=data["y"],
        month=data["m"],
        outcome=ReviewOutcome.NEW_SIGN,
        sign_group=SignGroup(data["group"]),
        sign_code=data.get("sign"),
        description=data.get("desc"),
        measure=measure,
        actor=actor,
        now=now,
        today=today,
    )
    return _set(draft, ReviewState.BOARD, now, member=None, desc=None, sign=None)


def ask_comment(
    session: Session, *, person_id: int, key: int, member_id: int, now: datetime
) -> Draft:
    """Ask for a comment on a member's review."""
    draft = _review(
        session, person_id, key, ReviewState.BOARD, ReviewState.MEMBER, ReviewState.COMMENT
    )
    return _set(draft, ReviewState.COMMENT, now, member=member_id)


def set_comment(
    session: Session,
    *,
    person_id: int,
    key: int,
    text: str | None,
    actor: Actor,
    now: datetime,
    member_id: int | None = None,
) -> Draft:
    """Save the typed comment (None removes it); back to the board."""
    draft = _review(session, person_id, key, ReviewState.COMMENT)
    member = int(draft.data["member"]) if member_id is None else member_id
    if member != draft.data.get("member"):
        raise StaleAction()
    reviews.set_comment(
        session,
        org_id=draft.data["org"],
        member_id=member,
        year=draft.data["y"],
        month=draft.data["m"],
        comment=text,
        actor=actor,
        now=now,
    )
    return _set(draft, ReviewState.BOARD, now, member=None)


def set_month(
    session: Session,
    *,
    person_id: int,
    key: int,
    year: int,
    month: int,
    today: date,
    now: datetime,
) -> Draft:
    """Switch the board to another month (not a future one)."""
    draft = _review(session, person_id, key)
    rules.check_review_month(year, month, today)
    return _set(draft, ReviewState.BOARD, now, y=year, m=month, page=0, member=None)


def show_watch(session: Session, *, person_id: int, key: int, now: datetime) -> Draft:
    """Show the cell's members under watch."""
    draft = _review(session, person_id, key)
    return _set(draft, ReviewState.WATCH, now)


def everyone_progressing(
    session: Session, *, person_id: int, key: int, actor: Actor, today: date, now: datetime
) -> tuple[Draft, int]:
    """Record "progressing" for everyone not yet reviewed this month; returns how many."""
    draft = _review(session, person_id, key, ReviewState.BOARD, ReviewState.MEMBER)
    done = reviews.mark_all_progressing(
        session,
        org_id=draft.data["org"],
        year=draft.data["y"],
        month=draft.data["m"],
        actor=actor,
        now=now,
        today=today,
    )
    return _set(draft, ReviewState.BOARD, now, member=None), done


def end_review(session: Session, *, person_id: int, key: int) -> reviews.MonthBoard:
    """Close the review (everything was saved as it went); returns the month's board."""
    draft = _review(session, person_id, key)
    board = reviews.month_board(
        session, org_id=draft.data["org"], year=draft.data["y"], month=draft.data["m"]
    )
    drafts.finish(session, person_id)
    return board


# --- /commitments ----------------------------------------------------------------------------


def start_commitments(
    session: Session, *, person_id: int, org_id: int, year: int, today: date, now: datetime
) -> Draft:
    """Open the year's commitments of a cell the person writes for."""
    meetings.require_writer(session, person_id, org_id)
    if not 2000 <= year <= today.year + 1:
        raise StaleAction()
    return drafts.start(
        session,
        person_id=person_id,
        flow=COMMIT_FLOW,
        state=CommitState.LIST.value,
        data={"org": org_id, "year": year, "page": 0},
        now=now,
    )


def _commit_kw(draft: Draft, member_id: int, actor: Actor, now: datetime) -> dict[str, Any]:
    return {
        "org_id": draft.data["org"],
        "member_id": member_id,
        "year": draft.data["year"],
        "actor": actor,
        "now": now,
    }


def signed_today(
    session: Session,
    *,
    person_id: int,
    key: int,
    member_id: int,
    actor: Actor,
    today: date,
    now: datetime,
) -> Draft:
    """Record the commitment as signed today; back to the list."""
    draft = _commit(session, person_id, key, CommitState.MEMBER, CommitState.LIST)
    reviews.record_commitment(
        session, signed_on=today, today=today, **_commit_kw(draft, member_id, actor, now)
    )
    return _set(draft, CommitState.LIST, now, member=None)


def ask_date(
    session: Session, *, person_id: int, key: int, member_id: int, now: datetime
) -> Draft:
    """Ask for the date the commitment was signed."""
    draft = _commit(session, person_id, key, CommitState.MEMBER, CommitState.DATE)
    return _set(draft, CommitState.DATE, now, member=member_id)


def signed_on(
    session: Session,
    *,
    person_id: int,
    key: int,
    text: str,
    actor: Actor,
    today: date,
    now: datetime,
) -> Draft:
    """Record the commitment with the typed signing date; back to the list."""
    draft = _commit(session, person_id, key, CommitState.DATE)
    day = rules.parse_day(text, today)
    reviews.record_commitment(
        session,
        signed_on=day,
        today=today,
        **_commit_kw(draft, int(draft.data["member"]), actor, now),
    )
    return _set(draft, CommitState.LIST, now, member=None)


def ask_item(
    session: Session,
    *,
    person_id: int,
    key: int,
    member_id: int,
    group: SignGroup | None,
    now: datetime,
) -> Draft:
    """Ask for a shortcoming of ``group`` (or a typed one)."""
    draft = _commit(session, person_id, key, CommitState.MEMBER, CommitState.ITEM)
    value = group.value if group else None
    return _set(draft, CommitState.ITEM, now, member=member_id, group=value)


def add_item(
    session: Session,
    *,
    person_id: int,
    key: int,
    member_id: int | None,
    group: SignGroup | None,
    text: str | None,
    actor: Actor,
    now: datetime,
) -> Draft:
    """Add an item (the typed shortcoming, or just the group); back to the member."""
    draft = _commit(session, person_id, key, CommitState.ITEM, CommitState.MEMBER)
    member = int(draft.data["member"]) if member_id is None else member_id
    if text is not None and draft.state != CommitState.ITEM:
        raise StaleAction()
    if group is None and draft.data.get("group"):
        group = SignGroup(draft.data["group"])
    reviews.add_commitment_item(
        session, sign_group=group, text=text, **_commit_kw(draft, member, actor, now)
    )
    return _set(draft, CommitState.MEMBER, now, group=None)


def clear_items(
    session: Session, *, person_id: int, key: int, member_id: int, actor: Actor, now: datetime
) -> Draft:
    """Remove every item of the member's commitment."""
    draft = _commit(session, person_id, key, CommitState.MEMBER)
    reviews.clear_commitment_items(session, **_commit_kw(draft, member_id, actor, now))
    return _set(draft, None, now)


def set_public(
    session: Session,
    *,
    person_id: int,
    key: int,
    member_id: int,
    public: bool,
    actor: Actor,
    now: datetime,
) -> Draft:
    """Set whether the commitment was made public."""
    draft = _commit(session, person_id, key, CommitState.MEMBER)
    reviews.set_made_public(
        session, made_public=public, **_commit_kw(draft, member_id, actor, now)
    )
    return _set(draft, None, now)


def all_signed_today(
    session: Session, *, person_id: int, key: int, actor: Actor, today: date, now: datetime
) -> tuple[Draft, int, int]:
    """Record a commitment signed today for every member still without one; returns the
    draft, how many were recorded and how many skipped (admitted later)."""
    draft = _commit(session, person_id, key, CommitState.LIST)
    done, skipped = reviews.mark_all_signed(
        session,
        org_id=draft.data["org"],
        year=draft.data["year"],
        signed_on=today,
        actor=actor,
        now=now,
        today=today,
    )
    return _set(draft, CommitState.LIST, now, member=None), done, skipped


def end_commitments(session: Session, *, person_id: int, key: int) -> reviews.CommitmentBoard:
    """Close the commitments list; returns the year's board."""
    draft = _commit(session, person_id, key)
    board = reviews.commitment_board(session, org_id=draft.data["org"], year=draft.data["year"])
    drafts.finish(session, person_id)
    return board
