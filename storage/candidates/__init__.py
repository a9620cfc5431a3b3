"""Candidates: the use cases behind /candidates (/camtinh).

Each public function is one use case: keyword-only, takes the open :class:`Session` of the
caller's transaction, checks the person's role *from the database* (a button is never
trusted), checks the admission rules of :mod:`domain.rules.candidates`, and writes an audit
row for every change. A file's ``version`` goes up with every move, and a move names the
version it started from: when two secretaries move the same candidate at once, the first one
wins and the second is told (:class:`ConcurrentChange`).

The conversation (one :class:`~storage.models.Draft` of flow ``candidate``; states are
:class:`State`) has three shapes::

    add:       name (typed) → gender → decade → year → month (→ duplicate?) → unit → groups → saved
    consider:  the list, with "to the class" / "propose" toggles → recorded (discharges the month)
    move:      a dated step of one file: date / form → introducers / votes / received date /
               reason (back, exit) (→ record a higher body's approval) → moved

The use cases live in one module per section (``base``: vocabulary, access and limits;
``reading``; ``conversation``; ``adding``; ``consideration``; ``moves``); this package
re-exports them, so callers keep writing ``from storage import candidates as cs``.
"""

from __future__ import annotations

from storage.candidates.adding import (
    Added,
    back_to_decades,
    birth_decades,
    keep_duplicate,
    save_candidate,
    set_decade,
    set_gender,
    set_month,
    set_name,
    set_unit,
    set_year,
    start_add,
    toggle_group,
    type_unit,
    type_year,
    unit_choices,
)
from storage.candidates.base import (
    APPROVAL_DECISION_BREACHED,
    APPROVAL_DECISION_EXTENDED,
    APPROVAL_LATE_CEREMONY,
    APPROVAL_LATE_FULL,
    APPROVAL_OVER_AGE,
    FLOW,
    NAME_MAX,
    REASON_MAX,
    UNIT_MAX,
    ConcurrentChange,
    DuplicateCandidate,
    State,
    candidate_rules,
    cells,
    work_calendar,
)
from storage.candidates.consideration import (
    Considered,
    check_proposal,
    late_consideration,
    meeting_asks,
    record_consider,
    record_from_meeting,
    start_consider,
    toggle_consider,
    toggle_consider_month,
)
from storage.candidates.conversation import cancel, conversation_key, current
from storage.candidates.moves import (
    Moved,
    confirm_introducers,
    extend_decision,
    introducer_choices,
    record_approval,
    set_form,
    set_step_date,
    start_move,
    start_redo_introductions,
    toggle_introducer,
    type_reason,
    type_step_date,
    type_votes,
)
from storage.candidates.reading import (
    CandidateRow,
    CellList,
    Deadline,
    card,
    cell_list,
    deadline_of,
    introduced_on,
    introductions_stale,
    org_of,
)

__all__ = [
    "APPROVAL_DECISION_BREACHED",
    "APPROVAL_DECISION_EXTENDED",
    "APPROVAL_LATE_CEREMONY",
    "APPROVAL_LATE_FULL",
    "APPROVAL_OVER_AGE",
    "FLOW",
    "NAME_MAX",
    "REASON_MAX",
    "UNIT_MAX",
    "Added",
    "CandidateRow",
    "CellList",
    "ConcurrentChange",
    "Considered",
    "Deadline",
    "DuplicateCandidate",
    "Moved",
    "State",
    "back_to_decades",
    "birth_decades",
    "cancel",
    "candidate_rules",
    "card",
    "cell_list",
    "cells",
    "check_proposal",
    "confirm_introducers",
    "conversation_key",
    "current",
    "deadline_of",
    "extend_decision",
    "introduced_on",
    "introducer_choices",
    "introductions_stale",
    "keep_duplicate",
    "late_consideration",
    "meeting_asks",
    "org_of",
    "record_approval",
    "record_consider",
    "record_from_meeting",
    "save_candidate",
    "set_decade",
    "set_form",
    "set_gender",
    "set_month",
    "set_name",
    "set_step_date",
    "set_unit",
    "set_year",
    "start_add",
    "start_consider",
    "start_move",
    "start_redo_introductions",
    "toggle_consider",
    "toggle_consider_month",
    "toggle_group",
    "toggle_introducer",
    "type_reason",
    "type_step_date",
    "type_unit",
    "type_votes",
    "type_year",
    "unit_choices",
    "work_calendar",
]
