"""The 27 signs of degradation (Nghị quyết 04-NQ/TW, 30/10/2016) as data an admin can correct.

The shipped list is ``domain/data/signs-of-degradation.md``: three groups of nine, a heading per
group ending with its code prefix (``(TT)``, ``(DD)``, ``(TD)``) and numbered items. The wording
must match the official text: an admin corrects a copy of the file and loads it
(``chibo signs load FILE``). A review picks a sign by its stable code (``TT1`` … ``TD9``) instead
of a typed description about a person (DOMAIN.md, "Commitments and monthly reviews").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.vocab import SignGroup

RULE_SOURCE_SIGNS = "Nghị quyết 04-NQ/TW ngày 30/10/2016, phần nhận diện 27 biểu hiện suy thoái"

#: Code prefix → group, in the resolution's order.
PREFIXES: dict[str, SignGroup] = {
    "TT": SignGroup.POLITICAL,
    "DD": SignGroup.ETHICS,
    "TD": SignGroup.SELF_EVOLUTION,
}
PREFIX_OF = {g: p for p, g in PREFIXES.items()}
SIGNS_PER_GROUP = 9
TEXT_MAX = 400

_HEADING = re.compile(r"^##\s+.*\((TT|DD|TD)\)\s*$")
_ITEM = re.compile(r"^(\d{1,2})\.\s+(.*)$")
_CODE = re.compile(r"^(TT|DD|TD)([1-9])$")


class SignsError(ValueError):
    """A list of signs that cannot be loaded (each problem listed); nothing changed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Sign:
    """One sign of degradation.

    Attributes:
        code: Stable key, ``TT1`` … ``TD9``.
        group: Its group.
        number: 1–9 within the group.
        text: The wording (the official text once confirmed).
        short_label: True when the text is a short label, not the resolution's wording (``(*)``).
    """

    code: str
    group: SignGroup
    number: int
    text: str
    short_label: bool = False


def parse_signs_markdown(text: str) -> tuple[Sign, ...]:
    """Read the markdown list; raise :class:`SignsError` unless it has 3 groups × 9 signs."""
    signs: list[Sign] = []
    problems: list[str] = []
    prefix: str | None = None
    current: list[str] = []
    number = 0

    def flush() -> None:
        if prefix is None or not current:
            return
        body = " ".join(part.strip() for part in current).strip()
        short = body.startswith("(*)")
        body = body.removeprefix("(*)").strip()
        if not body:
            problems.append(f"{prefix}{number}: the sign has no text")
        elif len(body) > TEXT_MAX:
            problems.append(f"{prefix}{number}: longer than {TEXT_MAX} characters")
        else:
            signs.append(Sign(f"{prefix}{number}", PREFIXES[prefix], number, body, short))

    for line in text.splitlines():
        heading = _HEADING.match(line.strip())
        if heading:
            flush()
            prefix, current, number = heading.group(1), [], 0
            continue
        item = _ITEM.match(line)
        if item and prefix is not None:
            flush()
            number, current = int(item.group(1)), [item.group(2)]
            continue
        if line.startswith("#"):
            flush()
            current = []
            continue
        if current and line.startswith(" ") and line.strip():
            current.append(line)
        elif current and not line.strip():
            flush()
            current = []
    flush()
    for pfx, group in PREFIXES.items():
        numbers = sorted(s.number for s in signs if s.group is group)
        if numbers != list(range(1, SIGNS_PER_GROUP + 1)):
            problems.append(
                f"group {pfx}: expected signs 1–{SIGNS_PER_GROUP}, found {numbers or 'none'}"
            )
    if problems:
        raise SignsError(problems)
    return tuple(sorted(signs, key=lambda s: (list(PREFIXES).index(s.code[:2]), s.number)))


def signs_value(signs: tuple[Sign, ...]) -> list[dict[str, object]]:
    """The list as stored (JSON)."""
    return [
        {"code": s.code, "group": s.group.value, "text": s.text, "short": s.short_label}
        for s in signs
    ]


def signs_from_value(value: list[dict[str, object]]) -> tuple[Sign, ...]:
    """The list from its stored form."""
    out = []
    for item in value:
        code = str(item["code"])
        match = _CODE.match(code)
        if match is None:
            continue
        out.append(
            Sign(
                code,
                PREFIXES[match.group(1)],
                int(match.group(2)),
                str(item["text"]),
                bool(item.get("short", False)),
            )
        )
    return tuple(out)


def group_of(code: str) -> SignGroup:
    """The group of a sign code; raise :class:`ValueError` on an unknown code."""
    match = _CODE.match(code)
    if match is None:
        raise ValueError(f"not a sign code: {code!r}")
    return PREFIXES[match.group(1)]
