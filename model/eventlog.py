"""The event log: what each event did, as named rows, and the events table built from them.

A run logs two kinds of rows:

- :class:`SharedRow`: an event applied across the ensemble (a catalog event,
  a shift's end). It carries the sum of the changes over the replicates it
  reached in fixed point (units of ``2**-32`` index points, an exact
  integer), so rows of different chunks merge without rounding, whatever the
  order.
- :class:`IncidentRows`: changes that belong to one replicate each (a
  hazard's incident, a policy action), kept as columns (replicate, day,
  label, change) so that a chunk's thousands of rows travel as a few arrays.
  Above ``INCIDENT_ROWS_LIMIT`` replicates they are summed by month instead
  (:class:`MonthlySums`), in fixed point too.

:func:`events_table` turns the rows of all chunks into the ``events`` table
of a result: ``replicate, date, event, title, indicator, kind, delta,
replicates`` (``replicate`` empty and ``delta`` the mean change for a shared
row, ``replicates`` how many replicates a row stands for).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "EVENT_COLUMNS",
    "FIXED_POINT",
    "INCIDENT_ROWS_LIMIT",
    "IncidentRow",
    "IncidentRows",
    "Label",
    "MonthlyIncidents",
    "MonthlySums",
    "SharedRow",
    "events_table",
    "group_by_month",
    "shared_row",
]

#: Scale of the fixed-point sums.
FIXED_POINT = float(2**32)
#: Above this many replicates, incidents are summed by month instead of kept per replicate.
INCIDENT_ROWS_LIMIT = 10_000
EVENT_COLUMNS = ["replicate", "date", "event", "title", "indicator", "kind", "delta", "replicates"]
_KEY = ["day", "event", "title", "indicator", "kind"]

#: What a row is about: event id, title, indicator, kind (jump, shift, shift-end).
Label = tuple[str, str, str, str]


class SharedRow(NamedTuple):
    """An event applied across the ensemble: ``total`` is the fixed-point sum of the
    changes over the ``n`` replicates it reached on ``day`` (days since the run's start)."""

    day: int
    event: str
    title: str
    indicator: str
    kind: str
    total: int
    n: int


class IncidentRow(NamedTuple):
    """One change in one replicate (``delta`` in index points)."""

    replicate: int
    day: int
    event: str
    title: str
    indicator: str
    kind: str
    delta: float


def shared_row(day: int, label: Label, delta: np.ndarray, mask: np.ndarray) -> SharedRow:
    """The row of an event that changed ``delta[mask]`` (one value per replicate of a chunk)."""
    total = int(np.round(delta[mask] * FIXED_POINT).astype(np.int64).sum())
    return SharedRow(max(int(day), 0), *label, total, int(mask.sum()))


@dataclass
class IncidentRows:
    """Per-replicate log rows as columns, in log order: row ``i`` is replicate
    ``replicate[i]`` on ``day[i]``, about ``labels[label[i]]``, changed by ``value[i]``."""

    replicate: np.ndarray
    day: np.ndarray
    label: np.ndarray
    value: np.ndarray
    labels: list[Label]

    @classmethod
    def empty(cls) -> IncidentRows:
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, none, np.zeros(0), [])

    @classmethod
    def from_rows(cls, rows: Sequence[IncidentRow]) -> IncidentRows:
        """Columns from named rows."""
        labels: dict[Label, int] = {}
        code = np.array(
            [labels.setdefault((r.event, r.title, r.indicator, r.kind), len(labels)) for r in rows],
            dtype=np.int64,
        )
        return cls(
            np.array([r.replicate for r in rows], dtype=np.int64),
            np.array([r.day for r in rows], dtype=np.int64),
            code,
            np.array([r.delta for r in rows], dtype=float),
            list(labels),
        )

    @classmethod
    def concat(cls, parts: Sequence[IncidentRows]) -> IncidentRows:
        """The rows of ``parts`` one after the other, their labels merged."""
        if not parts:
            return cls.empty()
        labels: dict[Label, int] = {}
        codes = [
            np.array([labels.setdefault(x, len(labels)) for x in p.labels], dtype=np.int64)[p.label]
            for p in parts
        ]
        return cls(
            np.concatenate([p.replicate for p in parts]),
            np.concatenate([p.day for p in parts]),
            np.concatenate(codes),
            np.concatenate([p.value for p in parts]),
            list(labels),
        )

    def __len__(self) -> int:
        return len(self.replicate)

    def by_day(self) -> IncidentRows:
        """The rows sorted by day, then replicate (stable: ties keep log order)."""
        key = self.day * (int(self.replicate.max(initial=0)) + 1) + self.replicate
        order = np.argsort(key, kind="stable")
        return IncidentRows(
            self.replicate[order],
            self.day[order],
            self.label[order],
            self.value[order],
            self.labels,
        )

    def rows(self) -> list[IncidentRow]:
        """The rows as named tuples."""
        labels = self.labels
        return [
            IncidentRow(r, d, labels[c][0], labels[c][1], labels[c][2], labels[c][3], v)
            for r, d, c, v in zip(
                self.replicate.tolist(), self.day.tolist(), self.label.tolist(), self.value.tolist()
            )
        ]


# --------------------------------------------------------------------------- by month


@dataclass
class MonthlyIncidents:
    """A chunk's incident rows grouped by month and label, in log order.

    Group ``g`` is ``keys[g] = (month_day, event, title, indicator, kind)``;
    its changes are ``values[starts[g]:starts[g + 1]]`` in the order of the
    chunk's log, so that the parent sums them exactly as it would the rows.
    """

    keys: list[tuple]
    starts: np.ndarray
    values: np.ndarray


def group_by_month(rows: IncidentRows, start: dt.date) -> MonthlyIncidents:
    """Group incident rows by (month, event, title, indicator, kind), keeping their order."""
    if len(rows) == 0:
        return MonthlyIncidents([], np.zeros(1, dtype=np.int64), np.zeros(0))
    n_labels = len(rows.labels)
    origin = np.datetime64(start, "D")
    month = (origin + rows.day).astype("datetime64[M]").astype("datetime64[D]") - origin
    group = month.astype(np.int64) * n_labels + rows.label
    order = np.argsort(group, kind="stable")
    uniq, first = np.unique(group[order], return_index=True)
    keys = [(int(g // n_labels),) + rows.labels[int(g % n_labels)] for g in uniq]
    return MonthlyIncidents(keys, np.append(first, len(rows)).astype(np.int64), rows.value[order])


class MonthlySums:
    """Per-group sums of incident changes, merged chunk after chunk, in fixed point:
    the sums, and the means the table reports, do not depend on how the
    replicates were split into chunks or in which order the chunks finish."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.sum = np.zeros(0, dtype=np.int64)
        self.n = np.zeros(0, dtype=np.int64)

    def add(self, inc: MonthlyIncidents) -> None:
        if not inc.keys:
            return
        idx = np.array([self.index.setdefault(key, len(self.index)) for key in inc.keys])
        grow = len(self.index) - self.sum.size
        if grow > 0:
            self.sum = np.concatenate([self.sum, np.zeros(grow, dtype=np.int64)])
            self.n = np.concatenate([self.n, np.zeros(grow, dtype=np.int64)])
        length = np.diff(inc.starts)
        fixed = np.round(inc.values * FIXED_POINT).astype(np.int64)
        np.add.at(self.sum, np.repeat(idx, length), fixed)
        self.n[idx] += length

    def rows(self) -> list[tuple]:
        """``(-1, day, event, title, indicator, kind, mean change, n)`` per group, sorted."""
        keys = list(self.index)
        order = sorted(range(len(keys)), key=keys.__getitem__)
        return [
            (-1, *keys[i], self.sum[i] / FIXED_POINT / self.n[i], int(self.n[i])) for i in order
        ]


# --------------------------------------------------------------------------- the table


def events_table(
    shared: Iterable[SharedRow],
    incidents: IncidentRows,
    n: int,
    start: dt.date,
    monthly: MonthlySums | None = None,
) -> pd.DataFrame:
    """The events table from the rows of every chunk (in replicate order).

    Shared rows are merged per (day, event, title, indicator, kind), in order
    of first appearance: exact integer sums of the fixed-point changes and of
    the counts. Incident rows are kept per replicate (sorted by day, then
    replicate) up to ``INCIDENT_ROWS_LIMIT`` replicates; beyond it they are
    summed by month (``monthly``, merged chunk by chunk, or here from
    ``incidents``).
    """
    groups: dict[tuple, list[int]] = {}
    for r in shared:
        key = r[:5]
        if key in groups:
            groups[key][0] += r.total
            groups[key][1] += r.n
        else:
            groups[key] = [r.total, r.n]
    means = [(-1, *key, w / FIXED_POINT / cnt, cnt) for key, (w, cnt) in groups.items()]
    if monthly is None and n > INCIDENT_ROWS_LIMIT:
        monthly = MonthlySums()
        monthly.add(group_by_month(incidents, start))
    if monthly is not None and monthly.index:
        return _frame(means + monthly.rows(), start)
    # the shared rows (replicate -1, their mean change) in the same columns, first
    head = IncidentRows.from_rows([IncidentRow(*r[:7]) for r in means])
    table = IncidentRows.concat([head, incidents.by_day()])
    reached = np.concatenate(
        [np.array([r[7] for r in means], dtype=np.int64), np.ones(len(incidents), np.int64)]
    )
    return _frame_columns(table, reached, start)


def _frame(rows: list[tuple], start: dt.date) -> pd.DataFrame:
    """Rows ``(replicate, day, event, title, indicator, kind, delta, n)`` -> the table."""
    return _finish(pd.DataFrame(rows, columns=EVENT_COLUMNS), start)


def _frame_columns(table: IncidentRows, n: np.ndarray, start: dt.date) -> pd.DataFrame:
    """:func:`_frame` from columns, without a Python object per cell: each text column
    is inferred once from its distinct values."""
    if len(table) == 0:
        return _frame([], start)
    columns: dict[str, object] = {
        "replicate": table.replicate.astype(np.int64),
        "date": table.day.astype(np.int64),
    }
    for j, name in enumerate(("event", "title", "indicator", "kind")):
        values = pd.Series([lab[j] for lab in table.labels])
        columns[name] = values.take(table.label).reset_index(drop=True)
    columns["delta"] = table.value.astype(float)
    columns["replicates"] = n.astype(np.int64)
    return _finish(pd.DataFrame(columns), start)


def _finish(frame: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    frame["date"] = pd.Timestamp(start) + pd.to_timedelta(frame["date"], unit="D")
    frame["replicate"] = frame["replicate"].astype("Int64").where(frame["replicate"] >= 0)
    return frame.sort_values(
        ["date", "event", "indicator", "replicate"], kind="stable", ignore_index=True
    )
