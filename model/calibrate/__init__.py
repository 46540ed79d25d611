"""The model held against the observed data: observations, measurement, fit, hindcast, reports.

- :mod:`.observed`: the observed series shipped with the package, read as tidy frames;
- :mod:`.observations`: those series prepared for the measurement model;
- :mod:`.measurement`: how the latent indices show up in observed data;
- :mod:`.scores`: scores of predictive distributions against observations;
- :mod:`.problem`: model parameters -> modelled index values -> measurement residuals;
- :mod:`.fit`: :func:`calibrate`, model and measurement parameters fitted together;
- :mod:`.hindcast`: :func:`hindcast`, fitted up to a year and scored after it;
- :mod:`.report`: Markdown reports and checks against the record;
- :mod:`.drivers`: the yearly drivers (the Brent price, the US CPI);
- :mod:`.baselines`, :mod:`.evaluation_table`: naive forecasts and the tidy tables of scores;
- :mod:`.evaluate` (with :mod:`.origin` and :mod:`.evaluation_summary`): the rolling-origin
  evaluation of the model against the baselines (``relsim evaluate``).

The evaluation's modules use statsmodels and are not imported here, so that
``import model`` stays light: ``from model.calibrate.evaluate import evaluate``.

``docs/VALIDATION.md`` describes the method and reports the results.
"""

from .fit import DEFAULT_FIT, Calibration, calibrate, parse_params
from .hindcast import Hindcast, hindcast
from .measurement import TREND_KEYS, Fit, Measurement
from .observations import Observations, averaging_matrix, prepare
from .problem import DATA_END, with_params
from .report import (
    BIG_MOVES,
    big_moves,
    proxies_by_year,
    report_calibration,
    report_hindcast,
    score_table,
)
from .scores import crps_sample

__all__ = [
    "BIG_MOVES",
    "DATA_END",
    "DEFAULT_FIT",
    "TREND_KEYS",
    "Calibration",
    "Fit",
    "Hindcast",
    "Measurement",
    "Observations",
    "averaging_matrix",
    "big_moves",
    "calibrate",
    "crps_sample",
    "hindcast",
    "parse_params",
    "prepare",
    "proxies_by_year",
    "report_calibration",
    "report_hindcast",
    "score_table",
    "with_params",
]
