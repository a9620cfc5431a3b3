"""Import the organization tree and the member roll from the template workbook (or a CSV).

Three steps, so nothing is written unless the whole file is valid:

1. :func:`parse_workbook` reads the file into typed rows and notes every reading error (missing
   sheet, wrong headers, bad dates, unknown words). It needs no database.
2. :func:`validate` adds the rules that need the database (superior organizations, cells,
   cycles, the one top organization, organization types) and returns every error at once.
3. :func:`apply` upserts by stable code (organization code, member code) inside the caller's
   transaction, with one audit row per created or changed record. A row equal to what the
   database holds is left alone: re-importing the same file writes nothing at all.

Only the template's columns are read: personal data is kept to the minimum DOMAIN.md lists.
Existing rows are looked up with one query per table (members as plain rows, not ORM objects),
new members and their audit rows are written with core ``INSERT`` statements in chunks, and a
sheet's formulas are read in a second pass only when it has any: 20,000 members import in
seconds (``python -m bench.bench_import``).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session

from domain.errors import ChiboError
from domain.i18n import N_, translator
from domain.text import clean, fold
from storage import membership
from storage.audit import Actor, jsonable, record
from storage.models import (
    AuditLog,
    Gender,
    Member,
    MemberStatus,
    Organization,
    OrgKind,
    OrgType,
)
from storage.seed import ORG_TYPES, get_setting

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

_ORG_FIELDS = (
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
_MEMBER_FIELDS = (
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


_KIND_KEYS: dict[str, OrgKind] = _words(KIND_WORDS)
_STATUS_KEYS: dict[str, MemberStatus] = _words(STATUS_WORDS)
_GENDER_KEYS: dict[str, Gender] = _words(GENDER_WORDS)


# --- Results and errors ----------------------------------------------------------------------


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


# --- Reading the file ------------------------------------------------------------------------


def parse_workbook(path: str | Path) -> ImportBatch:
    """Read an .xlsx workbook (sheets ToChuc and DangVien) or a .csv holding one of them.

    Raises:
        UnreadableFile: The file cannot be read at all; its message says why in one line
            (empty, a Word document, password-protected, an old .xls, an unknown encoding).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise UnreadableFile(N_("file not found: {path}"), path=str(path))
    batch = ImportBatch(source=path.name)
    if suffix in (".xlsx", ".xlsm"):
        for sheet, rows in _xlsx_sheets(path, batch):
            _parse_sheet(batch, sheet, rows)
    elif suffix in (".csv", ".txt"):
        rows = _csv_rows(path)
        found = _csv_sheet(rows)
        if found is None:
            batch.errors.append(
                RowError(
                    "",
                    None,
                    None,
                    N_(
                        "the headers match neither ToChuc nor DangVien; the first column "
                        "should be 'Mã tổ chức' or 'Mã đảng viên'"
                    ),
                )
            )
        else:
            _parse_sheet(batch, found, rows)
    else:
        raise UnreadableFile(
            N_("unsupported file type '{suffix}'; use .xlsx or .csv (save .xls files as .xlsx)"),
            suffix=suffix or path.name,
        )
    _warn(batch)
    return batch


#: The start of an OLE2 compound file: an old .xls, or an .xlsx encrypted with a password.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")


def _not_a_workbook(path: Path) -> UnreadableFile:
    """Say in one line what the file is instead of an .xlsx workbook."""
    raw = path.read_bytes()
    if not raw.strip():
        return UnreadableFile(N_("{name} is empty"), name=path.name)
    if raw.startswith(_OLE_MAGIC):
        if _ENCRYPTED in raw:
            return UnreadableFile(
                N_(
                    "{name} is protected with a password; open it in Excel, remove the "
                    "password (File › Info › Protect Workbook › Encrypt with Password) and "
                    "save it again"
                ),
                name=path.name,
            )
        return UnreadableFile(
            N_("{name} is an old Excel .xls file; open it in Excel and save it as .xlsx"),
            name=path.name,
        )
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
        if "word/document.xml" in names:
            return UnreadableFile(
                N_(
                    "{name} is a Word document renamed to .xlsx; the data must be in the "
                    "Excel workbook made by: chibo admin template"
                ),
                name=path.name,
            )
        if "ppt/presentation.xml" in names or "content.xml" in names:
            return UnreadableFile(
                N_(
                    "{name} is not an Excel workbook (another office document renamed to "
                    ".xlsx); use the workbook made by: chibo admin template"
                ),
                name=path.name,
            )
    return UnreadableFile(
        N_(
            "{name} is not an Excel .xlsx workbook (damaged, or another kind of file renamed); "
            "use the workbook made by: chibo admin template"
        ),
        name=path.name,
    )


@dataclass(frozen=True)
class _Formula:
    """A formula cell whose result Excel never saved (the file was written by a program)."""

    text: str


#: A formula element in a worksheet's XML (``<f>``, ``<f t="shared" …>``, ``<x:f>``).
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")


def _has_formulas(ws: Any) -> bool:
    """Whether the sheet's XML holds any formula, scanned in the archive without parsing it."""
    tail = b""
    with ws.parent._archive.open(ws._worksheet_path) as src:
        while chunk := src.read(1 << 20):
            if _FORMULA_TAG.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


def _xlsx_sheets(path: Path, batch: ImportBatch) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _not_a_workbook(path) from exc
    # The formulas themselves are read only when a sheet has some (a second, slower pass).
    formulas: Any = None
    try:
        by_key = {key(ws.title): ws for ws in workbook.worksheets}
        for sheet in DATA_SHEETS:
            ws = by_key.get(key(sheet))
            if ws is None:
                batch.errors.append(
                    RowError(
                        sheet,
                        None,
                        None,
                        N_(
                            "sheet is missing; the workbook must have the sheets ToChuc and "
                            "DangVien (make one with: chibo admin template)"
                        ),
                    )
                )
                continue
            # Some writers leave a wrong <dimension>; forget it and read every row there is.
            ws.reset_dimensions()
            rows = list(ws.iter_rows(values_only=True))
            if any(v is None for row in rows for v in row) and _has_formulas(ws):
                if formulas is None:
                    formulas = load_workbook(path, read_only=True, data_only=False)
                fws = {key(f.title): f for f in formulas.worksheets}[key(sheet)]
                fws.reset_dimensions()
                rows = [
                    tuple(
                        _Formula(f) if v is None and isinstance(f, str) and f[:1] == "=" else v
                        for v, f in zip_longest(row, frow)
                    )
                    for row, frow in zip_longest(
                        rows, fws.iter_rows(values_only=True), fillvalue=()
                    )
                ]
            yield sheet, rows
    finally:
        workbook.close()
        if formulas is not None:
            formulas.close()


def _utf16_without_bom(raw: bytes) -> str | None:
    """ "Unicode text" from Excel without its BOM: every other byte of ASCII text is zero."""
    sample = raw[:4000]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > len(odd) * 0.3 and even.count(0) < len(even) * 0.05:
        codec = "utf-16-le"
    elif even.count(0) > len(even) * 0.3 and odd.count(0) < len(odd) * 0.05:
        codec = "utf-16-be"
    else:
        return None
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return None


def _decode(raw: bytes, name: str) -> str:
    """The text of a CSV saved by Excel: UTF-8 (with or without BOM), UTF-16, Windows-1258.

    Raises:
        UnreadableFile: Not text in any of these encodings (one line naming the problem).
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _bad_encoding(name) from exc
    text = _utf16_without_bom(raw)
    if text is not None:
        return text
    if b"\x00" in raw:
        raise _bad_encoding(name)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Vietnamese Windows ("ANSI") exports; tone marks come as combining characters,
        # which clean() composes to NFC.
        return raw.decode("cp1258")
    except UnicodeDecodeError as exc:
        raise _bad_encoding(name) from exc


def _bad_encoding(name: str) -> UnreadableFile:
    return UnreadableFile(
        N_(
            "{name} is not text in UTF-8, UTF-16 or Windows-1258 (Vietnamese); in Excel use "
            "Save As › CSV UTF-8, or import the .xlsx workbook itself"
        ),
        name=name,
    )


def _csv_rows(path: Path) -> list[tuple[Any, ...]]:
    raw = path.read_bytes()
    if not raw.strip():
        raise UnreadableFile(N_("{name} is empty"), name=path.name)
    text = _decode(raw, path.name)
    if not text.strip().strip("\ufeff"):
        raise UnreadableFile(N_("{name} is empty"), name=path.name)
    lines = [line for line in text.splitlines() if line.strip()][:10]
    delimiter = max(
        (",", ";", "\t"), key=lambda d: max((line.count(d) for line in lines), default=0)
    )
    return [tuple(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


#: How far down a title block may push the header row before we stop looking for it.
HEADER_SEARCH_ROWS = 10


def _header_keys(row: Sequence[Any]) -> set[str]:
    return {key(str(v)) for v in row if isinstance(v, str) and v.strip()}


def _find_header_row(rows: Sequence[Sequence[Any]], columns: Sequence[Column]) -> int | None:
    """The 0-based index of the row holding most of ``columns``' headers, if any does."""
    wanted = {key(c.header) for c in columns}
    best, best_score = None, 0
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = len(_header_keys(row) & wanted)
        if score > best_score:
            best, best_score = index, score
    return best if best_score >= 2 else None


def _csv_sheet(rows: Sequence[Sequence[Any]]) -> str | None:
    """Tell which sheet a CSV holds from its headers (its first column, else the overlap)."""
    if not rows:
        return None
    found = [key(str(v)) for v in rows[0] if v is not None and str(v).strip()]
    if found:
        for sheet, columns in SHEET_COLUMNS.items():
            if found[0] == key(columns[0].header):
                return sheet
    scores = {
        sheet: max(
            (len(_header_keys(row) & {key(c.header) for c in columns}) for row in rows[:10]),
            default=0,
        )
        for sheet, columns in SHEET_COLUMNS.items()
    }
    best = max(scores, key=lambda s: scores[s])
    return best if scores[best] >= 2 else None


def _cell_text(value: Any) -> str | None:
    """A cell as clean text, or None when blank (Excel numbers lose a trailing ``.0``)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        value = f"{value.day:02d}/{value.month:02d}/{value.year}"
    text = clean(str(value))
    return text or None


def _show(value: Any) -> str:
    text = _cell_text(value) or ""
    return text if len(text) <= 40 else text[:39] + "…"


def _check_headers(
    sheet: str, header: Sequence[Any], columns: Sequence[Column]
) -> tuple[list[RowError], dict[str, int]]:
    """Check row 1 and say where each column is: required columns must be there, optional
    ones may be absent, the order is free, and a column chibo does not keep is refused."""
    found = [_cell_text(v) or "" for v in header]
    while found and not found[-1]:
        found.pop()
    if not found:
        return [
            RowError(
                sheet,
                1,
                None,
                N_("the header row (row 1) is empty; expected: {columns}"),
                {"columns": ", ".join(c.header for c in columns)},
            )
        ], {}
    keys = [key(h) for h in found]
    by_key = {key(c.header): c for c in columns}
    errors: list[RowError] = []
    counts = Counter(k for k in keys if k)
    for k, n in counts.items():
        if n > 1:
            name = by_key[k].header if k in by_key else found[keys.index(k)]
            errors.append(
                RowError(
                    sheet,
                    1,
                    name,
                    N_("column '{column}' appears more than once"),
                    {"column": name},
                )
            )
    for column in columns:
        if column.required and key(column.header) not in counts:
            errors.append(
                RowError(
                    sheet,
                    1,
                    column.header,
                    N_("missing column '{column}'"),
                    {"column": column.header},
                )
            )
    for index, (k, name) in enumerate(zip(keys, found, strict=True)):
        if k and k not in by_key:
            errors.append(
                RowError(
                    sheet,
                    1,
                    name,
                    N_(
                        "unknown column '{column}' (column {letter}); chibo keeps only the "
                        "template's columns"
                    ),
                    {"column": name, "letter": get_column_letter(index + 1)},
                )
            )
    positions = {by_key[k].field: i for i, k in enumerate(keys) if k in by_key}
    return errors, positions


class _Cells:
    """The cells of one data row, with typed getters that note errors against their column."""

    def __init__(
        self,
        sheet: str,
        row: int,
        columns: Sequence[Column],
        values: Sequence[Any],
        errors: list[RowError],
        positions: Mapping[str, int] | None = None,
    ) -> None:
        self.sheet = sheet
        self.row = row
        self.columns = {c.field: c for c in columns}
        where = positions if positions is not None else {c.field: i for i, c in enumerate(columns)}
        self.values = {
            c.field: (
                values[where[c.field]] if where.get(c.field, len(values)) < len(values) else None
            )
            for c in columns
        }
        self.errors = errors
        self.formulas: set[str] = set()
        for name, value in list(self.values.items()):
            if isinstance(value, _Formula):
                self.formulas.add(name)
                self.values[name] = None
                self.error(
                    name,
                    N_(
                        "a formula without a saved value ({value}); please paste values "
                        "(Paste Special › Values) and save in Excel"
                    ),
                    value=_show(value.text),
                )

    def error(self, name: str, reason: str, **params: object) -> None:
        """Note a problem with the cell of field ``name``."""
        self.errors.append(
            RowError(self.sheet, self.row, self.columns[name].header, reason, params)
        )

    def text(self, name: str, *, limit: int | None = None) -> str | None:
        """The cell as clean text; required and length rules checked."""
        text = _cell_text(self.values[name])
        if text is None:
            if self.columns[name].required and name not in self.formulas:
                self.error(name, N_("this column is required"))
            return None
        if limit is not None and len(text) > limit:
            self.error(
                name,
                N_("too long: {length} characters, at most {limit}"),
                length=len(text),
                limit=limit,
            )
            return None
        return text

    def code(self, name: str, *, limit: int = CODE_MAX, upper: bool = True) -> str | None:
        """The cell as a code (organization codes are upper-case)."""
        text = self.text(name, limit=limit)
        return text.upper() if text and upper else text

    def integer(self, name: str, low: int | None, high: int | None, reason: str) -> int | None:
        """The cell as a whole number within ``low..high`` when given (``reason`` if outside)."""
        value = self.values[name]
        text = _cell_text(value)
        if text is None:
            return None
        if isinstance(value, bool) or not re.fullmatch(r"\d{1,9}", text):
            self.error(name, N_("not a whole number ({value})"), value=_show(value))
            return None
        number = int(text)
        if (low is not None and number < low) or (high is not None and number > high):
            self.error(name, reason, value=number)
            return None
        return number

    def date(self, name: str) -> date | None:
        """The cell as a date: a real Excel date, or d/m/yyyy, dd/mm/yyyy or yyyy-mm-dd text."""
        value = self.values[name]
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            if value.year < MIN_YEAR:
                self.error(name, N_("date before 1900 ({value})"), value=_show(value))
                return None
            return value
        text = _cell_text(value)
        if text is None:
            return None
        if m := re.fullmatch(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d+)", text):
            day, month, year = m.group(1), m.group(2), m.group(3)
        elif m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?", text):
            year, month, day = m.group(1), m.group(2), m.group(3)
        else:
            self.error(name, N_("not a date; write it as dd/mm/yyyy ({value})"), value=_show(text))
            return None
        if len(year) <= 2:
            self.error(
                name,
                N_("two-digit year; write the year in full, e.g. 15/03/2020 ({value})"),
                value=_show(text),
            )
            return None
        if len(year) != 4:
            self.error(name, N_("not a date; write it as dd/mm/yyyy ({value})"), value=_show(text))
            return None
        try:
            parsed = date(int(year), int(month), int(day))
        except ValueError:
            self.error(name, N_("date does not exist ({value})"), value=_show(text))
            return None
        if parsed.year < MIN_YEAR:
            self.error(name, N_("date before 1900 ({value})"), value=_show(text))
            return None
        return parsed

    def word(self, name: str, table: Mapping[str, Any], reason: str, **params: object) -> Any:
        """The cell as one of the known words of ``table`` (matched without accents)."""
        text = _cell_text(self.values[name])
        if text is None:
            return None
        found = table.get(key(text))
        if found is None:
            self.error(name, reason, value=_show(text), **params)
        return found


def _blank(values: Sequence[Any]) -> bool:
    return all(_cell_text(v) is None for v in values)


def _parse_sheet(batch: ImportBatch, sheet: str, rows: Sequence[Sequence[Any]]) -> None:
    columns = SHEET_COLUMNS[sheet]
    header = rows[0] if rows else ()
    if not _header_keys(header) & {key(c.header) for c in columns if c.required}:
        # A title, a logo or merged cells above the headers: one line, not one per column.
        found = _find_header_row(rows, columns)
        if found is not None and found > 0:
            batch.errors.append(
                RowError(
                    sheet,
                    found + 1,
                    None,
                    N_(
                        "the column headers must be on row 1, but they are on row {row}; "
                        "delete the rows above them (titles, merged cells) and import again"
                    ),
                    {"row": found + 1},
                )
            )
        else:
            batch.errors.append(
                RowError(
                    sheet,
                    1,
                    None,
                    N_(
                        "row 1 must hold the column headers of the template ({columns}); "
                        "copy them from: chibo admin template"
                    ),
                    {"columns": ", ".join(c.header for c in columns if c.required)},
                )
            )
        return
    header_errors, positions = _check_headers(sheet, header, columns)
    if header_errors:
        batch.errors.extend(header_errors)
        return
    batch.sheets.append(sheet)  # its rows count (the one top organization is checked)
    width = len([v for v in header if _cell_text(v) is not None])
    seen: dict[str, int] = {}
    for number, values in enumerate(rows[1:], start=2):
        if _blank(values):
            continue
        extra = [i for i in range(width, len(values)) if _cell_text(values[i]) is not None]
        if extra:
            batch.errors.append(
                RowError(
                    sheet,
                    number,
                    None,
                    N_("column {letter} holds data but has no header"),
                    {"letter": get_column_letter(extra[0] + 1)},
                )
            )
        cells = _Cells(sheet, number, columns, values, batch.errors, positions)
        parsed = _org_row(cells) if sheet == SHEET_ORGS else _member_row(cells)
        if parsed is None:
            continue
        if parsed.code in seen:
            cells.error(
                "code",
                N_("code {code} already appears in row {row}"),
                code=parsed.code,
                row=seen[parsed.code],
            )
            continue
        seen[parsed.code] = number
        if isinstance(parsed, OrgRow):
            batch.orgs.append(parsed)
        else:
            batch.members.append(parsed)


#: What a spreadsheet would take for a formula at the start of a cell.
FORMULA_STARTS = ("=", "+", "-", "@")


def _warn(batch: ImportBatch) -> None:
    """Note what is accepted but deserves a look: names like formulas, probation dates."""
    risky: dict[str, list[str]] = {}
    for r in batch.orgs:
        for text in (r.name, r.host_unit):
            if text and text.startswith(FORMULA_STARTS):
                risky.setdefault(SHEET_ORGS, []).append(f"{r.row} ({_show(text)})")
    for m in batch.members:
        if m.full_name and m.full_name.startswith(FORMULA_STARTS):
            risky.setdefault(SHEET_MEMBERS, []).append(f"{m.row} ({_show(m.full_name)})")
    for sheet, rows in risky.items():
        batch.warnings.append(
            RowError(
                sheet,
                None,
                None,
                N_(
                    "names that begin with =, +, - or @ were kept as text, as written (exports "
                    "never turn them into formulas); check them: rows {rows}"
                ),
                {"rows": ", ".join(rows)},
            )
        )
    undated = [
        str(m.row)
        for m in batch.members
        if m.status is MemberStatus.PROBATIONARY
        and m.ceremony_on is None
        and m.probation_end_on is None
    ]
    if undated:
        batch.warnings.append(
            RowError(
                SHEET_MEMBERS,
                None,
                None,
                N_(
                    "probationary members without 'Ngày lễ kết nạp' nor 'Ngày hết dự bị': "
                    "their full-membership deadline cannot be computed, so no reminder will "
                    "come; fill one of these dates and import again: rows {rows}"
                ),
                {"rows": ", ".join(undated)},
            )
        )


def _org_row(cells: _Cells) -> OrgRow | None:
    code = cells.code("code")
    name = cells.text("name", limit=ORG_TEXT_MAX)
    kind_text = cells.text("kind")
    parent = cells.code("parent_code")
    org_type = cells.text("org_type")
    host = cells.text("host_unit", limit=ORG_TEXT_MAX)
    day = cells.integer(
        "usual_day", 1, 28, N_("the usual meeting day must be between 1 and 28 ({value})")
    )
    active_from = cells.date("active_from")
    active_to = cells.date("active_to")
    if active_from and active_to and active_to < active_from:
        cells.error(
            "active_to",
            N_("ends ({end}) before it starts ({start})"),
            end=_show(active_to),
            start=_show(active_from),
        )
    if code is None:
        return None
    return OrgRow(
        cells.row, code, name, kind_text, parent, org_type, host, day, active_from, active_to
    )


def _member_row(cells: _Cells) -> MemberRow | None:
    code = cells.code("code")  # member codes compare case-insensitively, as org codes
    name = cells.text("full_name", limit=MEMBER_NAME_MAX)
    org_code = cells.code("org_code")
    gender = cells.word("gender", _GENDER_KEYS, N_("unknown gender '{value}'; use Nam or Nữ"))
    birth_year = cells.integer("birth_year", None, None, "")  # its range needs today: _check
    month = cells.integer("birth_month", 1, 12, N_("the month must be between 1 and 12 ({value})"))
    status = cells.word(
        "status",
        _STATUS_KEYS,
        N_("unknown status '{value}'; use one of: {choices}"),
        choices=", ".join(words[0] for words in STATUS_WORDS.values()),
    )
    dates = {
        name: cells.date(name)
        for name in ("admitted_on", "ceremony_on", "probation_end_on", "full_member_on")
    }
    external = cells.code("external_code", limit=EXTERNAL_CODE_MAX, upper=False)
    if code is None:
        return None
    return MemberRow(
        cells.row,
        code,
        name,
        org_code,
        gender,
        birth_year,
        month,
        status or MemberStatus.FULL,  # an empty status means a full member (the template says so)
        external_code=external,
        **dates,
    )


# --- Rules that need the database ------------------------------------------------------------


@dataclass
class _Reference:
    """What the database holds, loaded with one query per table."""

    orgs: dict[str, Organization]
    member_orgs: dict[str, int]
    members: dict[str, Row[Any]]  # id, code and the imported fields; no ORM objects
    org_types: dict[str, str]  # key(code or name) -> code
    type_codes_in_db: set[str]
    kind_keys: dict[str, OrgKind]

    @classmethod
    def load(cls, session: Session, *, full_members: bool) -> _Reference:
        """Load organizations, members (codes only unless ``full_members``) and types."""
        orgs = {o.code: o for o in session.scalars(select(Organization))}
        members: dict[str, Row[Any]] = {}
        # Member codes compare case-insensitively (older imports kept them as typed).
        if full_members:
            # Plain rows, not ORM objects: 20,000 members compare in a fraction of the memory;
            # only the members that change are loaded as objects (see apply).
            fields = [getattr(Member, name) for name in _MEMBER_FIELDS]
            members = {
                m.code.upper(): m for m in session.execute(select(Member.id, Member.code, *fields))
            }
            member_orgs = {c: m.org_id for c, m in members.items()}
        else:
            member_orgs = {
                c.upper(): o for c, o in session.execute(select(Member.code, Member.org_id))
            }
        db_types = [(t.code, t.name_vi, t.name_en) for t in session.scalars(select(OrgType))]
        types = db_types or ORG_TYPES
        org_types: dict[str, str] = {}
        for code, vi, en in types:
            for word in (en, vi, code):  # codes win over names on a clash
                org_types[key(word)] = code
        kind_keys = dict(_KIND_KEYS)
        level_names = get_setting(session, "level_names")
        if isinstance(level_names, dict):
            for kind in OrgKind:
                name = level_names.get(kind.value)
                if isinstance(name, str) and key(name):
                    kind_keys[key(name)] = kind
        return cls(orgs, member_orgs, members, org_types, {t[0] for t in db_types}, kind_keys)


def _kind_choices() -> str:
    return ", ".join(words[0] for words in KIND_WORDS.values())


def _check(batch: ImportBatch, ref: _Reference, today: date) -> list[RowError]:
    errors = list(batch.errors)

    def add(sheet: str, row: int | None, column: str | None, reason: str, **p: object) -> None:
        errors.append(RowError(sheet, row, column, reason, p))

    org_header = {c.field: c.header for c in ORG_COLUMNS}
    member_header = {c.field: c.header for c in MEMBER_COLUMNS}
    code_by_id = {o.id: code for code, o in ref.orgs.items()}
    # The tree as it will be: database rows, overridden by the file's rows.
    kinds: dict[str, OrgKind | None] = {code: o.kind for code, o in ref.orgs.items()}
    parents: dict[str, str | None] = {
        code: code_by_id.get(o.parent_id) if o.parent_id else None for code, o in ref.orgs.items()
    }
    file_orgs = {r.code: r for r in batch.orgs}
    for r in batch.orgs:
        kind = ref.kind_keys.get(key(r.kind_text)) if r.kind_text else None
        if r.kind_text and kind is None:
            add(
                SHEET_ORGS,
                r.row,
                org_header["kind"],
                N_("unknown level '{value}'; use one of: {choices}"),
                value=_show(r.kind_text),
                choices=_kind_choices(),
            )
        if r.org_type_text and key(r.org_type_text) not in ref.org_types:
            add(
                SHEET_ORGS,
                r.row,
                org_header["org_type"],
                N_("unknown organization type '{value}'; see the LoaiHinh sheet for the codes"),
                value=_show(r.org_type_text),
            )
        kinds[r.code] = kind
        parents[r.code] = r.parent_code

    for r in batch.orgs:
        kind = kinds[r.code]
        column = org_header["parent_code"]
        if kind is OrgKind.TOP and r.parent_code:
            add(
                SHEET_ORGS,
                r.row,
                column,
                N_("the top organization cannot have a superior organization"),
            )
        elif kind is not None and kind is not OrgKind.TOP and not r.parent_code:
            add(
                SHEET_ORGS,
                r.row,
                column,
                N_(
                    "a superior organization code is required (only the top organization has none)"
                ),
            )
        elif r.parent_code and r.parent_code not in kinds:
            add(
                SHEET_ORGS,
                r.row,
                column,
                N_("superior organization {code} is neither in this file nor in the database"),
                code=r.parent_code,
            )
        chain = _cycle(r.code, parents)
        if chain:
            add(
                SHEET_ORGS,
                r.row,
                column,
                N_("the chain of superior organizations loops back: {chain}"),
                chain=" → ".join(chain),
            )

    if SHEET_ORGS in batch.sheets:
        tops = sorted(code for code, kind in kinds.items() if kind is OrgKind.TOP)
        if not tops:
            add(
                SHEET_ORGS,
                None,
                None,
                N_("there must be exactly one top organization (Cấp: {word}); found none"),
                word=KIND_WORDS[OrgKind.TOP][0],
            )
        elif len(tops) > 1:
            lines: list[int | None] = [file_orgs[c].row for c in tops if c in file_orgs]
            for row in lines or [None]:
                add(
                    SHEET_ORGS,
                    row,
                    org_header["kind"] if row else None,
                    N_("there must be exactly one top organization; found {count}: {codes}"),
                    count=len(tops),
                    codes=", ".join(tops),
                )

    file_members = {m.code for m in batch.members}
    staying_in = Counter(
        org_id for code, org_id in ref.member_orgs.items() if code not in file_members
    )
    for r in batch.orgs:
        kind = kinds[r.code]
        existing = ref.orgs.get(r.code)
        if kind is None or kind in CELL_KINDS or existing is None:
            continue
        staying = staying_in[existing.id]
        if staying:
            add(
                SHEET_ORGS,
                r.row,
                org_header["kind"],
                N_(
                    "members in the database belong to this organization ({count}), so it must "
                    "stay a cell"
                ),
                count=staying,
            )

    for m in batch.members:
        if m.birth_year is not None and not MIN_YEAR <= m.birth_year <= today.year:
            add(
                SHEET_MEMBERS,
                m.row,
                member_header["birth_year"],
                N_("the birth year must be between 1900 and {max} ({value})"),
                max=today.year,
                value=m.birth_year,
            )
        if m.org_code is None:
            continue
        if m.org_code not in kinds:
            add(
                SHEET_MEMBERS,
                m.row,
                member_header["org_code"],
                N_("organization {code} is neither in this file nor in the database"),
                code=m.org_code,
            )
        elif kinds[m.org_code] is not None and kinds[m.org_code] not in CELL_KINDS:
            add(
                SHEET_MEMBERS,
                m.row,
                member_header["org_code"],
                N_(
                    "{code} is not a cell; members belong to a cell (Chi bộ cơ sở or Chi bộ "
                    "trực thuộc)"
                ),
                code=m.org_code,
            )

    order = {sheet: i for i, sheet in enumerate(DATA_SHEETS)}
    errors.sort(key=lambda e: (order.get(e.sheet, -1), e.row or 0))
    return errors


def _cycle(start: str, parents: Mapping[str, str | None]) -> list[str] | None:
    """The loop of superior organizations through ``start``, if there is one."""
    chain = [start]
    seen = {start}
    current = parents.get(start)
    while current is not None:
        chain.append(current)
        if current == start:
            return chain
        if current in seen:
            return None  # a loop above us; its own rows report it
        seen.add(current)
        current = parents.get(current)
    return None


def validate(session: Session, batch: ImportBatch, *, today: date | None = None) -> list[RowError]:
    """Return every error of the batch, including those that need the database."""
    ref = _Reference.load(session, full_members=False)
    return _check(batch, ref, today or datetime.now(UTC).date())


# --- Writing ---------------------------------------------------------------------------------


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
    ref = _Reference.load(session, full_members=True)
    errors = _check(batch, ref, now.date())
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
                after=_snapshot(org, ("code", *_ORG_FIELDS)),
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
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(
            insert(Member),
            [
                {**row, "created_at": now, "updated_at": now}
                for row in rows[start : start + INSERT_CHUNK]
            ],
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
                    "after": {name: jsonable(row[name]) for name in ("code", *_MEMBER_FIELDS)},
                }
                for row in rows[start : start + INSERT_CHUNK]
            ],
        )
    return len(rows)


def _snapshot(obj: object, names: Iterable[str]) -> dict[str, Any]:
    return {name: jsonable(getattr(obj, name)) for name in names}
