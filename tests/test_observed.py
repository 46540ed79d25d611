"""Tests for the shipped observed data and its loader."""

from __future__ import annotations

import csv
import importlib.resources
import math
import re
from collections import Counter

import pandas as pd
import pytest

from model.calibrate import observed
from model.calibrate.observed import load_leader_meetings, load_observed, series_catalog

EXPECTED_COLUMNS = [
    "date",
    "year",
    "period",
    "series",
    "indicator",
    "basis",
    "value",
    "unit",
    "frequency",
    "sign",
    "source",
    "source_ref",
    "note",
]

DATA_FILES = ("observed_annual.csv", "observed_periodic.csv", "proxies_annual.csv")


def _raw_rows(name: str) -> list[dict[str, str]]:
    path = importlib.resources.files("model") / "data" / "observed" / name
    with path.open("r", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _value(frame: pd.DataFrame, series: str, year: int) -> float:
    rows = frame[(frame["series"] == series) & (frame["year"] == year)]
    assert len(rows) == 1, f"{series} {year}: {len(rows)} rows"
    return float(rows["value"].iloc[0])


@pytest.fixture(scope="module")
def obs() -> pd.DataFrame:
    return load_observed()


# --- shape and types ---------------------------------------------------------


def test_columns_and_dtypes(obs):
    assert list(obs.columns) == EXPECTED_COLUMNS
    assert pd.api.types.is_datetime64_any_dtype(obs["date"])
    assert pd.api.types.is_integer_dtype(obs["year"])
    assert pd.api.types.is_float_dtype(obs["value"])
    assert pd.api.types.is_integer_dtype(obs["sign"])
    assert obs["value"].notna().all()


def test_row_counts_match_non_blank_values_in_files(obs):
    for kind, name in zip(("annual", "periodic", "proxies"), DATA_FILES):
        expected = sum(1 for r in _raw_rows(name) if r["value"].strip() != "")
        assert len(load_observed(kind)) == expected, kind
    assert len(obs) == sum(len(load_observed(k)) for k in ("annual", "periodic", "proxies"))


def test_values_equal_file_values():
    raw = _raw_rows("observed_annual.csv")
    stated = {
        (r["series"], int(r["year"]), float(r["value"]))
        for r in raw
        if r["value"].strip() and "__" in r["series"]
    }
    frame = load_observed("annual")
    loaded = {(s, y, v) for s, y, v in zip(frame["series"], frame["year"], frame["value"])}
    assert stated <= loaded


def test_blank_values_are_dropped(obs):
    # TurkStat annual exports: all rows are gaps in the file.
    assert not (obs["series"] == "tr_exports_to_ru_usd_bn__turkstat").any()
    # gas_ru_to_tr_note carries no value.
    assert not obs["series"].str.startswith("gas_ru_to_tr_note").any()


def test_kinds_and_frequency():
    assert set(load_observed("annual")["frequency"]) == {"annual"}
    assert set(load_observed("proxies")["frequency"]) == {"annual"}
    assert set(load_observed("periodic")["frequency"]) == {"periodic"}
    assert load_observed("proxies")["series"].str.match(r"^(RU|WEST|CTX)_").all()
    assert not load_observed("annual")["series"].str.match(r"^(RU|WEST|CTX)_").any()


def test_unknown_kind_raises():
    with pytest.raises(ValueError, match="annual") as info:
        load_observed("monthly")
    for kind in ("all", "annual", "periodic", "proxies"):
        assert repr(kind) in str(info.value)


def test_returns_copies():
    first = load_observed("annual")
    first.loc[:, "value"] = -1.0
    assert (load_observed("annual")["value"] != -1.0).all()


# --- sources -----------------------------------------------------------------


def test_every_row_has_a_source(obs):
    assert (obs["source"].str.strip() != "").all()
    assert (obs["source_ref"].str.strip() != "").all()


def test_every_leader_meeting_has_a_source():
    meetings = load_leader_meetings()
    assert (meetings["source"].str.strip() != "").all()


# --- values ------------------------------------------------------------------


def test_trade_collapse_after_2014(obs):
    # TurkStat-basis total trade: 2015 below 2014 (ruble crisis, Su-24 sanctions).
    ts_2014 = _value(obs, "trade_total_usd_bn__turkstat", 2014)
    ts_2015 = _value(obs, "trade_total_usd_bn__turkstat", 2015)
    assert ts_2014 == pytest.approx(31.2)
    assert ts_2015 == pytest.approx(23.9)
    assert ts_2015 < ts_2014
    # Russian customs basis: 2016 below 2015.
    fcs_2015 = _value(obs, "trade_total_usd_bn__ru_fcs", 2015)
    fcs_2016 = _value(obs, "trade_total_usd_bn__ru_fcs", 2016)
    assert fcs_2016 < fcs_2015
    # No TurkStat annual total is stated for 2016 (a gap, not a zero).
    assert not ((obs["series"] == "trade_total_usd_bn__turkstat") & (obs["year"] == 2016)).any()


def test_gas_2019_drop(obs):
    assert _value(obs, "gas_ru_to_tr_bcm", 2019) < _value(obs, "gas_ru_to_tr_bcm", 2018)


# --- bases -------------------------------------------------------------------


def test_each_series_has_one_basis_indicator_and_sign(obs):
    per_series = obs.groupby("series")[["basis", "indicator", "sign"]].nunique()
    assert (per_series == 1).all().all(), per_series[(per_series != 1).any(axis=1)]


def test_suffix_is_the_basis(obs):
    suffixed = obs[obs["series"].str.contains("__", regex=False)]
    assert (suffixed["series"].str.split("__").str[1] == suffixed["basis"]).all()


def test_known_bases_present(obs):
    bases = set(obs["basis"])
    for basis in (
        "turkstat",
        "tim",
        "ru_fcs",
        "official_statement",
        "gazprom",
        "epdk",
        "blue_stream",
        "pew",
        "gmf",
        "khas",
        "sipri",
        "hlcc",
    ):
        assert basis in bases, basis


def test_periodic_trade_bases_are_split():
    per = load_observed("periodic")
    exports = per[per["series"].str.startswith("tr_exports_to_ru_usd_mn")]
    assert set(exports["series"]) == {
        "tr_exports_to_ru_usd_mn__tim",
        "tr_exports_to_ru_usd_mn__turkstat",
    }
    # Aug 2022 is a TurkStat figure; Jan 2024 a TİM figure (notes quote the other basis too).
    aug22 = exports[exports["period"] == "2022-08"]
    assert list(aug22["basis"]) == ["turkstat"] and aug22["value"].iloc[0] == 949.0
    jan24 = exports[exports["period"] == "2024-01"]
    assert list(jan24["basis"]) == ["tim"] and jan24["value"].iloc[0] == 551.0
    # H1 2016 total: Russian customs 7.3 bn and a Turkish statement 8.0 bn are separate series.
    h1 = per[per["period"] == "2016-01..2016-06"]
    totals = h1[h1["series"].str.startswith("trade_total_usd_mn")]
    assert dict(zip(totals["basis"], totals["value"])) == {
        "ru_fcs": 7300.0,
        "official_statement": 8000.0,
    }


def test_gas_bases_are_split(obs):
    gas = obs[obs["indicator"] == "energy"]
    # H1 2020: Gazprom and EPDK figures differ and stay apart.
    h1 = gas[gas["period"] == "2020-01..2020-06"]
    assert dict(zip(h1["basis"], h1["value"])) == {"gazprom": 4.733, "epdk": 4.678066}
    # 2024 annual figure is on the EPDK basis, not Gazprom.
    row = gas[(gas["frequency"] == "annual") & (gas["year"] == 2024)]
    assert list(row["series"]) == ["gas_ru_to_tr_bcm_epdk"]
    assert set(gas.loc[gas["series"] == "gas_ru_to_tr_bcm", "basis"]) == {"gazprom"}
    assert set(gas.loc[gas["series"] == "gas_blue_stream_bcm", "basis"]) == {"blue_stream"}


def test_indicator_mapping(obs):
    assert set(obs["indicator"]) <= set(observed.INDICATORS)
    ind = dict(zip(obs["series"], obs["indicator"]))
    assert ind["trade_total_usd_bn__turkstat"] == "trade"
    assert ind["tr_contractors_in_ru_cumulative_usd_bn"] == "trade"
    assert ind["ru_exports_to_tr_usd_bn__ru_fcs"] == "trade"
    assert ind["gas_ru_to_tr_bcm"] == "energy"
    assert ind["RU_hlcc_meeting_held"] == "security"
    assert ind["WEST_pew_us_favorable_pct"] == "west"
    assert ind["CTX_sipri_tiv_imports_total"] == "context"
    assert ind["trade_total_usd_bn__projection_not_outturn"] == "context"
    assert (obs.loc[obs["series"].str.startswith("RU_"), "indicator"] == "security").all()
    assert (obs.loc[obs["series"].str.startswith("WEST_"), "indicator"] == "west").all()


def test_proxy_families(obs):
    proxies = load_observed("proxies")
    assert (proxies["basis"] != "").all()
    fam = dict(zip(proxies["series"], proxies["basis"]))
    assert fam["WEST_pew_us_favorable_pct"] == "pew"
    assert fam["WEST_gmf_nato_essential_pct"] == "gmf"
    assert fam["RU_khas_fp_russia_seen_as_threat_pct"] == "khas"
    assert fam["WEST_khas_tssea_support_nato_pct"] == "khas"
    assert fam["RU_sipri_tiv_imports_from_russia"] == "sipri"
    assert fam["RU_hlcc_meeting_held"] == "hlcc"


# --- sign --------------------------------------------------------------------


def test_sign(obs):
    sign = dict(zip(obs["series"], obs["sign"]))
    assert sign["WEST_khas_fp_us_seen_as_threat_pct"] == -1
    assert sign["RU_pew_russia_power_influence_major_threat_pct"] == -1
    assert sign["WEST_pew_us_seen_as_enemy_pct"] == -1
    assert sign["WEST_pew_oppose_us_led_war_on_terror_pct"] == -1
    assert sign["WEST_pew_us_unfavorable_pct"] == -1
    assert sign["RU_gallup_bbg_russia_very_unfavorable_pct"] == -1
    assert sign["WEST_konda_not_favor_improved_us_relations_pct"] == -1
    assert sign["WEST_bbc_globescan_us_influence_negative_pct"] == -1
    assert sign["WEST_pew_us_favorable_pct"] == 1
    assert sign["RU_pew_russia_favorable_pct"] == 1
    assert sign["WEST_bbc_globescan_us_influence_positive_pct"] == 1
    assert sign["trade_total_usd_bn__turkstat"] == 1
    assert set(obs["sign"]) == {-1, 1}


# --- dates -------------------------------------------------------------------


def test_dates_fall_in_their_year(obs):
    assert (obs["date"].dt.year == obs["year"]).all()


def test_annual_dates_are_mid_year(obs):
    annual = obs[obs["frequency"] == "annual"]
    assert (annual["date"].dt.month == 7).all() and (annual["date"].dt.day == 1).all()
    assert (annual["period"] == annual["year"].astype(str)).all()


def test_periodic_dates_are_span_midpoints():
    per = load_observed("periodic")
    by_period = dict(zip(per["period"], per["date"]))
    assert by_period["2013-01"] == pd.Timestamp("2013-01-16")
    assert by_period["2016-01..2016-06"] == pd.Timestamp("2016-03-31")
    assert by_period["2017-01..2017-11-13"] == pd.Timestamp("2017-06-08")
    assert per["period"].str.match(r"^\d{4}-\d{2}(\.\.\d{4}-\d{2}(-\d{2})?)?$").all()
    start = pd.to_datetime(per["period"].str.slice(0, 7) + "-01")
    assert (per["date"] >= start).all()


# --- leader meetings ---------------------------------------------------------


def test_leader_meetings_parse():
    meetings = load_leader_meetings()
    assert len(meetings) == len(_raw_rows("leader_meetings.csv"))
    for col in ("date", "year", "event", "place", "format", "note", "source"):
        assert col in meetings.columns
    assert pd.api.types.is_datetime64_any_dtype(meetings["date"])
    assert meetings["date"].notna().all()
    assert (meetings["date"].dt.year == meetings["year"]).all()
    by_text = dict(zip(meetings["date_text"], meetings["date"]))
    assert by_text["2004-12-05/06"] == pd.Timestamp("2004-12-05")
    assert by_text["2015 (Sep/Oct)"] == pd.Timestamp("2015-09-01")
    assert by_text["2018-07 (BRICS)"] == pd.Timestamp("2018-07-01")
    assert by_text["2024-10-23"] == pd.Timestamp("2024-10-23")
    assert meetings["date"].is_monotonic_increasing
    assert meetings["year"].between(2004, 2024).all()


def test_hlcc_sessions_match_proxy(obs):
    meetings = load_leader_meetings()
    held_years = set(meetings.loc[meetings["format"] == "HLCC", "year"])
    proxy = obs[obs["series"] == "RU_hlcc_meeting_held"]
    assert held_years == set(proxy.loc[proxy["value"] == 1, "year"])


# --- catalog -----------------------------------------------------------------


def test_series_catalog_matches_rows(obs):
    catalog = series_catalog()
    assert list(catalog.columns) == list(observed.CATALOG_COLUMNS)
    assert not catalog.duplicated(["series", "frequency"]).any()
    assert catalog["n"].sum() == len(obs)
    counts = obs.groupby(["series", "frequency"]).size()
    for row in catalog.itertuples(index=False):
        sub = obs[(obs["series"] == row.series) & (obs["frequency"] == row.frequency)]
        assert row.n == counts[(row.series, row.frequency)] == len(sub)
        assert row.first_year == sub["year"].min()
        assert row.last_year == sub["year"].max()
        assert {row.basis} == set(sub["basis"])
        assert {row.indicator} == set(sub["indicator"])
        assert {row.sign} == set(sub["sign"])


# --- packaged copies the loader does not read yet ----------------------------

PACKAGED_ONLY = ("drivers_annual.csv", "observed_additions.csv", "unga_annual.csv")
ANNUAL_COLUMNS = ["year", "series", "value", "unit", "source_title", "source_url_or_ref", "note"]
# where two sources state a value for the same year and series, each keeps its own row
TWO_SOURCES = {"observed_additions.csv": {(2012, "gazprom_avg_export_price_usd_tcm")}}


@pytest.mark.parametrize("name", PACKAGED_ONLY)
def test_packaged_only_files_are_well_formed(name):
    path = importlib.resources.files("model") / "data" / "observed" / name
    with path.open("r", encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    assert header == ANNUAL_COLUMNS
    assert rows and all(len(r) == len(header) for r in rows)
    records = _raw_rows(name)
    for r in records:
        where = f"{name} {r['year']} {r['series']}"
        assert 2000 <= int(r["year"]) <= 2024, where
        assert r["series"].strip() and r["unit"].strip(), where
        assert r["source_title"].strip() and r["source_url_or_ref"].strip(), where
        if r["value"].strip():
            assert math.isfinite(float(r["value"])), where
    keys = Counter((int(r["year"]), r["series"]) for r in records)
    assert {k for k, n in keys.items() if n > 1} == TWO_SOURCES.get(name, set())
    sourced = Counter((int(r["year"]), r["series"], r["source_url_or_ref"]) for r in records)
    assert max(sourced.values()) == 1


def test_drivers_are_complete_2000_to_2024():
    rows = _raw_rows("drivers_annual.csv")
    for series in ("brent_usd_bbl", "us_cpi_u_annual_avg"):
        values = {int(r["year"]): float(r["value"]) for r in rows if r["series"] == series}
        assert sorted(values) == list(range(2000, 2025)), series
        assert all(v > 0 for v in values.values()), series
    assert {r["series"] for r in rows} == {"brent_usd_bbl", "us_cpi_u_annual_avg"}


def test_additions_state_their_confidence():
    for r in _raw_rows("observed_additions.csv"):
        assert re.match(r"confidence (high|medium|low)\b", r["note"]), r["series"]


def test_unga_2023_ideal_points_are_flagged_unreliable():
    unga = _raw_rows("unga_annual.csv")
    rows = [r for r in unga if r["series"].endswith("__bsv")]
    votes = {
        int(r["year"]): float(r["value"]) for r in rows if r["series"] == "unga_votes_tur__bsv"
    }
    assert votes[2023] == 2 and min(v for y, v in votes.items() if y < 2023) >= 20
    for r in rows:
        assert ("UNRELIABLE" in r["note"]) == (r["year"] == "2023"), r["series"]
    rollcall = {int(r["year"]) for r in unga if r["series"].endswith("__rollcall")}
    assert rollcall == set(range(2000, 2020))
