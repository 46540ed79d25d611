"""Loading scenarios: files, ``extends`` chains, merging, defaults, the shipped scenarios.

Loading reads the file and its ``extends`` chain, merges each child over its
parent (tables by key, ``events.add`` and ``hazards`` by ``id``), lays the
result over the packaged defaults (``model/data/defaults.toml``) and
validates it into a frozen :class:`~.schema.Scenario`, recording which file
set each value so that an error names the file that holds the bad value.
Each file is read by :func:`.files.read_toml` (regular files of bounded size
only); an ``extends`` that names no usable scenario file is an error of the
child that names it. Before anything is merged or validated, the data is
walked for the limits of :mod:`.limits` (depth, finite and bounded numbers).
The scenarios shipped with the package are found by name.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ScenarioError, did_you_mean
from .blame import as_scenario_error, scenario_error
from .checks import check_semantics
from .files import file_problem, read_toml
from .limits import MAX_EXTENDS, walk_problem
from .schema import Scenario

__all__ = [
    "SHIPPED",
    "find_scenario",
    "load_scenario",
    "read_shipped",
    "scenario_from_dict",
    "shipped_scenarios",
]

_MERGE_BY_ID = {("events", "add"), ("hazards",)}
#: The folder of the scenarios shipped with the package.
SHIPPED = resources.files("model") / "scenarios"


def shipped_scenarios() -> dict[str, Path]:
    """The shipped scenarios by name (the file's stem), in name order."""
    return {
        Path(f.name).stem: Path(str(f))
        for f in sorted(SHIPPED.iterdir(), key=lambda f: f.name)
        if f.name.endswith(".toml")
    }


def find_scenario(name_or_path: str | Path) -> Path:
    """A scenario file: the path if it is a file (or looks like one), else the shipped
    scenario of that name (so a folder of results called ``oil-50`` in the current folder
    does not hide the shipped ``oil-50``)."""
    path = Path(name_or_path)
    if path.is_file() or path.suffix == ".toml" or len(path.parts) > 1:
        return path
    shipped = shipped_scenarios()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    if path.exists():  # a folder, a device, ...: the loader says what it is
        return path
    raise ScenarioError(
        path,
        "(file)",
        "no such file, and no shipped scenario of that name"
        f"{did_you_mean(path.name, shipped)}; shipped: {', '.join(shipped)}",
    )


def read_shipped(name: str) -> dict[str, Any]:
    """The plain data of a shipped scenario file (not resolved)."""
    return read_toml(shipped_scenarios()[name])


def load_scenario(path: str | Path) -> Scenario:
    """Read, resolve and validate a scenario file (a path, or the name of a shipped scenario)."""
    path = find_scenario(path)
    files: list[str] = []
    merged, origins = _resolve(path, (), files)
    return scenario_from_dict(merged, origins, str(path), chain=files)


def scenario_from_dict(
    data: dict[str, Any],
    origins: dict[tuple, str] | None = None,
    file: str = "<scenario>",
    *,
    chain: Sequence[str] = (),
) -> Scenario:
    """Validate a scenario given as plain data (laid over the package defaults).

    ``origins`` says which file set each value, and ``chain`` lists the files
    from the first parent to the child: a rule across fields blames the most
    derived file that set one of them.
    """
    origins = dict(origins or {})
    if found := walk_problem(data):
        raise scenario_error(found[0], found[1], data, origins, file)
    merged = _merge(_defaults(), data, None, file)
    try:
        scenario = Scenario.model_validate(merged)
    except ValidationError as exc:
        raise as_scenario_error(exc, merged, origins, file, chain) from None
    check_semantics(scenario, merged, origins, file, chain)
    return scenario


def _resolve(
    path: Path, chain: tuple[Path, ...], files: list[str]
) -> tuple[dict[str, Any], dict[tuple, str]]:
    """Load ``path`` and its ``extends`` chain into one dict plus leaf origins; ``files``
    receives the files read, from the first parent to ``path``."""
    data = read_toml(path)
    here = path.resolve()
    if here in chain:
        loop = " -> ".join(p.name for p in chain + (here,))
        raise ScenarioError(os.path.relpath(chain[-1]), "extends", f"cycle in 'extends': {loop}")
    parent = data.get("extends")
    if parent is None:
        origins: dict[tuple, str] = {}
        files.append(str(path))
        return _merge({}, data, origins, str(path)), origins
    if len(chain) + 1 >= MAX_EXTENDS:
        problem = f"a chain of more than {MAX_EXTENDS} files extending each other"
        raise ScenarioError(path, "extends", problem)
    merged, origins = _resolve(_parent_file(path, parent), chain + (here,), files)
    merged.pop("description", None)
    merged.get("events", {}).pop("dropped", None)  # what the parent's drops took: recomputed
    files.append(str(path))
    return _merge(merged, data, origins, str(path)), origins


def _parent_file(child: Path, parent: object) -> Path:
    """The file ``child`` extends: a regular ``.toml`` file, or an error naming ``child``."""
    if not isinstance(parent, str):
        raise ScenarioError(child, "extends", f"must be a file name (got {parent!r})")
    if not parent.strip() or "\0" in parent:
        raise ScenarioError(
            child,
            "extends",
            f"{parent!r} names no file: give a scenario file, e.g. 'baseline.toml'",
        )
    path = child.parent / parent
    problem = file_problem(path)
    if problem == "no such file":
        raise ScenarioError(
            child, "extends", f"parent scenario {parent!r} not found next to the file"
        )
    if problem:
        raise ScenarioError(child, "extends", f"{parent!r} {problem}")
    if path.suffix != ".toml":
        raise ScenarioError(
            child, "extends", f"{parent!r} is not a .toml file: extends names a scenario file"
        )
    return path


def _merge(base: Any, over: Any, origins: dict | None, file: str, path: tuple = ()) -> Any:
    """Deep-merge ``over`` onto ``base``; record in ``origins`` which file set each leaf."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            sub = path + (key,)
            if key in out:
                out[key] = _merge(out[key], value, origins, file, sub)
            else:
                out[key] = copy.deepcopy(value)
                _mark(origins, sub, value, file)
        return out
    if path in _MERGE_BY_ID and isinstance(base, list) and isinstance(over, list):
        return _merge_by_id(base, over, origins, file, path)
    _mark(origins, path, over, file)
    return copy.deepcopy(over)


def _merge_by_id(base: list, over: list, origins: dict | None, file: str, path: tuple) -> list:
    out = list(base)
    where = {_id(item): i for i, item in enumerate(out) if _id(item) is not None}
    for item in over:
        key = _id(item)
        if key is not None and key in where:
            i = where[key]
            out[i] = _merge(out[i], item, origins, file, path + (i,))
        else:
            out.append(copy.deepcopy(item))
            _mark(origins, path + (len(out) - 1,), item, file)
    return out


def _id(item: Any) -> str | None:
    """An item's ``id`` if it is a string (any other id is left to the schema to refuse)."""
    ident = item.get("id") if isinstance(item, dict) else None
    return ident if isinstance(ident, str) else None


def _mark(origins: dict | None, path: tuple, value: Any, file: str) -> None:
    if origins is None:
        return
    origins[path] = file
    if isinstance(value, dict):
        for key, sub in value.items():
            _mark(origins, path + (key,), sub, file)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            _mark(origins, path + (i,), sub, file)


def _defaults() -> dict[str, Any]:
    text = (resources.files("model") / "data" / "defaults.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)
