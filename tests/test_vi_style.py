"""The Vietnamese catalog speaks as a Khối's office writes: one glossary, checked on every message.

A new message that says "Bạn", mixes "định kỳ" with "thường kỳ", calls the monthly review
"kiểm điểm" (the annual self-criticism review) or asks with "Hãy" / "Xin gõ" fails here, with
the word to use instead.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from domain.access import ALIASES
from domain.i18n import LOCALE_DIR

#: (pattern that must not appear, what to write instead)
GLOSSARY: list[tuple[str, str]] = [
    (r"\b[Bb]ạn\b", "Đồng chí / đồng chí"),
    (r"[Kk]iểm điểm (việc )?(thực hiện )?(bản )?cam kết", "Nhận xét việc thực hiện bản cam kết"),
    (r"[Ss]inh hoạt định kỳ", "Sinh hoạt thường kỳ"),
    (r"[Qq]uy định ba tháng", "Vắng sinh hoạt 3 tháng trong năm không có lý do (khoản 3 Điều 8)"),
    (r"phải xem xét xóa tên", "chi bộ xem xét, đề nghị xóa tên"),
    (r"đường link", "đường liên kết"),
    (r"\b[Ss]heet\b", "trang tính"),
    (r"Khắc phục suy thoái", "Khắc phục biểu hiện suy thoái"),
    (r"mô hình học Bác", "mô hình học tập và làm theo Bác"),
    (r"lượt chi bộ-(tháng|quý)", "(số chi bộ × số tháng)"),
    (r"[Xx]in gõ|\bHãy\b|[Đđ]ồng chí hãy", "Đồng chí vui lòng nhập / chọn …"),
    (r"(?<!ồng chí )\bVui lòng\b", "Đồng chí vui lòng …"),
    (r"người Khmer", "dân tộc Khmer"),
    (r"Tôi vắng", "Xin vắng"),
    (r"Hạn chót của đồng chí", "Việc đến hạn của đồng chí"),
    (r"lớp nhận thức về Đảng", "lớp bồi dưỡng nhận thức về Đảng"),
    (r"chưa phân loại hình", "chưa xác định loại hình"),
]
#: English commands that have a Vietnamese alias are named by the alias in Vietnamese text.
COMMANDS = {english: alias for alias, english in ALIASES.items()}
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _vietnamese() -> list[str]:
    with (LOCALE_DIR / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    texts: list[str] = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        texts.extend(_PLACEHOLDER.sub("", s) for s in strings if s)
    return texts


@pytest.mark.parametrize(("pattern", "instead"), GLOSSARY, ids=[g[1] for g in GLOSSARY])
def test_the_vietnamese_catalog_follows_the_glossary(pattern: str, instead: str) -> None:
    found = [text for text in _vietnamese() if re.search(pattern, text)]
    assert not found, f"write {instead!r} instead of /{pattern}/ in: {found[:5]}"


def test_vietnamese_text_names_the_vietnamese_commands() -> None:
    english = re.compile(r"/(" + "|".join(map(re.escape, COMMANDS)) + r")\b(?!s)")
    found = [text for text in _vietnamese() if english.search(text)]
    assert not found, f"use the Vietnamese alias ({COMMANDS}) in: {found[:5]}"
