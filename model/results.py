"""Results: tidy DataFrames, summary metrics, and saving/loading with metadata.

A :class:`Result` holds labelled data only (no model objects), so analysis,
plotting and saved files depend on it and on nothing else in the package:

- ``quantiles``: ``date, indicator, mean, q05, q25, q50, q75, q95``
- ``events``: ``replicate, date, event, title, indicator, kind, delta, replicates``
  (``replicate`` empty for an event applied across the ensemble, where
  ``delta`` is the mean change and ``replicates`` how many it reached)
- ``summary``: ``indicator, metric, mean, q05, q50, q95``
- ``trajectories()``: ``replicate, date, indicator, value`` (when kept)
- ``metadata``: scenario, seed, versions, the resolved scenario's hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .outputs import atomic_output

__all__ = ["QUANTILES", "Result", "atomic_output", "quantile_frame"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_QCOLS = ["q05", "q25", "q50", "q75", "q95"]


@dataclass
class Result:
    """The outcome of one scenario run."""

    quantiles: pd.DataFrame
    events: pd.DataFrame
    summary: pd.DataFrame
    metadata: dict[str, Any]
    paths: np.ndarray | None = field(default=None, repr=False)  # (replicate, time, indicator)
    scenario_toml: str = field(default="", repr=False)
    sample: np.ndarray | None = field(
        default=None, repr=False
    )  # first replicates' paths, for spaghetti plots

    @property
    def indicators(self) -> list[str]:
        return list(self.metadata["indicators"])

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.quantiles["date"].unique())

    def all_paths(self) -> np.ndarray:
        """Every replicate's path ``(replicate, time, indicator)``; an error if none were kept."""
        if self.paths is None:
            raise ValueError("this result kept no trajectories: run with trajectories=True")
        return self.paths

    def trajectories(self) -> pd.DataFrame:
        """Every replicate's path, tidy: ``replicate, date, indicator, value``."""
        paths = self.all_paths()
        n_rep, n_t, n_k = paths.shape
        first = int(self.metadata.get("first_replicate", 0))
        return pd.DataFrame(
            {
                "replicate": np.repeat(np.arange(first, first + n_rep), n_t * n_k),
                "date": np.tile(np.repeat(self.dates.values, n_k), n_rep),
                "indicator": pd.Categorical(
                    np.tile(self.indicators, n_rep * n_t), categories=self.indicators
                ),
                "value": paths.reshape(-1),
            }
        )

    def level(self, indicator: str, date: str, stat: str = "q50") -> float:
        """The ``stat`` column of the quantile table at the record nearest ``date``."""
        q = self.quantiles[self.quantiles["indicator"] == indicator]
        i = int(np.argmin(np.abs(q["date"] - pd.Timestamp(date)).to_numpy()))
        return float(q[stat].iloc[i])

    def save(
        self, out: str | Path, trajectories: bool = False, extra: dict[str, str] | None = None
    ) -> Path:
        """Write the tables, metadata and resolved scenario into ``out``, replacing it whole.

        See :class:`~model.outputs.atomic_output` for what may be replaced.
        """
        with atomic_output(out) as tmp:
            self.write(tmp, extra)
            if trajectories:
                self.trajectories().to_parquet(tmp / "trajectories.parquet", index=False)
        return Path(out)

    def write(self, folder: Path, extra: dict[str, str] | None = None) -> None:
        """Write the tables, metadata and resolved scenario into an existing folder."""
        folder = Path(folder)
        self.quantiles.to_csv(folder / "quantiles.csv", index=False, float_format="%.4f")
        self.events.to_csv(folder / "events.csv", index=False, float_format="%.4f")
        self.summary.to_csv(folder / "summary.csv", index=False, float_format="%.4f")
        (folder / "metadata.json").write_text(
            json.dumps(self.metadata, indent=2, default=str) + "\n"
        )
        if self.scenario_toml:
            (folder / "scenario.resolved.toml").write_text(self.scenario_toml)
        for name, text in (extra or {}).items():
            (folder / name).write_text(text)

    @classmethod
    def load(cls, out: str | Path) -> Result:
        """Read a result written by :meth:`save` (trajectories are not reloaded)."""
        out = Path(out)
        meta = json.loads((out / "metadata.json").read_text())
        quantiles = pd.read_csv(out / "quantiles.csv", parse_dates=["date"])
        events = pd.read_csv(out / "events.csv", parse_dates=["date"])
        events["replicate"] = events["replicate"].astype("Int64")
        summary = pd.read_csv(out / "summary.csv")
        toml_path = out / "scenario.resolved.toml"
        toml_text = toml_path.read_text() if toml_path.exists() else ""
        return cls(quantiles, events, summary, meta, None, toml_text)


def quantile_frame(
    dates: pd.DatetimeIndex, indicators: list[str], mean: np.ndarray, q: np.ndarray
) -> pd.DataFrame:
    """Tidy quantile table from ``mean[t, k]`` and ``q[j, t, k]`` (j over QUANTILES)."""
    n_t, n_k = mean.shape
    frame = pd.DataFrame(
        {
            "date": np.repeat(dates.values, n_k),
            "indicator": np.tile(indicators, n_t),
            "mean": mean.reshape(-1),
        }
    )
    for j, col in enumerate(_QCOLS):
        frame[col] = q[j].reshape(-1)
    return frame
