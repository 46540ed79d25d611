"""The pure maths: exact transitions, noise covariance, bounds and effects."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import quad_vec, solve_ivp

from model.dynamics import apply_change, check_stable, drift_matrix, matvec, step, transition
from model.errors import SimulationError
from model.indices import MARGIN, squeeze, to_latent, to_points

from .strategies import changes, half_lives, levels, steps_years

A = drift_matrix(
    np.array([1.5, 4.0, 1.5, 3.0]),
    np.array([[0, 0.05, 0.15, 0], [0.02, 0, 0, 0], [0.05, 0.05, 0, 0], [0, 0, 0, 0]]),
)
SIGMA = np.array([0.15, 0.08, 0.2, 0.1])


def test_transition_matches_fine_numerical_integration():
    d0 = np.array([1.2, -0.7, 2.0, -1.5])
    for h in (0.01, 0.5, 3.0):
        f, _ = transition(A, np.array([h]), SIGMA)
        sol = solve_ivp(lambda t, d: A @ d, (0, h), d0, rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(f[0] @ d0, sol.y[:, -1], rtol=1e-8, atol=1e-10)


def test_noise_covariance_matches_quadrature():
    from scipy.linalg import expm

    h = 1.7
    s = np.diag(SIGMA)
    q_num, _ = quad_vec(lambda u: expm(A * u) @ s @ s.T @ expm(A * u).T, 0, h, epsabs=1e-13)
    _, root = transition(A, np.array([h]), SIGMA)
    np.testing.assert_allclose(root[0] @ root[0].T, q_num, rtol=1e-7, atol=1e-12)


@given(steps_years, steps_years)
def test_two_steps_equal_one(h1, h2):
    """F and Q compose exactly: results do not depend on where the clock stops."""
    f1, r1 = transition(A, np.array([h1]), SIGMA)
    f2, r2 = transition(A, np.array([h2]), SIGMA)
    f12, r12 = transition(A, np.array([h1 + h2]), SIGMA)
    np.testing.assert_allclose(f2[0] @ f1[0], f12[0], atol=1e-10)
    q = f2[0] @ (r1[0] @ r1[0].T) @ f2[0].T + r2[0] @ r2[0].T
    np.testing.assert_allclose(q, r12[0] @ r12[0].T, atol=1e-10)


def test_without_noise_the_step_is_deterministic_and_reverts():
    z = to_latent(np.array([[10.0, 90.0, 50.0, 30.0]]))
    m = to_latent(np.array([[50.0, 50.0, 50.0, 50.0]]))
    f, root = transition(A, np.array([60.0]), np.zeros(4))
    out = step(z, m, f[0], root[0], None)
    np.testing.assert_allclose(to_points(out), 50.0, atol=1e-2)


def test_unstable_dynamics_are_refused():
    with pytest.raises(SimulationError, match="unstable"):
        check_stable(drift_matrix(np.array([1.0, 1.0]), np.array([[0, 5.0], [5.0, 0]])))


def test_matvec_rows_are_independent():
    rng = np.random.default_rng(1)
    v = rng.normal(size=(7, 4))
    stack = rng.normal(size=(7, 4, 4))
    np.testing.assert_array_equal(matvec(A, v)[2:5], matvec(A, v[2:5]))
    np.testing.assert_array_equal(matvec(stack, v)[3], matvec(stack[3:4], v[3:4])[0])
    np.testing.assert_allclose(matvec(A, v), v @ A.T, atol=1e-12)


@given(st.floats(-1e6, 1e6))
def test_squeeze_stays_inside_the_scale(y):
    out = float(squeeze(np.array(y)))
    assert 0.0 <= out <= 100.0
    if MARGIN <= y <= 100 - MARGIN:
        assert out == y


@given(st.floats(-500, 500), st.floats(-500, 500))
def test_squeeze_keeps_order(a, b):
    lo, hi = sorted((a, b))
    assert squeeze(np.array(lo)) <= squeeze(np.array(hi))


@given(levels)
def test_latent_round_trip(y):
    assert float(to_points(to_latent(np.array(y)))) == pytest.approx(y, rel=1e-9)


@given(levels, changes, changes)
def test_a_larger_negative_change_never_leaves_a_higher_level(y, d1, d2):
    z = to_latent(np.array([y]))
    small, big = sorted((d1, d2), reverse=True)
    z_small, _ = apply_change(z, np.array([small]))
    z_big, _ = apply_change(z, np.array([big]))
    assert to_points(z_big) <= to_points(z_small) + 1e-9
    assert 0.0 < float(to_points(z_big)[0]) < 100.0


@given(st.floats(MARGIN + 1, 100 - MARGIN - 1), st.floats(-4, 4))
def test_changes_are_exact_away_from_the_edges(y, d):
    _, realised = apply_change(to_latent(np.array([y])), np.array([d]))
    if MARGIN <= y + d <= 100 - MARGIN:
        assert float(realised[0]) == pytest.approx(d, abs=1e-7)


@given(half_lives, steps_years)
def test_half_life_means_half_the_gap(hl, h):
    a = drift_matrix(np.array([hl]), np.zeros((1, 1)))
    f, _ = transition(a, np.array([h]), np.zeros(1))
    assert f[0, 0, 0] == pytest.approx(0.5 ** (h / hl), rel=1e-9)


def test_spectral_steps_equal_the_matrix_exponential():
    from model.dynamics import Spectral

    rng = np.random.default_rng(5)
    half = rng.uniform(0.5, 6, size=(6, 4))
    spill = np.abs(rng.normal(0, 0.05, size=(6, 4, 4)))
    a = drift_matrix(half, spill)
    sigma = rng.uniform(0, 0.3, size=(6, 4))
    sp = Spectral(a, sigma)
    assert sp.ok.all()
    for h in (1 / 365.25, 0.3, 4.0):
        f1, r1 = sp.matrices(np.arange(6), h)
        f2, r2 = transition(a, np.full(6, h), sigma)
        np.testing.assert_allclose(f1, f2, atol=1e-10)
        np.testing.assert_allclose(
            r1 @ np.swapaxes(r1, 1, 2), r2 @ np.swapaxes(r2, 1, 2), atol=1e-10
        )


def test_cholesky_handles_singular_covariances_and_keeps_indices_aligned():
    from model.dynamics import cholesky

    uncoupled = drift_matrix(np.array([1.5, 4.0, 1.5, 3.0]), np.zeros((4, 4)))
    _, root = transition(uncoupled, np.array([0.7]), np.array([0.15, 0.0, 0.2, 0.1]))
    q = root[0] @ root[0].T
    assert np.allclose(np.triu(root[0], 1), 0)
    assert np.allclose(root[0][:, 1], 0) and np.allclose(root[0][1], 0)
    _, coupled = transition(A, np.array([0.7]), np.array([0.15, 0.0, 0.2, 0.1]))
    assert np.allclose(np.triu(coupled[0], 1), 0) and np.isfinite(coupled).all()
    diag = cholesky(np.diag([4.0, 0.0, 9.0])[None])
    np.testing.assert_allclose(diag[0], np.diag([2.0, 0.0, 3.0]))
    assert np.isfinite(q).all()


def test_normals_with_a_counter_per_row_equal_a_common_counter():
    from model.rng import Streams

    s = Streams(1, np.arange(10))
    rows = np.array([1, 4, 7])
    common = s.normals(["a", "b"], 12, rows)
    assert np.array_equal(s.normals(["a", "b"], np.array([12, 12, 12]), rows), common)
    mixed = s.normals(["a", "b"], np.array([12, 3, 12]), rows)
    assert np.array_equal(mixed[[0, 2]], common[[0, 2]])
    assert np.array_equal(mixed[1], s.normals(["a", "b"], 3, rows[1:2])[0])


def test_uniforms_with_a_stream_per_row_equal_those_of_each_stream():
    from model.rng import Streams, stream_ids

    s = Streams(2, np.arange(20))
    rows = np.array([3, 5, 11, 12])
    ctr = np.array([0, 7, 2, 9], dtype=np.uint64)
    ids = stream_ids(["x", "y"])[[0, 1, 1, 0]]
    got = s.uniform_ids(ids, ctr, rows)
    for i, name in enumerate(["x", "y", "y", "x"]):
        assert got[i] == s.uniform(name, ctr[i : i + 1], rows=rows[i : i + 1])[0]


def test_uniforms_of_some_rows_equal_those_of_every_row():
    """A stream drawn for a few rows (its keys then kept) gives those rows' numbers of a
    draw for every row, and of a fresh set of streams."""
    from model.rng import Streams

    s = Streams(4, np.arange(100, 130))
    ctr = np.arange(30, dtype=np.uint64) * 3
    whole = s.uniform("z", ctr)
    for rows in (np.array([7, 2, 29]), np.array([0]), np.arange(30)[::-1]):
        assert np.array_equal(s.uniform("z", ctr[rows], rows=rows), whole[rows])
        assert np.array_equal(
            Streams(4, np.arange(100, 130)).uniform("z", ctr[rows], rows=rows), whole[rows]
        )
    assert not np.array_equal(s.uniform("w", ctr[:5], rows=np.arange(5)), whole[:5])
