"""Who owes what, and what discharges it: the queries behind reminders, digests and /deadlines.

An *instance* is one obligation of the catalog for one organization and one period (or one
member, for the full-membership consideration). It is *discharged* as soon as its record
exists, so the next reminder simply is not computed. The catalog itself (``obligations`` rows
and the ``calendar`` setting) and the public holidays are read and written here too.

Every name below is importable from ``storage.obligations``; each module holds one part:

==================  ==========================================================================
``organizations``   :class:`OrgRow`, the organizations as the calendar sees them
``instances``       :func:`instances`: what is owed, by whom, for which period, and by when
``discharges``      what discharges each kind of instance (one GROUP BY query per kind)
``recipients``      who is reminded, who gets the leaders' digest, :class:`PersonInfo`
``snoozes``         snoozes, reminder preferences, the rows sent in one message
``reachability``    :func:`unreachable`: people with a role the bot cannot reach
``catalog``         the catalog and the holidays, read and written
``due_dates``       one source of truth for due dates: :func:`due_date_of`, :func:`work_calendar`
``notices``         notices and briefing invitations, and their answers
==================  ==========================================================================
"""

from storage.obligations.catalog import (
    CALENDAR_SETTING,
    HOLIDAY_RULES_SETTING,
    catalog_rows,
    holiday_days,
    holiday_decisions,
    save_catalog,
    save_holidays,
)
from storage.obligations.discharges import REGULAR_KINDS, REVIEWED_STATUSES, THEMATIC_KINDS
from storage.obligations.due_dates import (
    DueEntry,
    decisions_in_force,
    due_date_of,
    due_entries,
    meeting_grace_days,
    report_due_date,
    report_due_dates,
    shipped_holidays,
    work_calendar,
)
from storage.obligations.instances import (
    IN_THE_PERIOD,
    Instance,
    instances,
    period_of_instance,
    pipeline_instances,
)
from storage.obligations.notices import (
    NOTICE_ANSWERS,
    NOTICE_KINDS,
    NoticeStatus,
    create_notice,
    notice_status,
    parse_scope,
    reply_to_notice,
    scope_recipients,
    was_sent_notice,
)
from storage.obligations.organizations import OrgRow, org_rows, org_type_codes, org_type_names
from storage.obligations.reachability import Unreachable, unreachable
from storage.obligations.recipients import (
    PersonInfo,
    Recipient,
    admins,
    leaders,
    people_info,
    recipients,
    role_holders,
    role_org_ids,
)
from storage.obligations.snoozes import sent_rows_of_message, set_preferences, snooze, snoozes

__all__ = [
    "CALENDAR_SETTING",
    "HOLIDAY_RULES_SETTING",
    "IN_THE_PERIOD",
    "NOTICE_ANSWERS",
    "NOTICE_KINDS",
    "REGULAR_KINDS",
    "REVIEWED_STATUSES",
    "THEMATIC_KINDS",
    "DueEntry",
    "Instance",
    "NoticeStatus",
    "OrgRow",
    "PersonInfo",
    "Recipient",
    "Unreachable",
    "admins",
    "catalog_rows",
    "create_notice",
    "decisions_in_force",
    "due_date_of",
    "due_entries",
    "holiday_days",
    "holiday_decisions",
    "instances",
    "leaders",
    "meeting_grace_days",
    "notice_status",
    "org_rows",
    "org_type_codes",
    "org_type_names",
    "parse_scope",
    "people_info",
    "period_of_instance",
    "pipeline_instances",
    "recipients",
    "reply_to_notice",
    "report_due_date",
    "report_due_dates",
    "role_holders",
    "role_org_ids",
    "save_catalog",
    "save_holidays",
    "scope_recipients",
    "sent_rows_of_message",
    "set_preferences",
    "shipped_holidays",
    "snooze",
    "snoozes",
    "unreachable",
    "was_sent_notice",
    "work_calendar",
]
