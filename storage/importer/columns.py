"""The sheets and columns of the import workbook and the words it accepts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from domain.text import fold
from storage.models import (
    Gender,
    MemberStatus,
    OrgKind,
)

#: The day a move found by an import is dated (Vietnam's local date of the import).
IMPORT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

SHEET_ORGS = "ToChuc"
SHEET_MEMBERS = "DangVien"
#: Data sheets in the order errors are reported.
DATA_SHEETS = (SHEET_ORGS, SHEET_MEMBERS)

CELL_KINDS = frozenset({OrgKind.GRASSROOTS_CELL, OrgKind.CELL})
MIN_YEAR = 1900
CODE_MAX = 32
EXTERNAL_CODE_MAX = 40
MEMBER_NAME_MAX = 120
ORG_TEXT_MAX = 300


@dataclass(frozen=True)
class Column:
    """A column of a data sheet: the field it fills and its Vietnamese header."""

    field: str
    header: str
    required: bool = False


ORG_COLUMNS: tuple[Column, ...] = (
    Column("code", "Mã tổ chức", required=True),
    Column("name", "Tên tổ chức", required=True),
    Column("kind", "Cấp", required=True),
    Column("parent_code", "Mã tổ chức cấp trên"),
    Column("org_type", "Loại hình"),
    Column("host_unit", "Cơ quan/đơn vị"),
    Column("usual_day", "Ngày sinh hoạt thường lệ"),
    Column("active_from", "Hoạt động từ"),
    Column("active_to", "Hoạt động đến"),
)

MEMBER_COLUMNS: tuple[Column, ...] = (
    Column("code", "Mã đảng viên", required=True),
    Column("full_name", "Họ và tên", required=True),
    Column("org_code", "Mã chi bộ", required=True),
    Column("gender", "Giới tính"),
    Column("birth_year", "Năm sinh"),
    Column("birth_month", "Tháng sinh"),
    Column("status", "Tình trạng"),
    Column("admitted_on", "Ngày kết nạp"),
    Column("ceremony_on", "Ngày lễ kết nạp"),
    Column("probation_end_on", "Ngày hết dự bị"),
    Column("full_member_on", "Ngày công nhận chính thức"),
    Column("external_code", "Mã đảng viên quốc gia"),
)

SHEET_COLUMNS: dict[str, tuple[Column, ...]] = {
    SHEET_ORGS: ORG_COLUMNS,
    SHEET_MEMBERS: MEMBER_COLUMNS,
}

#: The words the template offers for each level (the first one is shown in drop-down lists).
KIND_WORDS: dict[OrgKind, tuple[str, ...]] = {
    OrgKind.TOP: ("Đảng ủy Khối", "Cấp trên", "top"),
    OrgKind.COMMITTEE: ("Đảng bộ cơ sở", "Đảng ủy cơ sở", "Đảng bộ", "committee"),
    OrgKind.GRASSROOTS_CELL: ("Chi bộ cơ sở", "grassroots_cell"),
    OrgKind.CELL: ("Chi bộ trực thuộc", "Chi bộ", "cell"),
    OrgKind.GROUP: ("Tổ đảng", "group"),
}

#: Member status words (the first one is the template's).
STATUS_WORDS: dict[MemberStatus, tuple[str, ...]] = {
    MemberStatus.FULL: ("Chính thức", "full"),
    MemberStatus.PROBATIONARY: ("Dự bị", "probationary"),
    MemberStatus.EXEMPT: ("Miễn sinh hoạt", "Miễn công tác và sinh hoạt", "exempt"),
    MemberStatus.TRANSFERRED: ("Chuyển đi", "Chuyển sinh hoạt đi", "transferred"),
    MemberStatus.REMOVED: ("Đã xóa tên", "Xóa tên", "removed"),
}

GENDER_WORDS: dict[Gender, tuple[str, ...]] = {
    Gender.MALE: ("Nam", "male"),
    Gender.FEMALE: ("Nữ", "female"),
}

ORG_FIELDS = (
    "name",
    "name_folded",
    "kind",
    "org_type",
    "parent_id",
    "host_unit",
    "usual_meeting_day",
    "active_from",
    "active_to",
)
MEMBER_FIELDS = (
    "org_id",
    "full_name",
    "name_folded",
    "gender",
    "birth_year",
    "birth_month",
    "status",
    "admitted_on",
    "ceremony_on",
    "probation_end_on",
    "full_member_on",
    "external_code",
)


def key(text: str) -> str:
    """Return the matching key of a header, sheet name or word: folded, letters and digits."""
    return re.sub(r"[^0-9a-z]", "", fold(text))


def _words(table: Mapping[Any, tuple[str, ...]]) -> dict[str, Any]:
    return {key(word): value for value, words in table.items() for word in words}


KIND_KEYS: dict[str, OrgKind] = _words(KIND_WORDS)
STATUS_KEYS: dict[str, MemberStatus] = _words(STATUS_WORDS)
GENDER_KEYS: dict[str, Gender] = _words(GENDER_WORDS)
