"""``relsim events --scope``: the brief's catalog, the context events, or both."""

from __future__ import annotations

import pandas as pd

from model.cli import main


def test_events_lists_the_brief_the_context_or_both(capsys):
    from io import StringIO

    from model.catalog import load_catalog, load_context_events

    def listed(*extra: str) -> pd.DataFrame:
        assert main(["events", "--format", "csv", *extra]) == 0
        return pd.read_csv(StringIO(capsys.readouterr().out))

    brief, context, both = listed(), listed("--scope", "context"), listed("--scope", "all")
    assert list(brief["id"]) == list(load_catalog())
    assert (brief["scope"] == "brief").all()
    assert list(context["id"]) == list(load_context_events())
    assert (context["scope"] == "context").all() and len(context) > 5
    assert sorted(both["id"]) == sorted([*brief["id"], *context["id"]])
    dated = both["date"].dropna()
    assert list(dated) == sorted(dated)
