"""The classroom page: switch events, pick a policy, see the ensemble at once (Panel).

``relsim app`` (or :func:`serve`) starts a local web page with two tabs:

- **Explore**: switch catalog events off and on (an event that requires one
  switched off goes with it, unticked and greyed, with a note), move their dates, pick
  Türkiye's policy from 2026 and its settings (the balancing floors), the
  number of replicates and the rate of random incidents. The four indices are
  drawn as fan charts (median, 50% and 90% bands) with the key events
  numbered, the history as recorded as a dashed line for comparison, and an
  outcome table for 2026–2035 (mean level, worst level, years in crisis).
- **Guided history**: steps through the main events of the source brief,
  each with its date, the brief's section and the catalog's note, and the
  record's trajectory up to that event, and ends with the brief's balancing
  question.

The events are grouped by period and found by words of their title or their
year (:mod:`.events`); every value a browser sends is checked on the server
before anything runs (:mod:`.page`); a broken scenario file is shown, not
fatal (:mod:`.server`). This package is the only one that imports Panel;
what the page shows and what each control changes is :mod:`model.classroom`,
and its charts are :mod:`model.plotting.classroom`.
"""

from __future__ import annotations

from .page import ClassroomPage
from .server import check_baseline, create_app, serve

__all__ = ["ClassroomPage", "check_baseline", "create_app", "serve"]
