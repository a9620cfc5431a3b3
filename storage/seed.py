"""Default reference data (organization types, settings). Seeding never creates tables."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from storage.cache import cached
from storage.db import plain_rows
from storage.models import OrgType, Setting

#: Loại hình tổ chức (DOMAIN.md), in summary order: (code, Vietnamese, English).
ORG_TYPES: list[tuple[str, str, str]] = [
    (
        "dang_doan_the",
        "Cơ quan Đảng, Mặt trận, đoàn thể",
        "Party, Front and mass-organization agencies",
    ),
    ("hanh_chinh", "Cơ quan hành chính nhà nước", "State administrative agencies"),
    ("su_nghiep", "Đơn vị sự nghiệp công lập", "Public service units"),
    ("dn_nha_nuoc", "Doanh nghiệp nhà nước", "State-owned enterprises"),
    ("dn_von_nha_nuoc", "Doanh nghiệp có vốn nhà nước", "Enterprises with state capital"),
    ("dn_tu_nhan", "Doanh nghiệp ngoài nhà nước", "Non-state (private) enterprises"),
    ("dn_fdi", "Doanh nghiệp có vốn đầu tư nước ngoài", "Foreign-invested enterprises"),
    ("hop_tac_xa", "Hợp tác xã, đơn vị ngoài công lập", "Cooperatives and non-public units"),
]

#: Admin-changeable rules with their source, so a replaced rule is re-pointed, not recoded.
DEFAULT_SETTINGS: dict[str, tuple[Any, str]] = {
    "level_names": (
        {
            "top": "Đảng ủy Khối",
            "committee": "Đảng bộ cơ sở",
            "grassroots_cell": "Chi bộ cơ sở",
            "cell": "Chi bộ",
            "group": "Tổ đảng",
        },
        "Điều lệ Đảng; cơ cấu tổ chức của tỉnh",
    ),
    "meeting_min_minutes": (
        {"regular": 90, "combined": 120},
        "Hướng dẫn 42-HD/BTCTW (2025) về sinh hoạt chi bộ",
    ),
    "vote_quorum": (
        {"numerator": 2, "denominator": 3},
        "Điều lệ Đảng; hướng dẫn kết nạp đảng viên",
    ),
    "three_months_rule": (
        {"warn_at": 2, "flag_at": 3},
        "Điều lệ Đảng, Quy định thi hành Điều lệ (xóa tên)",
    ),
    "quality_scoring": (
        {"enabled": False, "good": 90, "fair": 70, "average": 50},
        "Hướng dẫn đánh giá chất lượng sinh hoạt chi bộ của tỉnh",
    ),
    "no_progress_months": ({"months": 12}, "Quy định 4842-QĐ/TU, khoản 3 điều 4"),
    "document_place": ({"place": "Cần Thơ"}, "Thể thức văn bản của Đảng"),
    # The body above the top organization, printed first in the header of its documents.
    "document_superior": ({"name": "Đảng bộ thành phố Cần Thơ"}, "Thể thức văn bản của Đảng"),
    # Limits of the admission rules (domain.rules.candidates.CandidateRules; months, working days).
    "candidate_rules": (
        {"certificate_valid_months": 60},
        "Quy định 294-QĐ/TW (2025); Hướng dẫn 06-HD/TW (2025)",
    ),
}


def ensure_defaults(session: Session, *, now: datetime) -> None:
    """Insert missing organization types and settings; never overwrite an admin's change."""
    have = set(session.scalars(select(OrgType.code)))
    for sort, (code, vi, en) in enumerate(ORG_TYPES):
        if code not in have:
            session.add(OrgType(code=code, name_vi=vi, name_en=en, sort=sort))
    keys = set(session.scalars(select(Setting.key)))
    for key, (value, source) in DEFAULT_SETTINGS.items():
        if key not in keys:
            session.add(
                Setting(
                    key=key, value=value, rule_source=source, updated_at=now, updated_by="defaults"
                )
            )


#: ``session.info`` key of the shipped settings' values, read once per transaction.
_VALUES = "setting_values"


def get_setting(session: Session, key: str) -> Any:
    """Return a setting's value, falling back to the shipped default.

    The first call in a session reads the values of every shipped setting in one query (plain
    rows, no ORM objects), or takes them from the process's cache while no setting has changed
    (:mod:`storage.cache`); later calls are answered from that read, so an update reads its
    settings once at most. A change to a setting flushed in the same session is seen (the read is
    dropped on flush).
    """
    if key not in DEFAULT_SETTINGS:
        row = session.get(Setting, key)
        if row is not None:
            return row.value
        return DEFAULT_SETTINGS[key][0]
    values = session.info.get(_VALUES)
    if values is None:
        values = cached(session, ("settings",), lambda: _shipped(session))
        session.info[_VALUES] = values
    value = values[key] if key in values else DEFAULT_SETTINGS[key][0]
    # A copy: the values are shared by the whole process (and the defaults by every call).
    return dict(value) if isinstance(value, dict) else value


def _shipped(session: Session) -> Mapping[str, Any]:
    return MappingProxyType(
        {k: v for k, v in plain_rows(session, _SHIPPED).all() if k in DEFAULT_SETTINGS}
    )


#: Every setting's key and value, built once (a handful of rows; no ``IN`` list, whose
#: values SQLAlchemy would expand into the statement on every execution).
_SHIPPED = select(Setting.key, Setting.value)


@event.listens_for(Session, "before_flush")
def _forget_settings_read(session: Session, _context: Any, _instances: Any) -> None:
    """A setting written in this session replaces what :func:`get_setting` read before."""
    if _VALUES in session.info and any(
        isinstance(o, Setting) for o in (*session.new, *session.dirty, *session.deleted)
    ):
        del session.info[_VALUES]
