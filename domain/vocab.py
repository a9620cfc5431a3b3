"""Vocabulary of the domain: the enumerations every layer speaks."""

from __future__ import annotations

import enum


class OrgKind(enum.StrEnum):
    """Level of a node of the organization tree (display names are configurable)."""

    TOP = "top"  # the Khối or its successor
    COMMITTEE = "committee"  # đảng bộ cơ sở (grassroots party committee with cells)
    GRASSROOTS_CELL = "grassroots_cell"  # chi bộ cơ sở
    CELL = "cell"  # chi bộ trực thuộc
    GROUP = "group"  # tổ đảng

    @property
    def holds_meetings(self) -> bool:
        """Cells hold the monthly meetings and own the members."""
        return self in (OrgKind.GRASSROOTS_CELL, OrgKind.CELL)


class MemberStatus(enum.StrEnum):
    """Status of a party member."""

    FULL = "full"  # chính thức
    PROBATIONARY = "probationary"  # dự bị
    EXEMPT = "exempt"  # miễn sinh hoạt
    TRANSFERRED = "transferred"  # chuyển sinh hoạt đi
    REMOVED = "removed"  # xóa tên / khai trừ / ra khỏi Đảng

    @property
    def is_active(self) -> bool:
        """Still on the cell's roll."""
        return self in (MemberStatus.FULL, MemberStatus.PROBATIONARY, MemberStatus.EXEMPT)

    @property
    def must_attend(self) -> bool:
        """Counted in attendance denominators (exempt members are not)."""
        return self in (MemberStatus.FULL, MemberStatus.PROBATIONARY)


class Gender(enum.StrEnum):
    """Gender as the party records keep it."""

    MALE = "male"
    FEMALE = "female"


class Role(enum.StrEnum):
    """Roles; each assignment is scoped to one organization."""

    SECRETARY = "secretary"  # bí thư chi bộ
    DEPUTY = "deputy"  # phó bí thư
    COMMITTEE_MEMBER = "committee_member"  # chi ủy viên
    GRASSROOTS_SECRETARY = "grassroots_secretary"  # bí thư đảng ủy cơ sở
    FOLLOWER = "follower"  # cấp ủy viên cấp trên theo dõi chi bộ
    STANDING = "standing"  # Ban Thường vụ / Thường trực
    INSPECTION = "inspection"  # Ủy ban Kiểm tra
    ORGANIZATION = "organization"  # Ban Tổ chức
    PROPAGANDA = "propaganda"  # Ban Tuyên giáo
    ADMIN = "admin"  # quản trị hệ thống


class MeetingKind(enum.StrEnum):
    """Kinds of cell meeting."""

    REGULAR = "regular"  # thường kỳ / định kỳ
    THEMATIC = "thematic"  # chuyên đề
    COMBINED = "combined"  # định kỳ kết hợp chuyên đề
    COMMITTEE = "committee"  # sinh hoạt chi ủy
    EXTRAORDINARY = "extraordinary"  # bất thường

    @property
    def counts_as_regular(self) -> bool:
        """Regular and combined meetings discharge the monthly obligation."""
        return self in (MeetingKind.REGULAR, MeetingKind.COMBINED)

    @property
    def counts_as_thematic(self) -> bool:
        """Thematic and combined meetings count toward the quarterly thematic meeting."""
        return self in (MeetingKind.THEMATIC, MeetingKind.COMBINED)


class AttendanceStatus(enum.StrEnum):
    """Attendance of one member at one meeting."""

    PRESENT = "present"
    EXCUSED = "excused"  # vắng có lý do
    UNEXCUSED = "unexcused"  # vắng không có lý do
    EXEMPT = "exempt"  # miễn sinh hoạt


class AbsenceReason(enum.StrEnum):
    """Category of a valid reason for absence."""

    TRIP = "trip"
    ILLNESS = "illness"
    FAMILY = "family"
    STUDY = "study"
    OTHER = "other"


class SignGroup(enum.StrEnum):
    """The three groups of nine signs of degradation."""

    POLITICAL = "political"  # tư tưởng chính trị
    ETHICS = "ethics"  # đạo đức, lối sống
    SELF_EVOLUTION = "self_evolution"  # "tự diễn biến", "tự chuyển hóa"


class ReviewOutcome(enum.StrEnum):
    """The head's monthly comment on a member, in the plan's words (Quy định 4842-QĐ/TU k3 đ4).

    Records made before the plan's words were used keep their values: "progressing" reads as
    *đang khắc phục*, "no change" as *chưa khắc phục*.
    """

    REMEDIED = "remedied"  # đã khắc phục
    PROGRESSING = "progressing"  # đang khắc phục
    NO_CHANGE = "no_change"  # chưa khắc phục
    NEW_SIGN = "new_sign"  # phát hiện biểu hiện (suy thoái) mới
    # The plan's names for the two older values (aliases, same members).
    BEING_REMEDIED = "progressing"
    NOT_REMEDIED = "no_change"

    @property
    def shows_progress(self) -> bool:
        """Remedied or being remedied: ends a run "without progress" (watch list, 12 months)."""
        return self in (ReviewOutcome.REMEDIED, ReviewOutcome.PROGRESSING)


class ReportStatus(enum.StrEnum):
    """Lifecycle of a report."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    REOPENED = "reopened"


class OutboxStatus(enum.StrEnum):
    """Delivery state of an outbox row."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after N tries
    BLOCKED = "blocked"  # 403: the user blocked the bot


class CandidateStage(enum.StrEnum):
    """Stage of a candidate's file (DOMAIN.md, "Candidates and admission")."""

    SYMPATHIZER = "sympathizer"  # quần chúng ưu tú, cảm tình Đảng
    CLASS_DONE = "class_done"  # đã học lớp bồi dưỡng nhận thức về Đảng
    MENTORS = "mentors"  # có người giới thiệu
    APPLICATION = "application"  # hồ sơ (đơn, lý lịch) hoàn chỉnh
    BACKGROUND_CHECK = "background_check"  # đã thẩm tra lý lịch
    CELL_RESOLUTION = "cell_resolution"  # nghị quyết chi bộ đề nghị kết nạp
    DECISION = "decision"  # có quyết định kết nạp
    PROBATION = "probation"  # đã kết nạp: đảng viên dự bị
    FULL_MEMBER = "full_member"  # đảng viên chính thức
    WITHDRAWN = "withdrawn"  # rút khỏi danh sách
    NOT_ADMITTED = "not_admitted"  # không được kết nạp
    EXPIRED = "expired"  # hồ sơ quá hạn
    NOT_RECOGNIZED = "not_recognized"  # không được công nhận chính thức


class PriorityGroup(enum.StrEnum):
    """The plan's priority groups for admission."""

    WOMEN = "women"
    KHMER = "khmer"
    ETHNIC_MINORITY = "ethnic_minority"
    YOUTH_UNION = "youth_union"
    ASSOCIATION = "association"
    WORKER = "worker"
    PRIVATE_OWNER = "private_owner"


class IntroducerForm(enum.StrEnum):
    """Who introduces an applicant, by the case the rules name."""

    YOUTH_UNION = "youth_union"  # Đoàn cơ sở + 1 đảng viên chính thức
    TRADE_UNION = "trade_union"  # Công đoàn cơ sở + 1 đảng viên chính thức
    TWO_MEMBERS = "two_members"  # 2 đảng viên chính thức


class EnterpriseStatus(enum.StrEnum):
    """The steering group's effort at a non-state enterprise (plan section 2.3c)."""

    SURVEYED = "surveyed"
    WORKING = "working"  # working with the owner
    CONDITIONS_MET = "conditions_met"  # ≥ 3 full members
    FOUNDED = "founded"  # party organization founded
