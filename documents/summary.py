"""The summary rendered: chat screens, JSON, an Excel workbook, a Word report and a PNG chart.

One module per format: :mod:`~documents.summary_words` (names shared by all),
:mod:`~documents.summary_text` (chat), :mod:`~documents.summary_json`,
:mod:`~documents.summary_xlsx`, :mod:`~documents.summary_docx`, :mod:`~documents.summary_chart`
and :mod:`~documents.summary_plan` (the annual plan report and its roll-up). This module gathers
what the /summary handler and the summary CLI call.
"""

from __future__ import annotations

from documents.summary_chart import to_png
from documents.summary_docx import to_docx
from documents.summary_json import to_json
from documents.summary_plan import rollup_docx
from documents.summary_text import (
    breakdown_text,
    cell_text,
    explain_text,
    list_page,
    main_text,
    plain,
)
from documents.summary_words import (
    LISTS,
    PAGE_SIZE,
    month_list,
    period_nav,
    period_title,
    subject_name,
)
from documents.summary_xlsx import to_xlsx

__all__ = [
    "LISTS",
    "PAGE_SIZE",
    "breakdown_text",
    "cell_text",
    "explain_text",
    "list_page",
    "main_text",
    "month_list",
    "period_nav",
    "period_title",
    "plain",
    "rollup_docx",
    "subject_name",
    "to_docx",
    "to_json",
    "to_png",
    "to_xlsx",
]
