"""Türkiye's strategies and the other actors' reactions, as rules over the state.

A policy looks at the indices on a schedule (quarterly by default) and, per
replicate, picks at most one action from a documented menu
(``model/data/policies.toml``): a leaders' summit, an energy deal, an arms
purchase from Russia, reassurance toward NATO, joining Western sanctions,
mediation. Each action is an event with effects and costs, and a cooldown.
Reactions are the other actors' rules (Western pressure when security ties
with Russia run deep, Russian pressure when Ankara aligns with the West).
The engine runs both as SimPy processes; this module only decides *what*.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from functools import lru_cache
from importlib import resources

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .catalog import Effect
from .conditions import holds

__all__ = [
    "BUILTIN",
    "DEFAULT_PARAMS",
    "Action",
    "actions",
    "decide",
    "is_python_policy",
    "policy_names",
    "python_policy",
    "reactions",
]


class Action(BaseModel):
    """A policy action or an actor's reaction: effects, cooldown, optional trigger."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str
    effects: tuple[Effect, ...] = Field(min_length=1)
    cooldown: str = "3m"
    when: str | None = None
    note: str = ""


@lru_cache(maxsize=1)
def _menu() -> dict[str, dict[str, Action]]:
    text = (resources.files("model") / "data" / "policies.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    return {
        part: {k: Action.model_validate(v) for k, v in raw[part].items()}
        for part in ("actions", "reactions")
    }


def actions() -> dict[str, Action]:
    """The menu of actions a policy can take, by name."""
    return dict(_menu()["actions"])


def reactions() -> dict[str, Action]:
    """The other actors' reaction rules, by name."""
    return dict(_menu()["reactions"])


#: Settings of the built-in policies and their defaults (index points).
DEFAULT_PARAMS: dict[str, dict[str, float]] = {
    "passive": {},
    "balancing": {"russia_floor": 50.0, "west_floor": 55.0},
    "west_first": {"west_target": 70.0, "align_above": 55.0},
    "russia_pivot": {"security_target": 70.0, "energy_target": 75.0},
    "rules": {},
}
BUILTIN = tuple(DEFAULT_PARAMS)

Decision = Callable[[dict[str, np.ndarray], dict[str, np.ndarray]], np.ndarray]


def policy_names() -> list[str]:
    """The built-in policies (a policy written in Python is named by its import path)."""
    return list(BUILTIN)


def is_python_policy(name: str) -> bool:
    """Whether ``name`` is a Python function's import path, ``"module:function"``."""
    return ":" in name


def python_policy(name: str) -> Decision:
    """The function ``(levels, params) -> actions`` that ``"module:function"`` names.

    ``levels`` maps index names to arrays (one level per replicate), ``params``
    the policy's settings (arrays too); the function returns an array of action
    names, ``""`` for no action. The module is imported by name, in every
    worker process too, so nothing has to be registered beforehand. A name
    that cannot be imported, or is not a function, is a ``ValueError`` saying
    which.
    """
    module, _, attr = name.partition(":")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise ValueError(f"cannot import module {module!r} of policy {name!r}: {exc}") from None
    except AttributeError:
        raise ValueError(f"module {module!r} has no function {attr!r}") from None
    if not callable(fn):
        raise TypeError(f"{name!r} is not a function")
    return fn


def decide(
    name: str,
    levels: dict[str, np.ndarray],
    params: dict[str, np.ndarray],
    rules: list[tuple[str, str]] | None = None,
) -> np.ndarray:
    """The action each replicate takes now (``""`` for none)."""
    n = len(next(iter(levels.values())))
    none = np.full(n, "", dtype=object)
    if name == "passive":
        return none
    if name == "rules":
        return _rules(levels, rules or [], none)
    if is_python_policy(name):
        return np.asarray(python_policy(name)(levels, params), dtype=object)
    return _BUILTIN_RULES[name](levels, params, none)


def _balancing(y, p, out):
    """Keep both relations above their floors; repair the weaker side first."""
    russia = np.minimum(y["trade"], y["security"])
    gap_r = p["russia_floor"] - russia
    gap_w = p["west_floor"] - y["west"]
    repair_russia = (gap_r > 0) & (gap_r >= gap_w)
    repair_west = (gap_w > 0) & ~repair_russia
    out[repair_russia] = "summit"
    out[repair_west] = "nato-reassurance"
    out[(gap_r <= 0) & (gap_w <= 0)] = "mediation"  # both sides fine: act as the go-between
    return out


def _west_first(y, p, out):
    """Lift Western alignment first; align against Russia when ties with it run deep."""
    out[y["west"] < p["west_target"]] = "nato-reassurance"
    out[(y["west"] >= p["west_target"]) & (y["security"] > p["align_above"])] = "join-sanctions"
    return out


def _russia_pivot(y, p, out):
    """Deepen security and energy ties with Russia whatever the Western cost."""
    out[y["energy"] < p["energy_target"]] = "energy-deal"
    out[y["security"] < p["security_target"]] = "arms-purchase"
    return out


def _rules(y, rules, out):
    """``[[policy.rules]] when = "west < 45", action = "nato-reassurance"``; first match wins."""
    free = np.ones(len(out), bool)
    for when, action in rules:
        hit = holds(y, when, free)
        out[hit] = action
        free &= ~hit
    return out


_BUILTIN_RULES = {"balancing": _balancing, "west_first": _west_first, "russia_pivot": _russia_pivot}
