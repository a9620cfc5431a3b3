"""Reading the file (no database): the workbook or CSV into typed rows and reading errors."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from domain.i18n import N_
from domain.text import clean
from storage.importer.columns import (
    CODE_MAX,
    DATA_SHEETS,
    EXTERNAL_CODE_MAX,
    GENDER_KEYS,
    MEMBER_NAME_MAX,
    MIN_YEAR,
    ORG_TEXT_MAX,
    SHEET_COLUMNS,
    SHEET_MEMBERS,
    SHEET_ORGS,
    STATUS_KEYS,
    STATUS_WORDS,
    Column,
    key,
)
from storage.importer.results import ImportBatch, MemberRow, OrgRow, RowError, UnreadableFile
from storage.models import (
    MemberStatus,
)


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


def show_value(value: Any) -> str:
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
                    value=show_value(value.text),
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
            self.error(name, N_("not a whole number ({value})"), value=show_value(value))
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
                self.error(name, N_("date before 1900 ({value})"), value=show_value(value))
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
            self.error(
                name, N_("not a date; write it as dd/mm/yyyy ({value})"), value=show_value(text)
            )
            return None
        if len(year) <= 2:
            self.error(
                name,
                N_("two-digit year; write the year in full, e.g. 15/03/2020 ({value})"),
                value=show_value(text),
            )
            return None
        if len(year) != 4:
            self.error(
                name, N_("not a date; write it as dd/mm/yyyy ({value})"), value=show_value(text)
            )
            return None
        try:
            parsed = date(int(year), int(month), int(day))
        except ValueError:
            self.error(name, N_("date does not exist ({value})"), value=show_value(text))
            return None
        if parsed.year < MIN_YEAR:
            self.error(name, N_("date before 1900 ({value})"), value=show_value(text))
            return None
        return parsed

    def word(self, name: str, table: Mapping[str, Any], reason: str, **params: object) -> Any:
        """The cell as one of the known words of ``table`` (matched without accents)."""
        text = _cell_text(self.values[name])
        if text is None:
            return None
        found = table.get(key(text))
        if found is None:
            self.error(name, reason, value=show_value(text), **params)
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
                risky.setdefault(SHEET_ORGS, []).append(f"{r.row} ({show_value(text)})")
    for m in batch.members:
        if m.full_name and m.full_name.startswith(FORMULA_STARTS):
            risky.setdefault(SHEET_MEMBERS, []).append(f"{m.row} ({show_value(m.full_name)})")
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
            end=show_value(active_to),
            start=show_value(active_from),
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
    gender = cells.word("gender", GENDER_KEYS, N_("unknown gender '{value}'; use Nam or Nữ"))
    birth_year = cells.integer("birth_year", None, None, "")  # its range needs today: check_batch
    month = cells.integer("birth_month", 1, 12, N_("the month must be between 1 and 12 ({value})"))
    status = cells.word(
        "status",
        STATUS_KEYS,
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
