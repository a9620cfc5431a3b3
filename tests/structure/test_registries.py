"""Registries are built explicitly from lists, never filled as a side effect of an import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot import app
from documents.reports import RENDERERS
from handlers import flows
from storage.report_kinds import KINDS


def test_every_report_kind_has_a_renderer_and_nothing_else_does() -> None:
    assert list(KINDS) == ["remedy_quarterly", "remedy_annual", "plan_annual"]
    assert set(RENDERERS) == set(KINDS)


def test_the_catalogues_are_complete_without_importing_the_features() -> None:
    # In a fresh interpreter that imports only the catalogue modules (no summary renderer, no
    # handlers), every kind is there and renders.
    code = (
        "from documents.reports import RENDERERS\n"
        "from storage.report_kinds import KINDS\n"
        "import sys\n"
        "assert set(RENDERERS) == set(KINDS) == {'remedy_quarterly', 'remedy_annual',"
        " 'plan_annual'}, (RENDERERS, KINDS)\n"
        "assert 'handlers.summary' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_composition_root_lists_flows_and_jobs() -> None:
    names = [f.name for f in app.FLOWS]
    assert len(names) == len(set(names))
    assert {"review", "commitments", "report"} <= set(names)
    assert app.JOB_INSTALLERS, "the reminders install their jobs"
    flows.install(app.FLOWS)
    assert list(flows.FLOWS) == names


def test_a_flow_listed_twice_is_refused() -> None:
    flow = app.FLOWS[0]
    try:
        with pytest.raises(ValueError, match=flow.name):
            flows.install([flow, flow])
    finally:
        flows.install(app.FLOWS)
