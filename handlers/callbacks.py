"""Callback data: one typed declaration per button family (see :mod:`services.callbacks`,
where the scheduler's reminder and notice buttons are declared with the same machinery)."""

from services.callbacks import (
    CODE,
    DATA_MAX,
    DAY,
    ID,
    ID_MAX,
    MONTH,
    PERIOD,
    YEAR,
    Callback,
    Family,
    Field,
    choice,
    member_of,
)

__all__ = [
    "CODE",
    "DATA_MAX",
    "DAY",
    "ID",
    "ID_MAX",
    "MONTH",
    "PERIOD",
    "YEAR",
    "Callback",
    "Family",
    "Field",
    "choice",
    "member_of",
]
