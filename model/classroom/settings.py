"""The page's settings: what a teacher can set, what the server accepts, and the scenario.

:class:`Settings` is everything the page lets a user set; :func:`check` refuses
what the page's controls cannot give (the server checks whatever a browser
sends); :func:`scenario_dict` lays the settings over the shipped
``baseline.toml``, read again when it changes (:func:`run_period`).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass, replace
from functools import lru_cache

from ..catalog import consequences, load_catalog
from ..distributions import Dist
from ..errors import ArgumentError, did_you_mean
from ..policies import DEFAULT_PARAMS
from ..scenario import read_shipped, shipped_scenarios

__all__ = [
    "INCIDENTS",
    "PARAM_LABELS",
    "PARAM_RANGE",
    "POLICIES",
    "POLICY_NOTES",
    "REPLICATES",
    "Settings",
    "check",
    "run_period",
    "scenario_dict",
    "stamp",
]

#: Policies offered on the page (``rules`` needs written rules, so it is left out).
POLICIES = {
    "passive (no strategy)": "passive",
    "balancing": "balancing",
    "West first": "west_first",
    "Russia pivot": "russia_pivot",
}
POLICY_NOTES = {
    "passive": "No strategy: the status quo of the record, as in the baseline scenario.",
    "balancing": "Keep ties with Russia (the lower of trade and security) above the Russia floor "
    "and Western alignment above the West floor; repair the weaker side first.",
    "west_first": "Lift Western alignment to its target first; join sanctions when security ties "
    "with Russia run above the second setting.",
    "russia_pivot": "Deepen security and energy ties with Russia up to their targets, whatever "
    "the Western cost.",
}
PARAM_LABELS = {
    "russia_floor": "Russia floor",
    "west_floor": "West floor",
    "west_target": "West target",
    "align_above": "Join sanctions above (security)",
    "security_target": "Security target",
    "energy_target": "Energy target",
}

#: What the page accepts, checked on the server whatever the browser sends (the sliders'
#: ranges): replicates (low, high, step), the incident rate and each policy setting.
REPLICATES = (20, 1000, 20)
INCIDENTS = (0.0, 3.0)
PARAM_RANGE = (0.0, 100.0)


@dataclass(frozen=True)
class Settings:
    """Everything the page lets a user set; hashable, so runs can be cached."""

    off: tuple[str, ...] = ()  # catalog events switched off
    moves: tuple[tuple[str, dt.date], ...] = ()  # (event id, new date)
    policy: str = "passive"
    params: tuple[tuple[str, float], ...] = ()  # the policy's settings
    replicates: int = 200
    incidents: float = 0.0  # multiplier of the stress scenario's hazard rates

    def normalised(self) -> Settings:
        """Sorted, deduplicated, and without settings that do nothing (an event off that
        goes with another one off anyway, a policy setting of the passive policy)."""
        params = tuple(sorted(self.params)) if self.policy != "passive" else ()
        implied = consequences(load_catalog(), self.off)
        return replace(
            self,
            off=tuple(sorted(set(self.off) - implied)),
            moves=tuple(sorted(dict(self.moves).items())),
            params=params,
            incidents=round(float(self.incidents), 4),
        )

    def reference(self) -> Settings:
        """The record as it happened under the same replicates and incidents."""
        return Settings(replicates=self.replicates, incidents=self.incidents)

    @property
    def is_reference(self) -> bool:
        return self.normalised() == self.reference().normalised()


def stamp() -> tuple[int, ...]:
    """When the shipped baseline and stress files last changed (a page reads them again then)."""
    files = shipped_scenarios()
    return tuple(
        files[n].stat().st_mtime_ns if n in files and files[n].exists() else -1
        for n in ("baseline", "stress")
    )


def _base_files() -> tuple[dict, list[dict]]:
    """The raw shipped baseline scenario and the shipped stress scenario's hazards.

    Read again when either file changes; a file that cannot be read raises its
    :class:`~model.errors.ScenarioError` (the page shows it and keeps serving).
    """
    return _read_base(stamp())


@lru_cache(maxsize=2)
def _read_base(stamp: tuple[int, ...]) -> tuple[dict, list[dict]]:
    base = read_shipped("baseline")
    hazards = read_shipped("stress").get("hazards", [])
    return base, hazards


def run_period() -> tuple[dt.date, dt.date]:
    """The first and last day of the page's runs (the baseline's ``[run]``)."""
    run = _base_files()[0].get("run", {})
    start, end = run.get("start", dt.date(2000, 1, 1)), run.get("end", dt.date(2035, 12, 31))
    return _day(start), _day(end)


def _day(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


# --------------------------------------------------------------------------- what the page accepts


def check(settings: Settings) -> Settings:
    """``settings`` if the page may run them; else :class:`~model.errors.ArgumentError`
    naming the value and what is wrong (the server checks whatever a browser sends)."""
    catalog = load_catalog()
    low, high, _ = REPLICATES
    n = settings.replicates
    if isinstance(n, bool) or not isinstance(n, int) or not low <= n <= high:
        raise ArgumentError("replicates", f"{n!r} is outside the page's range {low}–{high}")
    _check_number("incident rate", settings.incidents, *INCIDENTS)
    for ident in settings.off:
        if ident not in catalog:
            raise ArgumentError(
                "events", f"unknown event id {ident!r}{did_you_mean(ident, catalog)}"
            )
    start, end = run_period()
    for ident, when in settings.moves:
        if ident not in catalog:
            raise ArgumentError("move", f"unknown event id {ident!r}{did_you_mean(ident, catalog)}")
        if not isinstance(when, dt.date) or not start <= _day(when) <= end:
            raise ArgumentError("move", f"{ident}: {when} is outside the run ({start} to {end})")
    if settings.policy not in POLICIES.values():
        raise ArgumentError(
            "policy",
            f"unknown policy {settings.policy!r}{did_you_mean(settings.policy, POLICIES.values())}",
        )
    known = DEFAULT_PARAMS.get(settings.policy, {})
    for key, value in settings.params:
        if settings.policy != "passive" and key not in known:
            raise ArgumentError("policy", f"{settings.policy} has no setting {key!r}")
        _check_number(PARAM_LABELS.get(key, key), value, *PARAM_RANGE)
    return settings


def _check_number(name: str, value: object, low: float, high: float) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not low <= float(value) <= high:  # type: ignore[arg-type]
        raise ArgumentError(name, f"{value!r} is outside the page's range {low:g}–{high:g}")


def _scale(value, factor: float):
    """A hazard rate times ``factor``: a number, or a distribution's location and spread."""
    if isinstance(value, dict):
        out = dict(value)
        for key in ("mean", "sd", "low", "high", "mode", "median"):
            if key in out:
                out[key] = out[key] * factor
        return out
    if isinstance(value, Dist):
        return _scale(value.model_dump(exclude_none=True), factor)
    return float(value) * factor


def scenario_dict(settings: Settings) -> dict:
    """The page's scenario as plain data: the baseline with the page's changes laid over it."""
    s = settings.normalised()
    base, hazards = _base_files()
    data = copy.deepcopy(base)
    data.pop("extends", None)
    data["name"] = "classroom"
    data["description"] = "Scenario set on the classroom page (relsim app)."
    events = dict(data.get("events", {}))
    if s.off:
        events["drop"] = sorted(set(events.get("drop", [])) | set(s.off))
    if s.moves:
        events["move"] = dict(events.get("move", {}), **{k: v for k, v in s.moves})
    if events:
        data["events"] = events
    if s.incidents > 0:
        scaled = []
        for hz in hazards:
            hz = copy.deepcopy(hz)
            hz["rate"] = _scale(hz["rate"], s.incidents)
            scaled.append(hz)
        data["hazards"] = scaled
    if s.policy != "passive":
        data["policy"] = {"name": s.policy, "reactions": True, "params": dict(s.params)}
    return data
