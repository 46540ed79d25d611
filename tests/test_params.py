"""Parameters: one dotted-path language to name, read, bound, range and set them."""

from __future__ import annotations

import numpy as np
import pytest

import model
from model.explore import DEFAULT_PARAMS
from model.params import apply, parse_grid, parse_range, resolve, resolve_all, value

from .conftest import SCENARIOS

SANCTIONS = "events.scale.russian-sanctions-2015"


def test_parameters_are_dotted_paths_into_the_scenario(baseline):
    sc = apply(
        baseline,
        {
            "indices.trade.half_life": 2.5,
            "spillover.trade.security": 0.1,
            "damping": 0.3,
            SANCTIONS: 0.5,
            "dummy": 123.0,
        },
    )
    assert sc.indices["trade"].half_life == 2.5
    assert sc.spillover["trade"]["security"] == 0.1
    assert sc.damping == 0.3
    assert sc.events.scale["russian-sanctions-2015"] == 0.5
    assert apply(baseline, {"dummy": 1.0}) is baseline
    assert apply(baseline, {}) == baseline


def test_list_items_by_id_and_numbers_inside_distributions():
    stress = model.load_scenario(SCENARIOS / "stress.toml")
    sc = apply(stress, {"hazards.trade-dispute.rate": 2.0, "indices.trade.half_life.median": 3.0})
    assert next(h for h in sc.hazards if h.id == "trade-dispute").rate == 2.0
    assert sc.indices["trade"].half_life.center() == 3.0
    assert value(stress, "indices.trade.half_life") == stress.indices["trade"].half_life.center()
    assert value(stress, "events.scale.s400-delivery-2019") == 1.0  # not set: the catalog size


@pytest.mark.parametrize(
    "params, field, words",
    [
        ({"damping": 1.5}, "damping", "between 0 and 1"),
        (
            {"events.scale.russian-sanctions-2016": 1.0},
            "events.scale.russian-sanctions-2016",
            "did you mean 'russian-sanctions-2015'",
        ),
        ({"spillover.trade.securty": 0.1}, "spillover.trade.securty", "unknown index"),
    ],
)
def test_bad_values_are_scenario_errors(baseline, params, field, words):
    """A value the scenario cannot take is reported against the field it lands in."""
    with pytest.raises(model.ScenarioError) as err:
        apply(baseline, params)
    assert err.value.field == field and words in err.value.problem


def test_a_name_that_names_nothing_is_an_argument_error(baseline):
    with pytest.raises(model.ArgumentError) as err:
        apply(baseline, {"indices.trad.half_life": 1.0}, argument="grid")
    assert err.value.argument == "grid"
    assert (
        "indices.trad.half_life: unknown index 'trad' (did you mean 'trade'?)" == err.value.problem
    )


def test_calibrated_names_are_checked_and_bounded(baseline):
    p = resolve("trade.half_life", baseline, calibrated=True)
    assert (p.name, p.lower, p.upper, p.log) == ("indices.trade.half_life", 0.1, 30.0, True)
    assert resolve("scale.s400-delivery-2019", baseline, calibrated=True).path == (
        "events",
        "scale",
        "s400-delivery-2019",
    )
    with pytest.raises(model.ArgumentError, match="did you mean 'indices.trade.half_life'"):
        resolve("indices.trade.halflife", baseline, "fit", calibrated=True)
    with pytest.raises(model.ArgumentError, match="given twice"):
        resolve_all("damping,damping", baseline)


def test_one_centre_for_a_distribution_everywhere():
    """A triangular distribution's value is its mean, for calibration and exploration alike."""
    sc = model.scenario_from_dict(
        {"name": "t", "damping": {"dist": "triangular", "low": 0.2, "mode": 0.3, "high": 0.7}}
    )
    assert value(sc, "damping") == pytest.approx(0.4)
    assert resolve("damping", sc, calibrated=True).value(sc) == pytest.approx(0.4)
    assert value(sc, "spillover.energy.west") == 0.0 and value(sc, "dummy") is None


def test_parse_range_and_grid(baseline):
    sc = model.scenario_from_dict({"name": "plain", "damping": 0.6})
    assert parse_range("damping=0.2:0.8") == ("damping", (0.2, 0.8))
    assert parse_range("damping", sc) == ("damping", (0.3, 0.9))
    assert parse_range("damping*=0.5:1", sc) == ("damping", (0.3, 0.6))
    assert parse_range(SANCTIONS, sc) == (SANCTIONS, (0.5, 1.5))
    assert parse_range("dummy") == ("dummy", (0.0, 1.0))
    for spec in DEFAULT_PARAMS:  # every default range is valid at both ends on the shipped baseline
        name, (low, high) = parse_range(spec, baseline)
        apply(baseline, {name: low})
        apply(baseline, {name: high})
    name, values = parse_grid("damping=0:1:5")
    assert name == "damping" and np.allclose(values, [0, 0.25, 0.5, 0.75, 1])
    for bad in ("damping=0.9:0.1", "damping=a:b", "spillover.trade.energy"):
        with pytest.raises(model.ArgumentError):
            parse_range(
                bad,
                model.scenario_from_dict({"name": "x", "spillover": {"trade": {"energy": 0.0}}}),
            )
    with pytest.raises(model.ArgumentError):
        parse_grid("damping=0:1")


# --------------------------------------------------------------------------- clusters and effects


def test_a_cluster_is_one_factor_that_multiplies_its_events_scales(baseline):
    param = resolve("cluster.aviation-crisis", baseline)
    assert param.name == "clusters.aviation-crisis" and param.path == (
        "clusters",
        "aviation-crisis",
    )
    assert value(baseline, "clusters.aviation-crisis") == 1.0
    assert parse_range("clusters.s400-affair", baseline) == ("clusters.s400-affair", (0.5, 1.5))
    sc = apply(baseline, {"clusters.aviation-crisis": 0.5})
    scale = sc.events.scale
    assert scale["su24-downing-2015"] == 0.5 and scale["sanctions-tomatoes-lifted-2017"] == 0.5
    assert scale["russian-sanctions-2015"] == pytest.approx(0.5 * 1.135)  # the calibrated 1.135
    assert len([k for k in scale if k in {i for f in baseline.factors() for i in f.members}]) >= 13
    assert "ukraine-war-trade-2022" in scale and scale["ukraine-war-trade-2022"] == 2.044


def test_a_cluster_at_zero_is_the_whole_chain_with_no_effect(baseline):
    sc = apply(baseline, {"clusters.s400-affair": 0.0})
    members = next(f.members for f in baseline.factors() if f.id == "s400-affair")
    assert {sc.events.scale[i] for i in members} == {0.0}
    assert {e.id for e in sc.timeline()} == {e.id for e in baseline.timeline()}  # no cascade


def test_an_unknown_cluster_is_named_with_the_known_ones(baseline):
    with pytest.raises(model.ArgumentError, match=r"unknown cluster 'aviation'.*aviation-crisis"):
        resolve("clusters.aviation", baseline)
    with pytest.raises(model.ArgumentError, match="unknown parameter"):
        resolve("clusters.aviation-crisis", baseline, calibrated=True)


def test_a_cluster_refuses_an_uncertain_scale_among_its_events(baseline):
    uncertain = apply(baseline, {"events.scale.su24-downing-2015": 1.0})
    data = uncertain.to_dict()
    data["events"]["scale"]["su24-downing-2015"] = {"dist": "uniform", "low": 0.5, "high": 1.5}
    sc = model.scenario_from_dict(data)
    with pytest.raises(model.ArgumentError, match="uncertain scale"):
        apply(sc, {"clusters.aviation-crisis": 2.0})


def test_one_effect_of_an_event_by_its_index(baseline):
    name = "events.scale.su24-downing-2015.security"
    assert resolve(name, baseline).path == ("events", "scale", "su24-downing-2015", "security")
    assert value(baseline, name) == 1.0
    assert value(baseline, "scale.russian-sanctions-2015.trade") == 1.135  # the whole-event one
    sc = apply(baseline, {name: 0.5})
    assert sc.events.scale["su24-downing-2015"] == {"security": 0.5}
    assert value(sc, name) == 0.5 and value(sc, "events.scale.su24-downing-2015.trade") == 1.0
    # a whole-event factor becomes a table: the other indices keep it
    sc = apply(baseline, {"scale.russian-sanctions-2015.energy": 0.0})
    assert sc.events.scale["russian-sanctions-2015"] == {"trade": 1.135, "energy": 0.0}
    with pytest.raises(model.ArgumentError, match="has no effect on 'west'"):
        resolve("events.scale.russian-sanctions-2015.west", baseline)


def test_a_sweep_varies_a_cluster_as_one_factor(baseline):
    from model.explore import Outcomes, sweep

    sw = sweep(
        baseline,
        {"clusters.aviation-crisis": [0.0, 1.0]},
        replicates=2,
        seed=3,
        outcomes=["trade_2016"],
        spec=Outcomes(at_year=2016),
    )
    low, high = sw.table.sort_values("clusters.aviation-crisis")["trade_2016"]
    assert high < low - 10  # the crisis at full strength costs trade in 2016
