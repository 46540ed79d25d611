"""The engine: exactness, reproducibility, bounds and the effect mechanics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import model
from model.engine import simulate_chunk

from .strategies import added_events


def scenario(**kw) -> model.Scenario:
    """A small scenario laid over the defaults (catalog kept unless told)."""
    data = {"name": "test", "run": {"replicates": 4, "seed": 7}}
    for key, value in kw.items():
        data.setdefault(key, {})
        if isinstance(value, dict):
            data[key].update(value)
        else:
            data[key] = value
    return model.scenario_from_dict(data)


def paths(sc: model.Scenario, n: int | None = None) -> np.ndarray:
    return model.simulate(sc, replicates=n).paths


def test_recording_more_often_changes_nothing_without_noise():
    monthly = scenario(run={"noise": False, "record": "monthly"})
    yearly = scenario(run={"noise": False, "record": "yearly"})
    a, b = model.simulate(monthly, 1), model.simulate(yearly, 1)
    common = a.quantiles.merge(b.quantiles, on=["date", "indicator"])
    assert len(common) == len(b.quantiles)
    np.testing.assert_allclose(common["mean_x"], common["mean_y"], atol=1e-9)


def test_recording_frequency_does_not_change_the_noise_distribution():
    """With noise, paths differ by sampling only: compare ensemble moments."""
    a = model.simulate(scenario(run={"record": "monthly"}), 400)
    b = model.simulate(scenario(run={"record": "yearly"}), 400)
    qa = a.quantiles[a.quantiles["date"] == "2030-01-01"].set_index("indicator")
    qb = b.quantiles[b.quantiles["date"] == "2030-01-01"].set_index("indicator")
    spread = (qa["q95"] - qa["q05"]) / 3.29
    assert ((qa["mean"] - qb["mean"]).abs() < 4 * spread / np.sqrt(200)).all()


def test_same_seed_same_result_and_other_seed_differs():
    sc = scenario()
    np.testing.assert_array_equal(paths(sc), paths(sc))
    other = sc.model_copy(update={"run": sc.run.model_copy(update={"seed": 8})})
    assert not np.array_equal(paths(sc), paths(other))


def test_a_replicate_does_not_depend_on_its_chunk():
    sc = scenario()
    whole = simulate_chunk(sc, np.arange(10), 3).recorder.values
    part = simulate_chunk(sc, np.arange(6, 10), 3).recorder.values
    np.testing.assert_array_equal(whole[:, 6:], part)


def test_a_shift_with_a_duration_is_undone_exactly():
    ev = {
        "id": "embargo-2010",
        "date": "2010-01-01",
        "title": "embargo",
        "effects": [{"indicator": "trade", "shift": -20.0, "duration": "2y"}],
    }
    quiet = {"only": ["blue-stream-agreement-1997"]}
    with_ev = model.simulate(scenario(run={"noise": False}, events={**quiet, "add": [ev]}), 1)
    without = model.simulate(scenario(run={"noise": False}, events=quiet), 1)
    log = with_ev.events[with_ev.events["event"] == "embargo-2010"]
    assert list(log["kind"]) == ["shift", "shift-end"]
    assert log["date"].dt.strftime("%Y-%m-%d").tolist() == ["2010-01-01", "2012-01-01"]
    assert log["delta"].sum() == 0
    gap = with_ev.paths[0, :, 0] - without.paths[0, :, 0]
    dates = with_ev.dates
    assert gap[dates == "2011-12-01"][0] < -10
    assert abs(gap[dates == "2020-01-01"][0]) < 1.0
    np.testing.assert_allclose(gap[dates >= "2030-01-01"], 0, atol=0.05)


def test_a_shift_only_event_is_logged():
    res = model.simulate(scenario(run={"noise": False}), 1)
    kinds = res.events.groupby("event")["kind"].apply(set)
    shift_only = [e for e, k in kinds.items() if k == {"shift"}]
    assert shift_only, "the catalog has shift-only events and each must appear in the log"


def test_condition_selects_replicates():
    ev = {
        "id": "sanctions-2030",
        "date": "2030-01-01",
        "title": "sanctions if trade is high",
        "condition": "trade > 75",
        "effects": [{"indicator": "trade", "jump": -30.0}],
    }
    res = model.simulate(scenario(events={"add": [ev]}), 60)
    row = res.events[res.events["event"] == "sanctions-2030"].iloc[0]
    assert 0 < row["replicates"] < 60
    before = res.paths[:, res.dates == "2029-12-01", 0][:, 0]
    after = res.paths[:, res.dates == "2030-01-01", 0][:, 0]
    hit = (after - before) < -15
    assert hit.sum() == row["replicates"]


def test_follow_up_fires_days_after_its_trigger():
    add = [
        {
            "id": "incident-2028",
            "date": "2028-03-01",
            "title": "incident",
            "effects": [{"indicator": "security", "jump": -5.0}],
        },
        {
            "id": "retaliation-2028",
            "after": {"event": "incident-2028", "days": 30},
            "title": "retaliation",
            "effects": [{"indicator": "trade", "jump": -5.0}],
        },
    ]
    res = model.simulate(scenario(events={"add": add}), 2)
    log = res.events.set_index("event")
    assert str(log.loc["retaliation-2028", "date"].date()) == "2028-03-31"


def test_hazards_fire_more_when_the_index_is_low():
    hz = {
        "id": "incident",
        "title": "incident",
        "rate": 1.0,
        "indicator": "security",
        "reference": 50.0,
        "elasticity": 0.08,
        "start": "2026-01-01",
        "effects": [{"indicator": "trade", "jump": -1.0}],
    }
    low = scenario(hazards=[hz], indices={"security": {"baseline": 20.0, "initial": 20.0}})
    high = scenario(hazards=[hz], indices={"security": {"baseline": 80.0, "initial": 80.0}})
    n_low = (model.simulate(low, 50).events["event"] == "incident").sum()
    n_high = (model.simulate(high, 50).events["event"] == "incident").sum()
    assert n_low > 5 * n_high > 0


def test_hazard_rate_matches_poisson_expectation():
    hz = {
        "id": "incident",
        "title": "incident",
        "rate": 2.0,
        "start": "2026-01-01",
        "effects": [{"indicator": "trade", "jump": -0.5}],
    }
    res = model.simulate(scenario(hazards=[hz]), 200)
    fired = res.events[res.events["event"] == "incident"]
    years = (np.datetime64("2035-12-31") - np.datetime64("2026-01-01")).astype(int) / 365.25
    expected = 2.0 * years * 200
    assert abs(len(fired) - expected) < 4 * np.sqrt(expected)
    assert fired["replicate"].notna().all()


@given(st.data())
def test_indices_stay_in_bounds_under_any_events(data):
    events = data.draw(added_events())
    sc = scenario(
        events={"add": events}, indices={"security": {"sigma": data.draw(st.floats(0, 1.5))}}
    )
    y = paths(sc, 3)
    assert np.isfinite(y).all()
    assert (y > 0).all() and (y < 100).all()


@given(
    st.floats(0, 60),
    st.floats(0, 60),
    st.sampled_from(["trade", "energy", "security", "west"]),
    st.sampled_from(["jump", "shift"]),
)
def test_a_larger_shock_never_helps(a, b, indicator, kind):
    small, big = sorted((a, b))
    runs = []
    for size in (small, big):
        ev = {
            "id": "shock-2020",
            "date": "2020-06-01",
            "title": "shock",
            "effects": [{"indicator": indicator, kind: -size}],
        }
        runs.append(paths(scenario(events={"add": [ev]}), 3))
    assert (runs[1] <= runs[0] + 1e-9).all()


def test_events_before_the_start_shift_the_baseline():
    sc = scenario(run={"noise": False})
    res = model.simulate(sc, 1)
    first = res.events[res.events["date"] == res.events["date"].min()]
    assert "blue-stream-agreement-1997" in set(first["event"])
    assert (first["kind"] == "shift").all()


def test_the_index_set_is_data():
    sc = scenario(
        indices={"tourism": {"initial": 40.0, "baseline": 60.0, "half_life": 1.0, "sigma": 0.1}},
        spillover={"tourism": {"security": 0.2}},
    )
    res = model.simulate(sc, 3)
    assert res.indicators[-1] == "tourism"
    assert res.level("tourism", "2035-01-01", "q50") > 45


def test_adding_an_index_leaves_the_others_paths_alone():
    plain = paths(scenario(), 5)
    more = paths(
        scenario(
            indices={"tourism": {"initial": 40.0, "baseline": 40.0, "half_life": 1.0, "sigma": 0.1}}
        ),
        5,
    )
    np.testing.assert_allclose(
        plain, more[:, :, :4], atol=1e-8
    )  # same noise; matrices differ in rounding


def test_each_incident_draws_its_own_size():
    hz = {
        "id": "incident",
        "title": "incident",
        "rate": 3.0,
        "start": "2026-01-01",
        "effects": [{"indicator": "trade", "jump": {"dist": "uniform", "low": -5.0, "high": -1.0}}],
    }
    res = model.simulate(scenario(hazards=[hz]), 3)
    inc = res.events[res.events["event"] == "incident"]
    per_rep = inc.groupby("replicate")["delta"].nunique()
    assert (per_rep > 5).all()
    assert inc["delta"].between(-5.0, -1.0).all()


def test_drop_and_move_apply_to_added_events():
    add = [
        {
            "id": "deal-2027",
            "date": "2027-01-01",
            "title": "deal",
            "effects": [{"indicator": "trade", "jump": 5.0}],
        }
    ]
    moved = scenario(events={"add": add, "move": {"deal-2027": "2029-06-01"}}).timeline()
    assert [e.date.isoformat() for e in moved if e.id == "deal-2027"] == ["2029-06-01"]
    dropped = scenario(events={"add": add, "drop": ["deal-2027"]}).timeline()
    assert "deal-2027" not in {e.id for e in dropped}


def _stress_like() -> model.Scenario:
    """Stress with its hazards from 2004, the balancing policy and the reactions."""
    import datetime as dt

    from .conftest import SCENARIOS

    sc = model.load_scenario(SCENARIOS / "stress.toml")
    hazards = tuple(hz.model_copy(update={"start": dt.date(2004, 1, 1)}) for hz in sc.hazards)
    policy = sc.policy.model_copy(update={"name": "balancing", "reactions": True})
    return sc.model_copy(update={"hazards": hazards, "policy": policy})


def _chunk(sc: model.Scenario, ids: np.ndarray, windowed: bool):
    from model.engine.hazards import Hazards

    old = Hazards.windowed
    Hazards.windowed = windowed
    try:
        return simulate_chunk(sc, ids, 3)
    finally:
        Hazards.windowed = old


def test_windowed_hazards_equal_the_day_by_day_pass_bit_for_bit():
    sc = _stress_like()
    ids = np.arange(40, 100)
    fast, slow = _chunk(sc, ids, True), _chunk(sc, ids, False)
    assert np.array_equal(fast.recorder.values, slow.recorder.values)
    incidents = sorted(fast.incidents.rows())
    assert len(incidents) > 100
    assert incidents == sorted(slow.incidents.rows())
    assert fast.shared == slow.shared
    # each replicate's incident rows come in the day-by-day order (the rows
    # of other processes, such as policy actions, come before them)
    hazards = {hz.id for hz in sc.hazards}
    for rep in (40, 77):

        def mine(out, rep=rep):
            return [r for r in out.incidents.rows() if r.replicate == rep and r.event in hazards]

        assert mine(fast) == mine(slow)


def test_windowed_incidents_whose_effects_interact_keep_their_order():
    """A hazard with two jumps of one index, and one damped by an index another
    of its effects jumps: the round applies effects one position at a time,
    and still equals the day-by-day pass bit for bit."""
    from model.engine.hazards import independent

    sc = _stress_like()
    military, trade, gas, west = sc.hazards
    gas_first = gas.effects[0].model_copy(update={"damped_by": None})
    hazards = (
        military.model_copy(update={"effects": military.effects + (military.effects[0],)}),
        trade,
        gas.model_copy(update={"effects": (gas_first,) + gas.effects}),
        west,
    )
    sc = sc.model_copy(update={"hazards": hazards})
    assert not independent(hazards[0].effects) and not independent(hazards[2].effects)
    assert all(independent(hz.effects) for hz in (military, trade, gas, west))
    ids = np.arange(20, 70)
    fast, slow = _chunk(sc, ids, True), _chunk(sc, ids, False)
    assert np.array_equal(fast.recorder.values, slow.recorder.values)
    incidents = fast.incidents.rows()
    assert sum(r.event == military.id and r.indicator == "security" for r in incidents) > 40
    assert sorted(incidents) == sorted(slow.incidents.rows())


def test_windowed_hazards_do_not_depend_on_the_chunk():
    sc = _stress_like()
    whole = _chunk(sc, np.arange(30), True).recorder.values
    for part in (np.arange(0, 7), np.arange(7, 30)):
        assert np.array_equal(_chunk(sc, part, True).recorder.values, whole[:, part])


def test_rows_advanced_to_their_own_days_match_a_common_advance():
    from model.engine.state import State as _State
    from model.rng import Streams

    from .conftest import SCENARIOS

    sc = model.load_scenario(SCENARIOS / "stress.toml")
    streams = Streams(5, np.arange(50))
    a, b = _State(sc, streams, True), _State(sc, streams, True)
    rows = np.arange(0, 50, 3)
    days = np.where(rows % 2 == 0, 20, 45)
    a.advance_each(days, rows)
    for day in (20, 45):
        b.advance(day, rows[days == day])
    assert np.array_equal(a.z, b.z)
    a.advance(80)
    b.advance(80)
    assert np.array_equal(a.z, b.z)


def test_a_small_matrix_cache_changes_nothing(monkeypatch):
    """With room for only 4 step lengths, matrices are evicted, recomputed, or
    computed for the rows alone: the paths stay the same, bit for bit."""
    from model.engine import state

    sc = _stress_like()
    ids = np.arange(25)
    full = _chunk(sc, ids, True)
    monkeypatch.setattr(state, "CACHE_BYTES", 1)
    small = _chunk(sc, ids, True)
    assert np.array_equal(full.recorder.values, small.recorder.values)
    assert full.shared == small.shared
    assert full.incidents.rows() == small.incidents.rows()


@given(st.lists(st.integers(0, 400), min_size=1, max_size=300))
def test_step_lengths_made_unique_by_counting_equal_numpy_unique(lengths):
    from model.engine.state import _unique_small

    h = np.array(lengths, dtype=np.int64)
    values, inverse = _unique_small(h)
    expected_values, expected_inverse = np.unique(h, return_inverse=True)
    assert np.array_equal(values, expected_values)
    assert np.array_equal(inverse, expected_inverse)
    assert np.array_equal(values[inverse], h)


# --------------------------------------------------------------------------- requires


def _probe_scenario(**events) -> model.Scenario:
    """Replicates start with trade anywhere in 20..80 (no noise); a conditional probe in 2027
    jumps security where trade > 50, a follow-up of it 30 days later, and events requiring each.
    """
    jump = lambda k, x: [{"indicator": k, "jump": x}]
    add = [
        {
            "id": "probe-2027",
            "date": "2027-01-01",
            "title": "probe",
            "condition": "trade > 50",
            "effects": jump("security", 10.0),
        },
        {
            "id": "echo-2027",
            "after": {"event": "probe-2027", "days": 30},
            "title": "echo",
            "condition": "trade > 55",
            "effects": jump("west", 10.0),
        },
        {
            "id": "answer-2028",
            "date": "2028-01-01",
            "title": "answer",
            "requires": ["probe-2027"],
            "effects": jump("energy", 20.0),
        },
        {
            "id": "reply-2029",
            "date": "2029-01-01",
            "title": "reply",
            "requires": ["echo-2027"],
            "effects": jump("energy", 10.0),
        },
    ]
    return scenario(
        run={"noise": False, "start": "2026-01-01", "end": "2030-12-31"},
        indices={
            "trade": {
                "initial": {"dist": "uniform", "low": 20.0, "high": 80.0},
                "baseline": 50.0,
                "half_life": 50.0,
            }
        },
        events={"add": add, **events},
    )


def _moved(res: model.Result, k: str, before: str, after: str) -> np.ndarray:
    """Per replicate: did index ``k`` change between two record dates by more than 3 points?"""
    col = res.indicators.index(k)
    dates = list(res.dates.strftime("%Y-%m-%d"))
    step = res.paths[:, dates.index(after), col] - res.paths[:, dates.index(before), col]
    return np.abs(step) > 3


def test_an_event_requiring_a_conditional_event_fires_only_where_its_cause_fired():
    res = model.simulate(_probe_scenario(), 60)
    probe = _moved(res, "security", "2026-12-01", "2027-01-01")  # records come last in a day
    echo = _moved(res, "west", "2026-12-01", "2027-03-01")
    answer = _moved(res, "energy", "2027-12-01", "2028-02-01")
    reply = _moved(res, "energy", "2028-12-01", "2029-02-01")
    assert 10 < probe.sum() < 50 and 0 < echo.sum() < probe.sum()  # both fire in some only
    np.testing.assert_array_equal(answer, probe)
    np.testing.assert_array_equal(reply, echo)  # a follow-up's consequence: where it fired
    rows = res.events.groupby("event")["replicates"].max()
    assert rows["answer-2028"] == rows["probe-2027"] == probe.sum()
    # and a replicate's path does not depend on its chunk
    sc = _probe_scenario()
    whole = simulate_chunk(sc, np.arange(30), 3).recorder.values
    part = simulate_chunk(sc, np.arange(17, 30), 3).recorder.values
    np.testing.assert_array_equal(whole[:, 17:], part)


def test_an_event_requiring_a_cause_that_never_fires_never_fires():
    res = model.simulate(_probe_scenario(scale={"probe-2027": 1.0}), 20)
    sc = _probe_scenario()
    never = sc.model_copy(
        update={
            "events": sc.events.model_copy(
                update={
                    "add": tuple(
                        e.model_copy(update={"condition": "trade > 99"})
                        if e.id == "probe-2027"
                        else e
                        for e in sc.events.add
                    )
                }
            )
        }
    )
    quiet = model.simulate(never, 20)
    assert "answer-2028" in set(res.events["event"])
    assert not {"probe-2027", "answer-2028", "echo-2027", "reply-2029"} & set(quiet.events["event"])


# --------------------------------------------------------------------------- per-effect scale


def _rows(res: model.Result, event: str) -> list[tuple[str, str, float]]:
    log = res.events[res.events["event"] == event]
    return list(zip(log["indicator"], log["kind"], log["delta"].round(9)))


def test_a_scale_by_index_scales_every_effect_on_that_index_and_only_those():
    plain = model.simulate(scenario(run={"noise": False}), 1)
    scaled = model.simulate(
        scenario(
            run={"noise": False},
            events={
                "scale": {
                    "turkstream-suspended-2015": {"energy": 2.0},
                    "su24-downing-2015": {"security": 0.5},
                }
            },
        ),
        1,
    )
    # the suspension has two effects on energy (a shift and a jump): both double
    before, after = (
        _rows(plain, "turkstream-suspended-2015"),
        _rows(scaled, "turkstream-suspended-2015"),
    )
    assert [k for _, k, _ in after] == ["shift", "jump", "shift-end"]
    # (the events table sums in fixed point, to about 1e-6)
    assert after[0][2] == pytest.approx(2 * before[0][2], abs=1e-5)
    assert after[2][2] == pytest.approx(2 * before[2][2], abs=1e-5)
    assert after[1][2] < 1.9 * before[1][2]  # a jump is realised through the soft bounds
    # the downing: security halved (shift exactly), trade, energy and west untouched
    down, halved = _rows(plain, "su24-downing-2015"), _rows(scaled, "su24-downing-2015")
    for (k, kind, d), (_, _, h) in zip(down, halved):
        if k == "security" and kind == "shift":
            assert h == pytest.approx(d / 2, abs=1e-5)
        elif k != "security":
            assert h == d


def test_a_whole_event_scale_and_a_scale_naming_every_index_agree():
    ev = {"scale": {"su24-downing-2015": 0.5}}
    each = {
        "scale": {"su24-downing-2015": {k: 0.5 for k in ("security", "trade", "energy", "west")}}
    }
    a = paths(scenario(events=ev), 3)
    b = paths(scenario(events=each), 3)
    np.testing.assert_array_equal(a, b)


def test_an_uncertain_scale_by_index_draws_per_replicate_for_that_index_only():
    dist = {"dist": "uniform", "low": 0.0, "high": 2.0}
    sc = scenario(
        run={"noise": False}, events={"scale": {"russian-sanctions-2015": {"trade": dist}}}
    )
    y = paths(sc, 20)[:, model.simulate(sc, 1).dates.year == 2016]  # [r, t, k]
    spread = y.max(axis=0) - y.min(axis=0)  # across replicates, without noise
    assert spread[:, 0].min() > 1  # trade: one factor per replicate
    # energy moves with the sanctions' unscaled jump; the trade spill-over reaches it only
    # through trade, so it barely spreads
    assert spread[:, 1].max() < 0.2 * spread[:, 0].min()
