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

The package follows those steps: :mod:`.columns` (the sheets, their columns and words),
:mod:`.results` (errors and parsed rows), :mod:`.reading`, :mod:`.checks`, :mod:`.writing`.
"""

from __future__ import annotations

from storage.importer.checks import (
    validate,
)
from storage.importer.columns import (
    CELL_KINDS,
    CODE_MAX,
    DATA_SHEETS,
    EXTERNAL_CODE_MAX,
    GENDER_WORDS,
    IMPORT_TZ,
    KIND_WORDS,
    MEMBER_COLUMNS,
    MEMBER_NAME_MAX,
    MIN_YEAR,
    ORG_COLUMNS,
    ORG_TEXT_MAX,
    SHEET_COLUMNS,
    SHEET_MEMBERS,
    SHEET_ORGS,
    STATUS_WORDS,
    Column,
    key,
)
from storage.importer.reading import (
    FORMULA_STARTS,
    HEADER_SEARCH_ROWS,
    parse_workbook,
)
from storage.importer.results import (
    ImportBatch,
    ImportInvalid,
    ImportResult,
    MemberRow,
    OrgRow,
    RowError,
    UnreadableFile,
)
from storage.importer.writing import (
    INSERT_CHUNK,
    apply,
)

__all__ = [
    "CELL_KINDS",
    "CODE_MAX",
    "DATA_SHEETS",
    "EXTERNAL_CODE_MAX",
    "FORMULA_STARTS",
    "GENDER_WORDS",
    "HEADER_SEARCH_ROWS",
    "IMPORT_TZ",
    "INSERT_CHUNK",
    "KIND_WORDS",
    "MEMBER_COLUMNS",
    "MEMBER_NAME_MAX",
    "MIN_YEAR",
    "ORG_COLUMNS",
    "ORG_TEXT_MAX",
    "SHEET_COLUMNS",
    "SHEET_MEMBERS",
    "SHEET_ORGS",
    "STATUS_WORDS",
    "Column",
    "ImportBatch",
    "ImportInvalid",
    "ImportResult",
    "MemberRow",
    "OrgRow",
    "RowError",
    "UnreadableFile",
    "apply",
    "key",
    "parse_workbook",
    "validate",
]
