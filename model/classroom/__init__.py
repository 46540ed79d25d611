"""The classroom page's model: what the page shows and what each control changes (no web framework).

The page (:mod:`model.app`) lets a teacher switch events of the record off
(a cause, not a row: switching the Su-24 downing off takes the sanctions and
their lifting with it, :func:`toggle` and :func:`causal_note`), move their
dates, pick Türkiye's policy from 2026 and its settings, the
number of replicates and the rate of random incidents. All of that is a
:class:`Settings` value; :func:`scenario_dict` lays it over the shipped
``baseline.toml`` (events switched off go to ``events.drop``, moved ones to
``events.move``, a policy other than passive to ``[policy]`` with the other
actors' reactions, and the incident rate scales the hazards of the shipped
``stress.toml``). Every run uses the baseline's seed, so a change on the page
shows what the change does, not new noise. Runs are cached
(:func:`compute`), so going back to earlier settings is instant; with
incidents on, :func:`preview_size` says how many replicates a quick first
look may use. :func:`outcome_table` and :func:`guided_text` are the page's
table and the guided history's text; the charts are in
:mod:`model.plotting.classroom`.
"""

from __future__ import annotations

from .events import PERIODS, causal_note, event_periods, matching, toggle, went_with
from .guided import BALANCING_QUESTION, GUIDED_EVENTS, GUIDED_STEPS, guided_intro, guided_text
from .runs import (
    OUTCOME_YEARS,
    PROJECTION_START,
    View,
    cached,
    compute,
    compute_path,
    outcome_table,
    preview_size,
)
from .settings import (
    INCIDENTS,
    PARAM_LABELS,
    PARAM_RANGE,
    POLICIES,
    POLICY_NOTES,
    REPLICATES,
    Settings,
    check,
    run_period,
    scenario_dict,
)

__all__ = [
    "BALANCING_QUESTION",
    "GUIDED_EVENTS",
    "GUIDED_STEPS",
    "INCIDENTS",
    "OUTCOME_YEARS",
    "PARAM_LABELS",
    "PARAM_RANGE",
    "PERIODS",
    "POLICIES",
    "POLICY_NOTES",
    "PROJECTION_START",
    "REPLICATES",
    "Settings",
    "View",
    "cached",
    "causal_note",
    "check",
    "compute",
    "compute_path",
    "event_periods",
    "guided_intro",
    "guided_text",
    "matching",
    "outcome_table",
    "preview_size",
    "run_period",
    "scenario_dict",
    "toggle",
    "went_with",
]
