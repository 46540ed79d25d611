"""``relsim scenarios``, ``validate``, ``show`` and ``events``: scenarios and the catalog,
without running."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import ScenarioError

__all__ = ["add"]


def add(sub: Any) -> None:
    lib = sub.add_parser(
        "scenarios", help="list the shipped scenarios: their questions and what each changes"
    )
    lib.add_argument("files", type=Path, nargs="*", metavar="SCENARIO", help="these files instead")
    lib.add_argument("--format", choices=("table", "csv"), default="table")
    lib.set_defaults(func=_scenarios)

    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("scenarios", type=Path, nargs="+")
    val.set_defaults(func=_validate)

    show = sub.add_parser("show", help="print the fully resolved scenario as TOML")
    show.add_argument("scenario", type=Path)
    show.set_defaults(func=_show)

    ev = sub.add_parser("events", help="list the historical catalog")
    ev.add_argument("--format", choices=("table", "csv"), default="table")
    ev.add_argument(
        "--clusters",
        action="store_true",
        help="list the causal clusters (events joined by 'requires'), root causes first",
    )
    ev.add_argument(
        "--scope",
        choices=("brief", "context", "all"),
        default="brief",
        help="the brief's events (the catalog runs use by default; default), the sourced "
        "context events from outside the brief (docs/CONTEXT_EVENTS.md; a scenario selects "
        "them with events.scopes), or both",
    )
    ev.set_defaults(func=_events)


def _scenarios(args: argparse.Namespace) -> int:
    import csv
    import textwrap

    from ..scenario.overview import overview

    found = overview(args.files or None)
    if args.format == "csv":
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["name", "kind", "question", "extends", "changes", "path"])
        for o in found:
            out.writerow([o.name, o.kind, o.question, o.extends, "; ".join(o.changes), o.path])
        return 0
    where = "files" if args.files else "shipped scenarios (relsim run NAME runs one)"
    print(f"{len(found)} {where}\n")
    for o in found:
        about = [o.kind] if o.kind else []
        about += [f"extends {o.extends}"] if o.extends else []
        print(o.name + (f" ({', '.join(about)})" if about else ""))
        lines = [o.question] + [f"- {c}" for c in o.changes]
        for line in lines:
            print(
                textwrap.fill(
                    line, 100, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False
                )
            )
    return 0


def _validate(args: argparse.Namespace) -> int:
    from ..scenario import load_scenario

    status = 0
    for path in args.scenarios:
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        print(
            f"ok: {path}: {sc.name}, {len(sc.timeline())} events, {len(sc.hazards)} hazards, "
            f"{sc.run.replicates} replicates, {sc.run.start}..{sc.run.end}"
        )
        for line in sc.resolution().lines():
            print(f"  {line}")
    return status


def _show(args: argparse.Namespace) -> int:
    from ..scenario import load_scenario

    sc = load_scenario(args.scenario)
    for line in sc.resolution().lines():  # comments, so the output stays a scenario file
        print(f"# {line}")
    sys.stdout.write(sc.to_toml())
    return 0


def _events(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..catalog import load_catalog, load_context_events
    from ..distributions import centre

    if args.clusters:
        return _clusters(args.format)
    events = [*load_catalog().values()] if args.scope in ("brief", "all") else []
    events += [*load_context_events().values()] if args.scope in ("context", "all") else []
    rows = []
    if args.scope == "all":  # the two lists, each in date order, merged by date
        events.sort(key=lambda e: (e.date is None, str(e.date)))
    for e in events:
        effects = "; ".join(
            f"{x.indicator} {x.kind} {centre(x.size):+g}"
            + (f" for {x.duration}" if x.duration else "")
            for x in e.effects
        )
        rows.append(
            {
                "id": e.id,
                "date": e.date.isoformat() if e.date else "",
                "precision": e.precision,
                "title": e.title,
                "category": e.category,
                "scope": e.scope,
                "confidence": e.confidence,
                "brief_date": e.brief_date.isoformat() if e.brief_date else "",
                "effects": effects,
                "source": f"brief: {e.brief}; {e.reference}",
            }
        )
    table = pd.DataFrame(rows)
    if args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        with pd.option_context(
            "display.max_rows", None, "display.width", 200, "display.max_colwidth", 60
        ):
            columns = ["id", "date", "category"] + (["scope"] if args.scope == "all" else [])
            print(table[columns + ["title"]].to_string(index=False))
    return 0


def _clusters(form: str) -> int:
    """The catalog's causal clusters: a block per cluster, or one CSV row per member."""
    import pandas as pd

    from ..catalog import load_catalog
    from ..scenario import catalog_factors

    catalog = load_catalog()
    rows = [
        {
            "cluster": f.id,
            "title": f.title,
            "event": i,
            "role": "root" if i in f.roots else "consequence",
            "date": str(catalog[i].date or ""),
            "requires": " ".join(catalog[i].requires),
            "event_title": catalog[i].title,
        }
        for f in catalog_factors()
        for i in f.members
    ]
    if form == "csv":
        pd.DataFrame(rows).to_csv(sys.stdout, index=False)
        return 0
    for f in catalog_factors():
        print(f"{f.id} ({len(f.members)} events): {f.title}")
        for i in f.members:
            e = catalog[i]
            needs = f" <- {', '.join(e.requires)}" if e.requires else "  (root)"
            print(f"  {e.date}  {i}{needs}")
        print()
    return 0
