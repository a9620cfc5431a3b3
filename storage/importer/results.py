"""What an import reports: row errors, the parsed rows, the counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from domain.errors import ChiboError
from domain.i18n import N_, translator
from storage.models import (
    Gender,
    MemberStatus,
)


@dataclass(frozen=True, eq=True)
class RowError:
    """A problem in the file: where (sheet, row as Excel shows it, column header) and why.

    ``reason`` is an English msgid; ``params`` fill its placeholders once translated.
    """

    sheet: str
    row: int | None
    column: str | None
    reason: str
    params: Mapping[str, object] = field(default_factory=dict, hash=False)

    def reason_text(self, locale: str = "vi") -> str:
        """The reason alone, in ``locale``."""
        return translator(locale).gettext(self.reason).format(**self.params)

    def render(self, locale: str = "vi") -> str:
        """One line for the admin: "Sheet DangVien, dòng 7, cột 'Ngày kết nạp': …"."""
        tr = translator(locale)
        reason = self.reason_text(locale)
        if not self.sheet:
            return tr.gettext("File: {reason}").format(reason=reason)
        if self.row is None:
            return tr.gettext("Sheet {sheet}: {reason}").format(sheet=self.sheet, reason=reason)
        if self.column is None:
            return tr.gettext("Sheet {sheet}, row {row}: {reason}").format(
                sheet=self.sheet, row=self.row, reason=reason
            )
        return tr.gettext("Sheet {sheet}, row {row}, column '{column}': {reason}").format(
            sheet=self.sheet, row=self.row, column=self.column, reason=reason
        )


class UnreadableFile(ChiboError):
    """The file cannot be read at all (wrong type, damaged, password-protected)."""

    message = N_("cannot read the file")


class ImportInvalid(ChiboError):
    """The batch has errors; nothing was written."""

    message = N_("the file has errors; nothing was written")

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__()
        self.errors = list(errors)


@dataclass
class OrgRow:
    """One row of the ToChuc sheet, typed (level and type are resolved against the database)."""

    row: int
    code: str
    name: str | None
    kind_text: str | None
    parent_code: str | None
    org_type_text: str | None
    host_unit: str | None
    usual_day: int | None
    active_from: date | None
    active_to: date | None


@dataclass
class MemberRow:
    """One row of the DangVien sheet, typed."""

    row: int
    code: str
    full_name: str | None
    org_code: str | None
    gender: Gender | None
    birth_year: int | None
    birth_month: int | None
    status: MemberStatus
    admitted_on: date | None
    ceremony_on: date | None
    probation_end_on: date | None
    full_member_on: date | None
    external_code: str | None


@dataclass
class ImportBatch:
    """What a file holds: the data sheets found, their rows, and the errors met reading it."""

    source: str
    sheets: list[str] = field(default_factory=list)
    orgs: list[OrgRow] = field(default_factory=list)
    members: list[MemberRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: What was accepted but deserves a look (names kept as text, missing probation dates).
    warnings: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    """How many rows (organizations and members together) were created, updated, unchanged."""

    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        """Every data row of the file."""
        return self.created + self.updated + self.unchanged
