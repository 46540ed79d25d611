"""Observed data for Türkiye–Russia relations, shipped with the package.

This module owns the observed series in ``model/data/observed/`` (annual and
periodic trade and gas figures, yearly proxies for security cooperation and
Western alignment, dated leader meetings) and the one way to read them:

* :func:`load_observed` returns a tidy frame, one row per stated value;
* :func:`load_leader_meetings` returns the dated Putin–Erdoğan meetings;
* :func:`series_catalog` summarises each series;
* :func:`load_drivers` (from :mod:`.drivers`) returns the yearly drivers (Brent, US CPI).

Every value keeps its own source (``source``, ``source_ref``) and note. Values
are never interpolated: a blank value in the files is a gap and is dropped.

Statistical bases are never mixed inside one series. Series whose file name
carries a basis suffix (``__turkstat``, ``__tim``, ``__ru_fcs``,
``__official_statement``, ...) keep their name. Series whose file name carries
no basis (the periodic trade series, and the gas series, which hold mostly
Gazprom figures) get the basis stated in each row's note (``basis=TİM``,
``TÜİK``, ``EPDK``, ``Gazprom``, "Russian basis", a leader's or minister's
statement, ...) or, failing that, in its source title; a row whose basis
differs from the one implied by the series name goes to a series of its own,
``<name>__<basis>`` (or ``gas_ru_to_tr_bcm_epdk`` for the regulator's gas
import figures). See ``model/data/observed/README.md``.

Files are read on first use only and cached; every public function returns a
fresh copy.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from typing import Final

import pandas as pd

from .drivers import load_drivers

__all__ = [
    "INDICATORS",
    "KINDS",
    "load_drivers",
    "load_leader_meetings",
    "load_observed",
    "series_catalog",
]

#: Accepted values of ``kind`` in :func:`load_observed`.
KINDS: Final[tuple[str, ...]] = ("all", "annual", "periodic", "proxies", "additions", "extended")
#: The more recent annual file: trade totals and gas volumes are read; its Gazprom export prices
#: are prices, not cooperation, and stay out (``kind="additions"``, not part of ``"all"``).
_ADDITIONS_FILE: Final[str] = "observed_additions.csv"
_ADDITIONS_KEPT: Final[tuple[str, ...]] = ("trade_", "tr_", "gas_")

#: Model indices a series can measure (``context`` = not a measurement of an index).
INDICATORS: Final[tuple[str, ...]] = ("trade", "energy", "security", "west", "context")

_FILES: Final[dict[str, str]] = {
    "annual": "observed_annual.csv",
    "periodic": "observed_periodic.csv",
    "proxies": "proxies_annual.csv",
}
_MEETINGS_FILE: Final[str] = "leader_meetings.csv"

COLUMNS: Final[tuple[str, ...]] = (
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
)

CATALOG_COLUMNS: Final[tuple[str, ...]] = (
    "series",
    "frequency",
    "indicator",
    "basis",
    "unit",
    "sign",
    "n",
    "first_year",
    "last_year",
)

# --------------------------------------------------------------------------
# Classification rules
# --------------------------------------------------------------------------

# A projection, not an outturn: kept, but it measures no index.
_PROJECTION_SERIES: Final[str] = "trade_total_usd_bn__projection_not_outturn"

_TRADE_PREFIXES: Final[tuple[str, ...]] = (
    "trade_",
    "ru_exports",
    "ru_imports",
    "tr_exports",
    "tr_imports",
    "tr_contractors",
)

# Items where a higher value means less cooperation / less alignment.
_NEGATIVE_ITEM: Final[re.Pattern[str]] = re.compile(
    r"(?:^|_)(?:threat|enemy|oppose|unfavorable|negative|not_favor)(?:_|$)"
)

# Series without a ``__basis`` suffix whose basis is implied by the name.
_NAME_BASIS: Final[dict[str, str]] = {
    "gas_ru_to_tr_bcm": "gazprom",
    "gas_ru_to_tr_yoy_pct": "gazprom",
    "gas_ru_to_tr_bcm_epdk": "epdk",
    "gas_blue_stream_bcm": "blue_stream",
    # Turkish Ministry of Trade figures (as reported by Anadolu Agency).
    "tr_contractors_in_ru_cumulative_usd_bn": "tr_ministry",
    "tr_contractors_in_ru_new_contracts_usd_bn": "tr_ministry",
}
# Of those, the ones whose rows may state another basis in their note.
_ROW_BASIS_SERIES: Final[frozenset[str]] = frozenset(
    {
        "gas_ru_to_tr_bcm",
        "gas_ru_to_tr_yoy_pct",
        "tr_contractors_in_ru_cumulative_usd_bn",
        "tr_contractors_in_ru_new_contracts_usd_bn",
    }
)
# Where a row's basis has an established series name of its own.
_CANONICAL_NAME: Final[dict[tuple[str, str], str]] = {
    ("gas_ru_to_tr_bcm", "epdk"): "gas_ru_to_tr_bcm_epdk",
}
# Rows whose basis the note does not state; keyed by (file series, period).
_BASIS_OVERRIDES: Final[dict[tuple[str, str], str]] = {
    # Jan-Aug 2022 comparison base quoted with Putin's Jan-Aug 2023 figure
    # (~10 bcm, ~-39% y/y) in the same report.
    ("gas_ru_to_tr_bcm", "2022-01..2022-08"): "official_statement",
}

# Keywords that name a basis in a note or source title, in priority order.
_BASIS_KEYWORDS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"\banalyst\b", re.IGNORECASE), "analyst"),
    (re.compile(r"\bEPDK\b"), "epdk"),
    (re.compile(r"\bFCS\b|Russian basis"), "ru_fcs"),
    (re.compile(r"T[ÜU][İI]K|TurkStat"), "turkstat"),
    (re.compile(r"\bT[İI]M\b"), "tim"),
    (re.compile(r"Gazprom"), "gazprom"),
    (re.compile(r"statement|official|Putin|Erdo[gğ]an|[Mm]inister"), "official_statement"),
)
_EXPLICIT_BASIS: Final[re.Pattern[str]] = re.compile(r"basis=([^;,\s]+)")

# Proxies: source or survey family from the first word(s) after the prefix.
_PROXY_FAMILY: Final[dict[str, str]] = {
    "pew": "pew",
    "gmf": "gmf",
    "khas": "khas",
    "sipri": "sipri",
    "hlcc": "hlcc",
    "areda": "areda",
    "gallup": "gallup",
    "gezici": "gezici",
    "inr": "inr",
    "statedept": "statedept",
    "konda": "konda",
    "bbc": "globescan",
    "eu": "eu_official",
    "putin_erdogan_inperson": "leader_meetings",
    "putin_erdogan_phone": "press_reports",
}

_PERIOD_RE: Final[re.Pattern[str]] = re.compile(
    r"^(?P<y0>\d{4})-(?P<m0>\d{2})(?:\.\.(?P<y1>\d{4})-(?P<m1>\d{2})(?:-(?P<d1>\d{2}))?)?$"
)
_MEETING_DATE_RE: Final[re.Pattern[str]] = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})(?:/\d{2})?)?)?(?:\s*\((?P<paren>[^)]*)\))?$"
)
_MONTHS: Final[dict[str, int]] = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def _indicator(raw_series: str) -> str:
    if raw_series == _PROJECTION_SERIES:
        return "context"
    if raw_series.startswith("RU_"):
        return "security"
    if raw_series.startswith("WEST_"):
        return "west"
    if raw_series.startswith("CTX_"):
        return "context"
    if raw_series.startswith("gas_"):
        return "energy"
    if raw_series.startswith(_TRADE_PREFIXES):
        return "trade"
    raise ValueError(f"observed series {raw_series!r} has no indicator mapping")


def _sign(series: str) -> int:
    return -1 if _NEGATIVE_ITEM.search(series) else 1


def _keyword_basis(text: str) -> str | None:
    for pattern, basis in _BASIS_KEYWORDS:
        if pattern.search(text):
            return basis
    return None


def _row_basis(raw_series: str, period: str, note: str, source_title: str) -> str:
    """Basis of one row of a series whose name carries no ``__basis`` suffix."""
    override = _BASIS_OVERRIDES.get((raw_series, period))
    if override is not None:
        return override
    explicit = _EXPLICIT_BASIS.search(note)
    if explicit:
        basis = _keyword_basis(explicit.group(1))
        if basis is not None:
            return basis
    # The first clause of a note states the row's own basis; later clauses
    # often compare with figures on other bases.
    first_clause = note.split(";", 1)[0]
    for text in (first_clause, source_title):
        basis = _keyword_basis(text)
        if basis is not None:
            return basis
    default = _NAME_BASIS.get(raw_series)
    if default is not None:
        return default
    raise ValueError(f"no statistical basis found for {raw_series!r} period {period!r}")


def _proxy_basis(raw_series: str) -> str:
    rest = raw_series.split("_", 1)[1]
    for key in sorted(_PROXY_FAMILY, key=len, reverse=True):
        if rest == key or rest.startswith(key + "_"):
            return _PROXY_FAMILY[key]
    raise ValueError(f"proxy series {raw_series!r} has no source family mapping")


def _series_and_basis(
    raw_series: str, period: str, note: str, source_title: str
) -> tuple[str, str]:
    if raw_series.startswith(("RU_", "WEST_", "CTX_")):
        return raw_series, _proxy_basis(raw_series)
    if "__" in raw_series:
        return raw_series, raw_series.split("__", 1)[1]
    if raw_series in _NAME_BASIS and raw_series not in _ROW_BASIS_SERIES:
        return raw_series, _NAME_BASIS[raw_series]
    basis = _row_basis(raw_series, period, note, source_title)
    if _NAME_BASIS.get(raw_series) == basis:
        return raw_series, basis
    name = _CANONICAL_NAME.get((raw_series, basis), f"{raw_series}__{basis}")
    return name, basis


def _period_midpoint(period: str) -> pd.Timestamp:
    """Midpoint (floored to the day) of a ``YYYY-MM[..YYYY-MM[-DD]]`` span."""
    m = _PERIOD_RE.match(period)
    if m is None:
        raise ValueError(f"unrecognised period {period!r}")
    start = pd.Timestamp(int(m["y0"]), int(m["m0"]), 1)
    if m["y1"] is None:
        end = start + pd.offsets.MonthEnd(0)
    elif m["d1"] is None:
        end = pd.Timestamp(int(m["y1"]), int(m["m1"]), 1) + pd.offsets.MonthEnd(0)
    else:
        end = pd.Timestamp(int(m["y1"]), int(m["m1"]), int(m["d1"]))
    if end < start:
        raise ValueError(f"period {period!r} ends before it starts")
    return (start + (end - start) / 2).floor("D")


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def _data_dir():
    return importlib.resources.files("model") / "data" / "observed"


def _read_csv(name: str) -> pd.DataFrame:
    with (_data_dir() / name).open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return frame.apply(lambda col: col.str.strip())


def _tidy(raw: pd.DataFrame, frequency: str) -> pd.DataFrame:
    raw = raw[raw["value"] != ""]
    records = []
    for row in raw.itertuples(index=False):
        year = int(row.year)
        if frequency == "annual":
            period = f"{year:04d}"
            date = pd.Timestamp(year, 7, 1)
        else:
            period = row.period
            date = _period_midpoint(period)
        series, basis = _series_and_basis(row.series, period, row.note, row.source_title)
        records.append(
            {
                "date": date,
                "year": year,
                "period": period,
                "series": series,
                "indicator": _indicator(row.series),
                "basis": basis,
                "value": float(row.value),
                "unit": row.unit,
                "frequency": frequency,
                "sign": _sign(series),
                "source": row.source_title,
                "source_ref": row.source_url_or_ref,
                "note": row.note,
            }
        )
    return pd.DataFrame.from_records(records, columns=list(COLUMNS))


@functools.cache
def _load(kind: str) -> pd.DataFrame:
    if kind == "all":
        parts = [_load(k) for k in _FILES]
        frame = pd.concat(parts, ignore_index=True)
    elif kind == "extended":
        frame = pd.concat([_load("all"), _load("additions")], ignore_index=True)
    elif kind == "additions":
        raw = _read_csv(_ADDITIONS_FILE)
        frame = _tidy(raw[raw["series"].str.startswith(_ADDITIONS_KEPT)], "annual")
    else:
        frequency = "periodic" if kind == "periodic" else "annual"
        frame = _tidy(_read_csv(_FILES[kind]), frequency)
    frame = frame.astype({"year": "int64", "sign": "int64", "value": "float64"})
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame = frame.sort_values(["frequency", "series", "date", "period"], kind="stable")
    return frame.reset_index(drop=True)


def load_observed(kind: str = "all") -> pd.DataFrame:
    """Observed values as a tidy frame, one row per stated value.

    Parameters
    ----------
    kind:
        ``"annual"`` (``observed_annual.csv``), ``"periodic"``
        (``observed_periodic.csv``), ``"proxies"`` (``proxies_annual.csv``)
        or ``"all"`` (the three together); ``"additions"`` (the trade and
        gas figures of ``observed_additions.csv``, not part of ``"all"``) and
        ``"extended"`` (``"all"`` and ``"additions"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``date`` (1 July of the year for annual values, the midpoint of
        the span for periodic values), ``year``, ``period`` (``"YYYY"`` or the
        periodic span, e.g. ``"2017-01..2017-11-13"``), ``series``,
        ``indicator`` (``trade``, ``energy``, ``security``, ``west`` or
        ``context``), ``basis``, ``value``, ``unit``, ``frequency``
        (``"annual"`` or ``"periodic"``), ``sign`` (-1 where a higher value
        means less cooperation or alignment), ``source``, ``source_ref`` and
        ``note``. Blank values (gaps) are dropped.

    Raises
    ------
    ValueError
        If ``kind`` is not one of :data:`KINDS`.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(repr(k) for k in KINDS)}; got {kind!r}")
    return _load(kind).copy()


def _meeting_date(text: str) -> pd.Timestamp:
    """First day given in a meeting date such as ``2004-12-05/06`` or ``2015 (Sep/Oct)``."""
    m = _MEETING_DATE_RE.match(text.strip())
    if m is None:
        raise ValueError(f"unrecognised meeting date {text!r}")
    year = int(m["y"])
    if m["m"] is not None:
        return pd.Timestamp(year, int(m["m"]), int(m["d"]) if m["d"] else 1)
    months = [
        _MONTHS[w[:3].lower()]
        for w in re.findall(r"[A-Za-z]+", m["paren"] or "")
        if w[:3].lower() in _MONTHS
    ]
    return pd.Timestamp(year, months[0] if months else 1, 1)


@functools.lru_cache(maxsize=1)
def _load_meetings() -> pd.DataFrame:
    raw = _read_csv(_MEETINGS_FILE)
    dates = raw["date"].map(_meeting_date)
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(dates).astype("datetime64[ns]"),
            "year": dates.map(lambda d: d.year).astype("int64"),
            "event": raw["event"],
            "place": raw["place"],
            "format": raw["format"],
            "note": raw["note"],
            "source": raw["source_url_or_ref"],
            "date_text": raw["date"],
        }
    )
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


def load_leader_meetings() -> pd.DataFrame:
    """Dated Putin–Erdoğan meetings and council sessions (2004–2024).

    Columns ``date`` (the first day given: ``2004-12-05/06`` gives 5 Dec 2004,
    a month alone gives its first day, ``2015 (Sep/Oct)`` gives 1 Sep 2015),
    ``year``, ``event``, ``place``, ``format`` (``HLCC``, ``bilateral``,
    ``sideline``, ...; one row is the 24 Nov 2015 Su-24 downing, format
    ``crisis``, not a meeting), ``note``, ``source`` (one or more references
    separated by ``" ; "``) and ``date_text`` (the date as written in the file).
    """
    return _load_meetings().copy()


@functools.lru_cache(maxsize=1)
def _catalog() -> pd.DataFrame:
    frame = _load("all")

    def units(col: pd.Series) -> str:
        return " | ".join(dict.fromkeys(col))

    catalog = (
        frame.groupby(["series", "frequency"], sort=True)
        .agg(
            indicator=("indicator", "first"),
            basis=("basis", "first"),
            unit=("unit", units),
            sign=("sign", "first"),
            n=("value", "size"),
            first_year=("year", "min"),
            last_year=("year", "max"),
        )
        .reset_index()
    )
    return catalog[list(CATALOG_COLUMNS)].astype(
        {"sign": "int64", "n": "int64", "first_year": "int64", "last_year": "int64"}
    )


def series_catalog() -> pd.DataFrame:
    """One row per series and frequency in :func:`load_observed` (``kind="all"``).

    Columns ``series``, ``frequency``, ``indicator``, ``basis``, ``unit`` (all
    units used by the series, joined by ``" | "``), ``sign``, ``n`` (number of
    values), ``first_year``, ``last_year``. A name used in both the annual and
    the periodic file (e.g. ``gas_ru_to_tr_bcm``) has one row for each.
    """
    return _catalog().copy()
