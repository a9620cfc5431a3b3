"""Cell-meeting rules (DOMAIN.md, "Cell meetings"): dates, durations, content, secrecy, quality.

Plain functions over dates, numbers and strings: no Telegram, no SQL. Each rule names its
source so that, when a rule is replaced, an admin re-points it instead of a developer
rewriting code. Thresholds that are configurable come in as arguments (from ``settings``).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from domain.text import visible
from domain.vocab import AbsenceReason, MeetingKind

RULE_SOURCE_REGULAR = "Điều lệ Đảng; Hướng dẫn về sinh hoạt chi bộ (định kỳ mỗi tháng một lần)"
RULE_SOURCE_THEMATIC = "Hướng dẫn về sinh hoạt chi bộ (chuyên đề ít nhất mỗi quý một lần)"
RULE_SOURCE_DURATION = "Hướng dẫn 42-HD/BTCTW (2025) về sinh hoạt chi bộ"
RULE_SOURCE_CONTENT = "Kế hoạch 12-KH/ĐUK; Quy định 4842-QĐ/TU, khoản 3 điều 4"
RULE_SOURCE_RECORD_WINDOW = (
    "chibo: ghi nhận kịp thời (tháng này và tháng trước; cũ hơn phải xác nhận)"
)
RULE_SOURCE_SECRET = "Luật Bảo vệ bí mật nhà nước số 29/2018/QH14; Nghị định 356/2025/NĐ-CP"
RULE_SOURCE_QUALITY = "Hướng dẫn đánh giá chất lượng sinh hoạt chi bộ của tỉnh"

#: Longest topic of a thematic meeting (the column holds 500 characters).
TOPIC_MAX = 500
#: Longest reference to the minutes book ("Biên bản số 11/BB-CB, sổ 2026").
MINUTES_REF_MAX = 120
#: Longest typed guest name.
GUEST_NAME_MAX = 120
#: Plausible meeting durations (minutes) a secretary may type.
DURATION_MIN, DURATION_MAX = 10, 600
#: Most guests other than superior committee members one meeting records.
OTHER_GUESTS_MAX = 200


# --- Regular meetings ------------------------------------------------------------------------


def regular_key(org_id: int, kind: MeetingKind, day: date) -> str | None:
    """The unique key of a live regular (or combined) meeting: one per cell and month.

    Source: :data:`RULE_SOURCE_REGULAR` — every cell holds its regular meeting once a month.
    """
    if not kind.counts_as_regular:
        return None
    return f"{org_id}:{day.year:04d}-{day.month:02d}"


def usual_day_in_month(usual_day: int | None, today: date) -> date | None:
    """The cell's usual meeting day in ``today``'s month, if it is not in the future.

    A usual day of 31 means the last day of shorter months.
    """
    if not usual_day or usual_day < 1:
        return None
    day = date(today.year, today.month, min(usual_day, _month_length(today.year, today.month)))
    return day if day <= today else None


def _month_length(year: int, month: int) -> int:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


# --- Dates -----------------------------------------------------------------------------------


class DateProblem(enum.StrEnum):
    """Why a typed date cannot be read."""

    FORMAT = "format"  # not d/m or d/m/yyyy
    NO_SUCH_DATE = "no_such_date"  # 31/2
    TWO_DIGIT_YEAR = "two_digit_year"  # 5/11/26 is ambiguous in records kept for decades


class DateError(ValueError):
    """A typed date that cannot be read; ``problem`` says why."""

    def __init__(self, problem: DateProblem, text: str) -> None:
        super().__init__(f"{problem.value}: {text!r}")
        self.problem = problem


_DATE = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d+))?$")
#: A date typed without a year is read as this year unless that is further ahead than this.
_NO_YEAR_LOOKAHEAD = timedelta(days=60)


def parse_date(text: str, today: date) -> date:
    """Read ``5/11``, ``05/11/2026``, ``5-11-2026`` or ``5.11.2026`` (day first).

    Without a year, the current year is meant — unless that lands more than two months
    ahead (typing 28/12 on 5 January means last December).

    Raises:
        DateError: with the reason (format, a day that does not exist, a two-digit year).
    """
    m = _DATE.match(unicodedata.normalize("NFKC", text).strip())
    if not m:
        raise DateError(DateProblem.FORMAT, text)
    day, month, year_text = int(m.group(1)), int(m.group(2)), m.group(3)
    if year_text is None:
        try:
            value = date(today.year, month, day)
        except ValueError as exc:
            raise DateError(DateProblem.NO_SUCH_DATE, text) from exc
        if value - today > _NO_YEAR_LOOKAHEAD:
            try:
                value = date(today.year - 1, month, day)
            except ValueError as exc:
                raise DateError(DateProblem.NO_SUCH_DATE, text) from exc
        return value
    if len(year_text) == 2:
        raise DateError(DateProblem.TWO_DIGIT_YEAR, text)
    if len(year_text) != 4:
        raise DateError(DateProblem.FORMAT, text)
    try:
        return date(int(year_text), month, day)
    except ValueError as exc:
        raise DateError(DateProblem.NO_SUCH_DATE, text) from exc


class DateVerdict(enum.StrEnum):
    """Whether a meeting date can be recorded."""

    OK = "ok"
    FUTURE = "future"  # refused: a meeting is recorded after it is held
    NEEDS_CONFIRMATION = "confirm"  # older than the previous month: ask "really?"
    TOO_OLD = "too_old"  # refused: more than a year back belongs to the minutes book


def earliest_unconfirmed(today: date) -> date:
    """The first day of the previous month: dates from here to today need no confirmation."""
    first = today.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def earliest_recordable(today: date) -> date:
    """The first day of the month twelve months back: older dates are refused."""
    year, month = today.year - 1, today.month
    return date(year, month, 1)


def check_date(day: date, today: date) -> DateVerdict:
    """Judge a meeting date against today.

    Source: :data:`RULE_SOURCE_RECORD_WINDOW` — meetings are logged soon after they are
    held; the current and previous month are normal, up to twelve months back needs a
    confirmation (a late entry), anything older or in the future is refused.
    """
    if day > today:
        return DateVerdict.FUTURE
    if day >= earliest_unconfirmed(today):
        return DateVerdict.OK
    if day >= earliest_recordable(today):
        return DateVerdict.NEEDS_CONFIRMATION
    return DateVerdict.TOO_OLD


# --- Duration --------------------------------------------------------------------------------


def minimum_minutes(kind: MeetingKind, minimums: Mapping[str, int]) -> int | None:
    """The guidance's minimum length of a meeting of ``kind`` (None: no minimum).

    Source: :data:`RULE_SOURCE_DURATION` — at least 90 minutes for every cell meeting (regular,
    thematic, committee, extraordinary), 120 when a regular and a thematic meeting are combined.
    The setting ``meeting_min_minutes`` holds ``regular`` (every meeting) and ``combined``; a
    key named after a kind overrides it for that kind (0: no minimum).
    """
    if kind is MeetingKind.COMBINED:
        value = int(minimums.get("combined", 120))
    else:
        value = int(minimums.get(kind.value, minimums.get("regular", 90)))
    return value if value > 0 else None


def duration_shortfall(
    kind: MeetingKind, minutes: int | None, minimums: Mapping[str, int]
) -> int | None:
    """The minimum the meeting fell short of, or None. A warning, never a refusal."""
    required = minimum_minutes(kind, minimums)
    if required is None or minutes is None or minutes >= required:
        return None
    return required


_MINUTES = re.compile(r"^(\d{1,3})\s*(?:p|ph|phut|min|mins|minutes?|m|')?\.?$")
_HOURS = re.compile(r"^(\d{1,2})\s*(?:h|g|gio|hours?|:)\s*(\d{1,2})?\s*(?:p|ph|phut|m|min)?\.?$")


def parse_minutes(text: str) -> int | None:
    """Read a typed duration: ``100``, ``100 phút``, ``1h30``, ``1 giờ 30``, ``2h``, ``1:45``.

    Returns None when it cannot be read or is outside 10–600 minutes.
    """
    folded = _fold(text).replace(" ", "")
    value: int | None = None
    if m := _MINUTES.match(folded):
        value = int(m.group(1))
    elif m := _HOURS.match(folded):
        value = int(m.group(1)) * 60 + int(m.group(2) or 0)
    if value is None or not DURATION_MIN <= value <= DURATION_MAX:
        return None
    return value


# --- Content ---------------------------------------------------------------------------------

#: The content the plan expects in a regular meeting, in checklist order.
#: Source: :data:`RULE_SOURCE_CONTENT`.
CONTENT_ITEMS: tuple[str, ...] = (
    "criticism",  # tự phê bình và phê bình (Nghị quyết Trung ương 4)
    "ho_chi_minh",  # học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh
    "commitments",  # kiểm điểm việc thực hiện cam kết tu dưỡng hằng tháng
    "new_members",  # công tác phát triển đảng viên
    "current_affairs",  # thông tin thời sự
)


def default_content(kind: MeetingKind) -> dict[str, bool]:
    """The pre-ticked checklist: all five items for a regular meeting, none otherwise.

    The secretary unticks what did not happen (the common case is one tap).
    """
    ticked = kind.counts_as_regular
    return dict.fromkeys(CONTENT_ITEMS, ticked)


# --- Attendance ------------------------------------------------------------------------------

#: Reason codes a secretary picks for an absence; ``unexcused`` means no valid reason.
UNEXCUSED = "unexcused"
REASON_CODES: tuple[str, ...] = (*(r.value for r in AbsenceReason), UNEXCUSED)


def reason_status(code: str) -> tuple[bool, AbsenceReason | None]:
    """Split a reason code into (excused, category). Raises ValueError for unknown codes."""
    if code == UNEXCUSED:
        return False, None
    return True, AbsenceReason(code)


def three_months_flag_key(member_id: int, year: int, level: int) -> str:
    """The unique key of a three-months flag: raised once per member, year and level."""
    return f"3m:{member_id}:{year}:{level}"


# --- Secret documents ------------------------------------------------------------------------

#: Words after "mật" that make it an ordinary word: mật khẩu (password), mật độ (density),
#: mật ong (honey), mật thiết (close), mật mã (cipher), mật ngọt (sweet words) — and, for
#: a bare "mat" typed without accents, "mat tran" (Mặt trận, the Fatherland Front).
_INNOCENT_AFTER = {"khau", "do", "ong", "thiet", "ma", "ngot", "tran"}
#: Words before "mật" that do the same: bảo mật (security, as in "chính sách bảo mật").
#: "Bí mật" is *not* excused: a file called "bí mật" is treated as marked, erring on safety.
_INNOCENT_BEFORE = {"bao"}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").casefold()


def _is_secret_word(word: str) -> bool:
    """``mật`` with its own accent, or a bare ``mat`` typed without any accents.

    Accent-insensitive matching alone would catch "mặt" (front, as in Mặt trận — the
    Fatherland Front, all over party documents), "mất" and "mát"; so an accented word must be
    exactly "mật", and only an unaccented "mat" (file names, ALL-CAPS without marks) is read
    as the mark.
    """
    lowered = unicodedata.normalize("NFC", word).casefold()
    return lowered in ("mật", "mat")


def is_marked_secret(*texts: str | None) -> bool:
    """Tell whether a file name or caption carries a secrecy mark (Mật, Tối mật, Tuyệt mật).

    Read as shown on screen (:func:`domain.text.visible`: full-width letters folded, zero-width
    characters removed). Matches whole words, case- and accent-insensitively as far as that is
    safe: "MẬT",
    "Tối mật", "tuyet_mat", "toi-mat.pdf", "TOIMAT", "mat" as a word. Not flagged: "mật khẩu"
    (password), "mật độ", "mật ong", "mật thiết", "bảo mật" (security), "Mặt trận", "mất".
    Source: :data:`RULE_SOURCE_SECRET` — the three marks of state secrets; such documents
    never leave their secure channel.
    """
    for text in texts:
        if not text:
            continue
        # NFKC and without invisible characters: "ＭẬＴ" and "M\u200bật" read as "Mật".
        words = _WORD.findall(unicodedata.normalize("NFC", visible(text)))
        folded = [_fold(w) for w in words]
        for i, word in enumerate(words):
            f = folded[i]
            if f in ("toimat", "tuyetmat"):
                return True
            if not _is_secret_word(word):
                continue
            prev = folded[i - 1] if i > 0 else ""
            nxt = folded[i + 1] if i + 1 < len(folded) else ""
            if prev in ("toi", "tuyet"):
                return True  # Tối mật / Tuyệt mật, whatever follows
            if nxt in _INNOCENT_AFTER or prev in _INNOCENT_BEFORE:
                continue
            return True
    return False


# --- Quality ---------------------------------------------------------------------------------


class QualityGrade(enum.StrEnum):
    """The four levels of the 100-point self-assessment."""

    GOOD = "good"  # tốt
    FAIR = "fair"  # khá
    AVERAGE = "average"  # trung bình
    POOR = "poor"  # kém


def quality_grade(
    score: int, thresholds: Mapping[str, int], *, full_marks_known_missing: bool = False
) -> QualityGrade:
    """Grade a self-rated score: good ≥ 90, fair 70–89, average 50–69, poor < 50.

    "Good" also needs full marks on attendance, duration, members speaking and minutes; when
    the records already show one of those missing (a short meeting, no minutes),
    ``full_marks_known_missing`` caps the grade at fair.
    Source: :data:`RULE_SOURCE_QUALITY` (setting ``quality_scoring``).
    """
    if score >= int(thresholds.get("good", 90)) and not full_marks_known_missing:
        return QualityGrade.GOOD
    if score >= int(thresholds.get("fair", 70)):
        return QualityGrade.FAIR
    if score >= int(thresholds.get("average", 50)):
        return QualityGrade.AVERAGE
    return QualityGrade.POOR


def parse_score(text: str) -> int | None:
    """Read a score from 0 to 100, or None."""
    text = text.strip().rstrip("đ").strip()
    if not text.isdigit():
        return None
    value = int(text)
    return value if 0 <= value <= 100 else None


# --- Figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthStatus:
    """What one month of one cell looks like at a glance."""

    regular_held: bool
    present: int
    required: int
    unexcused: int
    superior_attended: bool


def quarter_of_month(month: int) -> int:
    """The quarter (1–4) a month belongs to."""
    return (month - 1) // 3 + 1


def thematic_missing(thematic_by_quarter: Mapping[int, int], quarters: list[int]) -> list[int]:
    """The quarters (of those asked) with no thematic meeting.

    Source: :data:`RULE_SOURCE_THEMATIC` — at least one thematic meeting each quarter.
    """
    return [q for q in quarters if thematic_by_quarter.get(q, 0) < 1]
