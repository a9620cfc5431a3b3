"""Admission rules: the candidate pipeline and its checks (DOMAIN.md, "Candidates and admission").

Pure functions over dates and numbers: no Telegram, no SQL. Each check returns ``None`` when the
data satisfies the rule, else a :class:`Violation` that names the rule it comes from and says
whether a higher body may grant an exception (which the secretary then records). The use cases
in :mod:`storage.candidates` raise it as :class:`RuleViolated`; the handlers explain it in the
user's language.

Every limit comes from :class:`CandidateRules`, whose defaults are the 2025 rules and which an
admin may change in the ``candidate_rules`` setting.
"""

from __future__ import annotations

import calendar as _calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from domain.errors import ChiboError
from domain.i18n import N_
from domain.rules.deadlines import WorkCalendar
from domain.vocab import CandidateStage, IntroducerForm, MemberStatus

#: The rules in force since 01/07/2025 (DOMAIN.md): cited by every check below.
RULES_2025 = "Quy định 294-QĐ/TW (2025); Hướng dẫn 06-HD/TW (2025)"
RULE_SOURCE_STAGES = f"Điều lệ Đảng, Điều 4–5; {RULES_2025} (quy trình kết nạp đảng viên)"
RULE_SOURCE_AGE = f"Điều lệ Đảng, Điều 1; {RULES_2025} (tuổi đời từ đủ 18 đến 60, tính theo tháng)"
RULE_SOURCE_CERTIFICATE = f"{RULES_2025} (giấy chứng nhận bồi dưỡng nhận thức về Đảng)"
RULE_SOURCE_INTRODUCERS = f"Điều lệ Đảng, Điều 4; {RULES_2025} (người giới thiệu)"
RULE_SOURCE_RESOLUTION = f"Điều lệ Đảng, Điều 4; {RULES_2025} (ít nhất 2/3 đảng viên chính thức)"
RULE_SOURCE_DECISION = f"{RULES_2025} (quyết định kết nạp trong 60 ngày làm việc, gia hạn 30)"
RULE_SOURCE_CEREMONY = (
    f"{RULES_2025} (lễ kết nạp trong 30 ngày làm việc kể từ khi nhận quyết định)"
)
RULE_SOURCE_PROBATION = f"Điều lệ Đảng, Điều 5; {RULES_2025} (thời kỳ dự bị 12 tháng)"
RULE_SOURCE_FULL = f"Điều lệ Đảng, Điều 5; {RULES_2025} (xét chính thức trong 30 ngày làm việc)"
RULE_SOURCE_BIRTH = f"{RULES_2025}; Luật Bảo vệ dữ liệu cá nhân 2025 (chỉ năm, tháng sinh)"
RULE_SOURCE_STALE_FILE = (
    f"{RULES_2025} (hồ sơ để quá 12 tháng chưa xem xét kết nạp: làm lại giới thiệu, nhận xét)"
)

#: The main path, in order. Exits close a file at any stage (``NOT_RECOGNIZED`` after probation).
PATH: tuple[CandidateStage, ...] = (
    CandidateStage.SYMPATHIZER,
    CandidateStage.CLASS_DONE,
    CandidateStage.MENTORS,
    CandidateStage.APPLICATION,
    CandidateStage.BACKGROUND_CHECK,
    CandidateStage.CELL_RESOLUTION,
    CandidateStage.DECISION,
    CandidateStage.PROBATION,
    CandidateStage.FULL_MEMBER,
)
EXITS: tuple[CandidateStage, ...] = (
    CandidateStage.WITHDRAWN,
    CandidateStage.NOT_ADMITTED,
    CandidateStage.EXPIRED,
    CandidateStage.NOT_RECOGNIZED,
)
#: Stages a file stays open in (still to be moved, counted in the live funnel).
OPEN_STAGES: tuple[CandidateStage, ...] = PATH[:-1]


@dataclass(frozen=True)
class CandidateRules:
    """The limits of the admission rules (setting ``candidate_rules``; defaults: 2025 rules)."""

    min_age_months: int = 18 * 12
    max_age_months: int = 60 * 12
    certificate_valid_months: int = 60
    introducer_known_months: int = 12
    youth_union_max_age_months: int = 30 * 12  # Điều lệ Đoàn TNCS Hồ Chí Minh: 16–30 tuổi
    quorum_numerator: int = 2
    quorum_denominator: int = 3
    decision_working_days: int = 60
    decision_extension_working_days: int = 30
    ceremony_working_days: int = 30
    probation_months: int = 12
    full_membership_working_days: int = 30
    file_valid_months: int = 12

    @classmethod
    def from_setting(cls, value: dict[str, Any] | None) -> CandidateRules:
        """Build from the stored setting, ignoring unknown or malformed keys."""
        known = {f.name for f in fields(cls)}
        kwargs = {
            k: int(v)
            for k, v in (value or {}).items()
            if k in known and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        }
        return cls(**kwargs)


@dataclass(frozen=True)
class Violation:
    """A broken rule: an English msgid with named ``params``, and where the rule comes from.

    ``waivable`` says the rules allow an exception approved by a higher body; the secretary may
    then record that approval and go on.
    """

    code: str
    message: str
    rule_source: str
    params: dict[str, Any] = field(default_factory=dict)
    waivable: bool = False


class RuleViolated(ChiboError):
    """A step the admission rules do not allow (explained, never silently accepted)."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.message, **violation.params)
        self.violation = violation


class CandidateClosed(ChiboError):
    """The candidate's file is closed (left, not admitted, or already a full member)."""

    message = N_("{name}'s file is closed ({stage}): nothing can be moved any more.")


# --- Stages ------------------------------------------------------------------------------------


def is_open(stage: CandidateStage) -> bool:
    """Tell whether a file at ``stage`` can still move."""
    return stage in OPEN_STAGES


def next_stage(stage: CandidateStage) -> CandidateStage | None:
    """The next stage on the main path (None when the file is closed)."""
    if not is_open(stage):
        return None
    return PATH[PATH.index(stage) + 1]


def previous_stage(stage: CandidateStage) -> CandidateStage | None:
    """The stage before ``stage`` on the main path (None at the start or when closed).

    A ceremony is not undone: after it the only way out is "not recognized".
    """
    if not is_open(stage) or stage in (PATH[0], CandidateStage.PROBATION):
        return None
    return PATH[PATH.index(stage) - 1]


def exits_from(stage: CandidateStage) -> tuple[CandidateStage, ...]:
    """The exits a file at ``stage`` may take (after the ceremony only "not recognized")."""
    if not is_open(stage):
        return ()
    if stage is CandidateStage.PROBATION:
        return (CandidateStage.NOT_RECOGNIZED,)
    return (CandidateStage.WITHDRAWN, CandidateStage.NOT_ADMITTED, CandidateStage.EXPIRED)


def check_transition(
    current: CandidateStage, target: CandidateStage, reason: str | None = None
) -> Violation | None:
    """One step forward, one step back with a reason, or an exit with a reason.

    Source: :data:`RULE_SOURCE_STAGES` — the steps of admission follow each other in order.
    """
    if not is_open(current):
        return Violation(
            "closed",
            N_("The file is closed ({stage}): nothing can be moved any more."),
            RULE_SOURCE_STAGES,
            {"stage": current.value},
        )
    has_reason = bool(reason and reason.strip())
    if target is next_stage(current):
        return None
    if target in exits_from(current) or target is previous_stage(current):
        if has_reason:
            return None
        return Violation(
            "reason_needed",
            N_("Going back a stage or closing a file needs a reason."),
            RULE_SOURCE_STAGES,
        )
    return Violation(
        "skip",
        N_("A file moves one stage at a time: from {current} it can go to {next} only."),
        RULE_SOURCE_STAGES,
        {"current": current.value, "next": (next_stage(current) or current).value},
    )


def check_step_date(day: date, previous: date | None, today: date) -> Violation | None:
    """A step is dated today or earlier, not before the step it follows."""
    if day > today:
        return Violation(
            "future", N_("{date} is in the future."), RULE_SOURCE_STAGES, {"date": day}
        )
    if previous is not None and day < previous:
        return Violation(
            "before_previous",
            N_("{date} is before the previous step ({previous})."),
            RULE_SOURCE_STAGES,
            {"date": day, "previous": previous},
        )
    return None


# --- Age ---------------------------------------------------------------------------------------


def check_birth(year: int, month: int | None, today: date) -> Violation | None:
    """A plausible birth year and month (not in the future, not more than 100 years ago)."""
    bad = (
        year > today.year
        or year < today.year - 100
        or (month is not None and not 1 <= month <= 12)
        or (month is not None and year == today.year and month > today.month)
    )
    if bad:
        return Violation(
            "birth",
            N_("A birth year of {year} is not possible."),
            RULE_SOURCE_BIRTH,
            {"year": year},
        )
    return None


def age_months(year: int, month: int, on: date) -> int:
    """Age in whole months on ``on`` of someone born in ``month``/``year`` (day unknown).

    Counting in months: born 05/2008, considered in 05/2026 → 216 months, 18 years.
    """
    return (on.year - year) * 12 + (on.month - month)


def check_age(
    birth_year: int,
    birth_month: int | None,
    on: date,
    rules: CandidateRules = CandidateRules(),
    *,
    over_age_approved: bool = False,
) -> Violation | None:
    """Age from 18 to 60 years, counted in months, at the cell's consideration on ``on``.

    Without the birth month the check takes the month that is least favourable to the
    candidate on each side (December for the lower bound, January for the upper one).
    Over 60 only with the approval of a committee directly under the Central Committee
    (``over_age_approved``, recorded by the secretary).

    Source: :data:`RULE_SOURCE_AGE`.
    """
    youngest = age_months(birth_year, birth_month or 12, on)
    oldest = age_months(birth_year, birth_month or 1, on)
    if youngest < rules.min_age_months:
        return Violation(
            "too_young",
            N_("Aged {years} years {months} months on {date}: the minimum is {min} years."),
            RULE_SOURCE_AGE,
            {
                "years": youngest // 12,
                "months": youngest % 12,
                "date": on,
                "min": rules.min_age_months // 12,
            },
        )
    if oldest > rules.max_age_months and not over_age_approved:
        return Violation(
            "too_old",
            N_(
                "Aged {years} years {months} months on {date}: over {max} years only with the "
                "approval of a committee directly under the Central Committee."
            ),
            RULE_SOURCE_AGE,
            {
                "years": oldest // 12,
                "months": oldest % 12,
                "date": on,
                "max": rules.max_age_months // 12,
            },
            waivable=True,
        )
    return None


# --- Awareness class ---------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months (29/02 + 12 months → 28/02)."""
    idx = day.year * 12 + day.month - 1 + months
    year, month = divmod(idx, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def check_certificate(
    certificate_on: date | None, on: date, rules: CandidateRules = CandidateRules()
) -> Violation | None:
    """Before a proposal: an awareness-class certificate, not older than its validity.

    Source: :data:`RULE_SOURCE_CERTIFICATE` (validity: setting, default 60 months).
    """
    if certificate_on is None:
        return Violation(
            "no_certificate",
            N_("No awareness-class certificate is recorded: the class comes before a proposal."),
            RULE_SOURCE_CERTIFICATE,
        )
    if add_months(certificate_on, rules.certificate_valid_months) < on:
        return Violation(
            "certificate_expired",
            N_(
                "The awareness-class certificate of {date} is older than {months} months: "
                "the candidate must attend the class again."
            ),
            RULE_SOURCE_CERTIFICATE,
            {"date": certificate_on, "months": rules.certificate_valid_months},
        )
    return None


# --- Introducers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Introducer:
    """A member who introduces the applicant, as the secretary recorded them."""

    member_id: int
    status: MemberStatus
    known_confirmed: bool  # the secretary confirms ≥ 12 months of working together


def check_introducers(
    form: IntroducerForm,
    members: Sequence[Introducer],
    age_in_months: int | None,
    rules: CandidateRules = CandidateRules(),
) -> Violation | None:
    """Who introduces the applicant.

    Where a Youth Union organization exists and the applicant is of Youth Union age, its
    introduction is a condition (plus one full member); likewise the trade union's for other
    applicants where a trade union exists; elsewhere two full members. The secretary says
    which case applies (``form``); each member introducer is a full member who has worked with
    the applicant for at least 12 months (the secretary confirms).

    Source: :data:`RULE_SOURCE_INTRODUCERS`.
    """
    need = 2 if form is IntroducerForm.TWO_MEMBERS else 1
    if (
        form is IntroducerForm.YOUTH_UNION
        and age_in_months is not None
        and age_in_months > rules.youth_union_max_age_months
    ):
        return Violation(
            "not_youth_age",
            N_(
                "The applicant is over Youth Union age ({max} years): no Youth Union introduction."
            ),
            RULE_SOURCE_INTRODUCERS,
            {"max": rules.youth_union_max_age_months // 12},
        )
    if len({m.member_id for m in members}) != need or len(members) != need:
        return Violation(
            "introducer_count",
            N_("This introduction needs {n} full member(s) of the cell."),
            RULE_SOURCE_INTRODUCERS,
            {"n": need},
        )
    if any(m.status is not MemberStatus.FULL for m in members):
        return Violation(
            "introducer_not_full",
            N_("Introducers must be full members (not probationary)."),
            RULE_SOURCE_INTRODUCERS,
        )
    if not all(m.known_confirmed for m in members):
        return Violation(
            "introducer_not_known",
            N_("Introducers must have worked with the applicant for at least {months} months."),
            RULE_SOURCE_INTRODUCERS,
            {"months": rules.introducer_known_months},
        )
    return None


# --- Cell resolution ---------------------------------------------------------------------------


def votes_needed(full_members: int, rules: CandidateRules = CandidateRules()) -> int:
    """Votes in favour needed: at least 2/3 of the cell's full members (rounded up)."""
    return math.ceil(full_members * rules.quorum_numerator / rules.quorum_denominator)


def check_resolution(
    in_favour: int, full_members: int, rules: CandidateRules = CandidateRules()
) -> Violation | None:
    """At least 2/3 of the cell's full members in favour (probationary members do not vote).

    Source: :data:`RULE_SOURCE_RESOLUTION`.
    """
    if full_members < 1 or in_favour < 0 or in_favour > full_members:
        return Violation(
            "votes_impossible",
            N_("{votes} votes in favour cannot come from {members} full members."),
            RULE_SOURCE_RESOLUTION,
            {"votes": in_favour, "members": full_members},
        )
    need = votes_needed(full_members, rules)
    if in_favour < need:
        return Violation(
            "votes_short",
            N_(
                "{votes} of {members} full members in favour: admission needs at least {need}. "
                "The cell does not propose admission."
            ),
            RULE_SOURCE_RESOLUTION,
            {"votes": in_favour, "members": full_members, "need": need},
        )
    return None


# --- Deadlines ---------------------------------------------------------------------------------


def decision_due(
    resolution_on: date,
    cal: WorkCalendar,
    rules: CandidateRules = CandidateRules(),
    *,
    extended: bool = False,
) -> date:
    """Last day for the admission decision: 60 working days after the resolution (+30 extended).

    Source: :data:`RULE_SOURCE_DECISION`.
    """
    days = rules.decision_working_days + (rules.decision_extension_working_days if extended else 0)
    return cal.add_working_days(resolution_on, days)


def ceremony_due(
    received_on: date, cal: WorkCalendar, rules: CandidateRules = CandidateRules()
) -> date:
    """Last day for the ceremony: 30 working days after the cell received the decision.

    Source: :data:`RULE_SOURCE_CEREMONY`.
    """
    return cal.add_working_days(received_on, rules.ceremony_working_days)


def check_decision(resolution_on: date, decision_on: date, received_on: date) -> Violation | None:
    """The decision follows the resolution; the cell receives it on or after its date."""
    if decision_on < resolution_on or received_on < decision_on:
        return Violation(
            "decision_order",
            N_(
                "The decision ({decision}) follows the resolution ({resolution}) and is received "
                "on or after its date ({received})."
            ),
            RULE_SOURCE_DECISION,
            {"decision": decision_on, "resolution": resolution_on, "received": received_on},
        )
    return None


def check_decision_deadline(
    resolution_on: date,
    decision_on: date,
    cal: WorkCalendar,
    rules: CandidateRules = CandidateRules(),
    *,
    extended: bool = False,
) -> Violation | None:
    """The decision within 60 working days of the cell's resolution; up to 30 more only when
    the deadline was extended (an exception the secretary records). Later is a breach of the
    rule: a decision that really came that late is recorded only with the breach acknowledged
    (``waivable``: the acknowledgement is kept and shown to the leaders), never silently.

    Source: :data:`RULE_SOURCE_DECISION`.
    """
    latest = decision_due(resolution_on, cal, rules, extended=True)
    if decision_on > latest:
        return Violation(
            "decision_too_late",
            N_(
                "The admission decision was due by {due} at the latest ({days} working days "
                "after the cell's resolution of {resolution}, extended by at most {extra}): a "
                "decision dated {date} is outside the rules. Please check the date with the "
                "Organization Board."
            ),
            RULE_SOURCE_DECISION,
            {
                "due": latest,
                "days": rules.decision_working_days,
                "extra": rules.decision_extension_working_days,
                "resolution": resolution_on,
                "date": decision_on,
            },
            waivable=True,
        )
    due = decision_due(resolution_on, cal, rules)
    if decision_on > due and not extended:
        return Violation(
            "decision_late",
            N_(
                "The admission decision was due by {due} ({days} working days after the "
                "cell's resolution): later only when the deadline was extended, by at most "
                "{extra} working days."
            ),
            RULE_SOURCE_DECISION,
            {
                "due": due,
                "days": rules.decision_working_days,
                "extra": rules.decision_extension_working_days,
            },
            waivable=True,
        )
    return None


def check_ceremony(
    received_on: date,
    ceremony_on: date,
    cal: WorkCalendar,
    rules: CandidateRules = CandidateRules(),
    *,
    late_approved: bool = False,
) -> Violation | None:
    """The ceremony within 30 working days of receipt; later only with the superior's approval.

    Source: :data:`RULE_SOURCE_CEREMONY`.
    """
    if ceremony_on < received_on:
        return Violation(
            "ceremony_early",
            N_("The ceremony ({date}) cannot precede the receipt of the decision ({received})."),
            RULE_SOURCE_CEREMONY,
            {"date": ceremony_on, "received": received_on},
        )
    due = ceremony_due(received_on, cal, rules)
    if ceremony_on > due and not late_approved:
        return Violation(
            "ceremony_late",
            N_(
                "The ceremony was due by {due} (30 working days after receipt): later only with "
                "the approval of the direct superior committee."
            ),
            RULE_SOURCE_CEREMONY,
            {"due": due},
            waivable=True,
        )
    return None


def probation_end(ceremony_on: date, rules: CandidateRules = CandidateRules()) -> date:
    """End of probation: 12 months from the ceremony.

    Source: :data:`RULE_SOURCE_PROBATION`.
    """
    return add_months(ceremony_on, rules.probation_months)


def full_membership_due(
    ended_on: date, cal: WorkCalendar, rules: CandidateRules = CandidateRules()
) -> date:
    """Last day for the cell to consider full membership: 30 working days after probation.

    Source: :data:`RULE_SOURCE_FULL`.
    """
    return cal.add_working_days(ended_on, rules.full_membership_working_days)


def check_full_membership_deadline(
    ended_on: date,
    considered_on: date,
    cal: WorkCalendar,
    rules: CandidateRules = CandidateRules(),
    *,
    late_approved: bool = False,
) -> Violation | None:
    """The cell considers full membership within 30 working days after probation ends; a
    later consideration is recorded only with the direct superior committee's approval.

    Source: :data:`RULE_SOURCE_FULL`.
    """
    due = full_membership_due(ended_on, cal, rules)
    if considered_on > due and not late_approved:
        return Violation(
            "full_late",
            N_(
                "Full membership was to be considered by {due} ({days} working days after "
                "probation ended on {ended}): later only with the approval of the direct "
                "superior committee."
            ),
            RULE_SOURCE_FULL,
            {"due": due, "days": rules.full_membership_working_days, "ended": ended_on},
            waivable=True,
        )
    return None


def check_file_fresh(
    introduced_on: date | None, considered_on: date, rules: CandidateRules = CandidateRules()
) -> Violation | None:
    """A file left unconsidered for more than 12 months has its introductions and comments
    redone (not the whole file) before the cell considers it: counted from the introducers'
    date to the cell's resolution.

    Source: :data:`RULE_SOURCE_STALE_FILE`.
    """
    if introduced_on is None:
        return None
    limit = add_months(introduced_on, rules.file_valid_months)
    if considered_on > limit:
        return Violation(
            "file_stale",
            N_(
                "The introductions are of {date}: the file was left unconsidered for more than "
                "{months} months, so the introductions and comments must be redone first: "
                "please tap “Redo the introductions” on the file's card and record the "
                "introducers again, then the cell's resolution."
            ),
            RULE_SOURCE_STALE_FILE,
            {"date": introduced_on, "months": rules.file_valid_months},
        )
    return None


def check_full_membership(ended_on: date, considered_on: date) -> Violation | None:
    """Full membership is considered once the 12 months of probation are over.

    Source: :data:`RULE_SOURCE_PROBATION`.
    """
    if considered_on < ended_on:
        return Violation(
            "probation_running",
            N_("Probation runs until {date}: full membership is considered after it."),
            RULE_SOURCE_PROBATION,
            {"date": ended_on},
        )
    return None
