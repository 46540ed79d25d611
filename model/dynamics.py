"""Pure maths of the model: drift, exact transitions, noise and effects.

Between events each replicate follows a linear Ornstein–Uhlenbeck process on
the latent scale (see :mod:`model.indices`)::

    dz = [-K (z - m) + C (z - m0)] dt + S dW = A (z - z*) dt + S dW

with ``K = diag(ln 2 / half_life)`` the reversion rates, ``C`` the (non-negative)
spill-overs, ``A = C - K`` the drift matrix, ``m = logit(squeeze(b) / 100)`` the
target given by the baseline ``b`` (index points, moved by shifts), ``m0`` the
same for the scenario's structural baseline before any shift, and
``S = diag(sigma)``. Spill-overs act on each index's departure from its
structural baseline, so a lasting crisis in one relation keeps dragging the
others, and a lower baseline anywhere never lifts any index. The joint
equilibrium is ``z* = A^-1 (C m0 - K m)``. Over a step of ``h`` years the
solution is exact::

    z(t + h) = z* + F (z(t) - z*) + L eps,   F = expm(A h),  L L' = Q(h)

where ``Q(h) = int_0^h expm(A s) S S' expm(A' s) ds`` (Van Loan's method) and
``eps`` is standard normal. Shapes: ``R`` replicates, ``K`` indices; a matrix
is ``(K, K)`` when shared or ``(R, K, K)`` per replicate. Time is in years.
"""

from __future__ import annotations

import numpy as np

from .errors import SimulationError
from .indices import squeeze, to_latent, to_points, unsqueeze

__all__ = [
    "Spectral",
    "apply_change",
    "baseline_latent",
    "check_stable",
    "drift_matrix",
    "equilibrium",
    "equilibrium_parts",
    "matvec",
    "row_index",
    "step",
    "transition",
]

LN2 = float(np.log(2.0))


def drift_matrix(half_life: np.ndarray, spill: np.ndarray) -> np.ndarray:
    """Drift ``A`` from half-lives (years, ``(..., K)``) and spill-over rates.

    ``spill[..., i, j]`` (per year, ``i != j``) is how strongly index ``i`` is
    pulled by index ``j``'s deviation from its own baseline; the diagonal of
    ``spill`` is ignored and replaced by ``-ln 2 / half_life``.
    """
    half_life = np.asarray(half_life, dtype=float)
    a = np.array(spill, dtype=float, copy=True)
    k = a.shape[-1]
    idx = np.arange(k)
    a[..., idx, idx] = -LN2 / half_life
    return a


def check_stable(a: np.ndarray) -> None:
    """Raise SimulationError unless every eigenvalue of ``A`` has Re < 0."""
    worst = float(np.max(np.linalg.eigvals(a).real))
    if worst >= 0.0:
        raise SimulationError(
            f"the spill-overs make the dynamics unstable (largest eigenvalue real part "
            f"{worst:.3g} >= 0): reduce the spill-over rates or shorten the half-lives"
        )


def transition(a: np.ndarray, h: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact one-step matrices ``(F, L)`` for steps ``h`` (years, shape ``(n,)``).

    ``a`` is ``(K, K)`` or ``(n, K, K)``; ``sigma`` is ``(K,)`` or ``(n, K)``.
    Returns ``F`` and a square root ``L`` of the noise covariance, each
    ``(n, K, K)``. Always evaluated as a stack, so a given ``(A, h, sigma)``
    gives the same bits however many steps are computed together.
    """
    from scipy.linalg import expm  # here, so that loading a scenario does not import SciPy

    h = np.atleast_1d(np.asarray(h, dtype=float))
    n = h.shape[0]
    a = np.broadcast_to(a, (n,) + a.shape[-2:])
    k = a.shape[-1]
    sig = np.broadcast_to(np.asarray(sigma, dtype=float), (n, k))
    block = np.zeros((n, 2 * k, 2 * k))
    # "+ 0.0" turns negative zeros into zeros: they send scipy's expm down a
    # path hundreds of times slower
    block[:, :k, :k] = -a + 0.0
    block[:, :k, k:] = sig[:, :, None] ** 2 * np.eye(k)
    block[:, k:, k:] = np.swapaxes(a, -1, -2) + 0.0
    e = expm(block * h[:, None, None])
    f = np.swapaxes(e[:, k:, k:], -1, -2)
    q = f @ e[:, :k, k:]
    return f, cholesky(0.5 * (q + np.swapaxes(q, -1, -2)))


class Spectral:
    """Exact steps for per-replicate drift matrices through their eigenvectors.

    With ``A = V diag(lam) V^-1`` (one per row), ``F = V diag(exp(lam h)) V^-1``
    and ``Q(h) = V [M_ij (exp((lam_i + conj lam_j) h) - 1) / (lam_i + conj lam_j)] V^H``
    with ``M = V^-1 S S' V^-H``: the same matrices as :func:`transition`, at a
    fraction of the cost of a matrix exponential per row and step. Rows whose
    eigenvectors are ill-conditioned (near-defective ``A``) are flagged in
    ``self.ok`` so the caller can use :func:`transition` for them.
    """

    def __init__(self, a: np.ndarray, sigma: np.ndarray) -> None:
        lam, v = np.linalg.eig(a)
        # eig returns real arrays when every matrix of the stack has real
        # eigenvalues: always work in complex so a row's arithmetic never
        # depends on the other rows
        lam, v = lam.astype(complex), v.astype(complex)
        self.ok = np.linalg.cond(v) < 1e6
        v = np.where(self.ok[:, None, None], v, np.eye(a.shape[-1]))
        v_inv = np.linalg.inv(v)
        s2 = np.asarray(sigma, dtype=float) ** 2
        m = v_inv @ (s2[:, :, None] * np.conj(np.swapaxes(v_inv, -1, -2)))
        # kept with the rows last, (K, K, R): the products below then run
        # along long contiguous rows (the same arithmetic, in the same order)
        self.rows = np.arange(len(lam))
        self.lam = np.ascontiguousarray(lam.T)
        self.v = np.ascontiguousarray(v.transpose(1, 2, 0))
        self.v_inv = np.ascontiguousarray(v_inv.transpose(1, 2, 0))
        self.m = np.ascontiguousarray(m.transpose(1, 2, 0))
        self.vh = np.conj(self.v.transpose(1, 0, 2))
        # s_ij = lam_i + conj(lam_j) is Hermitian, and so is the integral g below:
        # computed on and above the diagonal, mirrored below it
        self.upper = np.triu_indices(len(self.lam))
        self.above = np.triu_indices(len(self.lam), 1)
        self.s_upper = (self.lam[:, None, :] + np.conj(self.lam)[None, :, :])[self.upper]

    def matrices(self, rows: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
        """``(F, L)`` for the given rows and one step of ``h`` years, each ``(len(rows), K, K)``."""
        sel = row_index(rows, self.rows)
        lam, v, s = self.lam[:, sel], self.v[:, :, sel], self.s_upper[:, sel]
        f = np.real(_matmul_last(v * np.exp(lam * h)[None, :, :], self.v_inv[:, :, sel]))
        small = np.abs(s * h) < 1e-12
        k = len(lam)
        g = np.empty((k, k, s.shape[1]), dtype=complex)
        g[self.upper] = np.where(
            small, h, np.expm1(np.where(small, 1.0, s) * h) / np.where(small, 1.0, s)
        )
        # the same values as computing them (up to the sign of zero imaginary parts)
        g[self.above[1], self.above[0]] = np.conj(g[self.above])
        q = np.real(_matmul_last(_matmul_last(v, self.m[:, :, sel] * g), self.vh[:, :, sel]))
        f, q = f.transpose(2, 0, 1), q.transpose(2, 0, 1)
        return np.ascontiguousarray(f), cholesky(0.5 * (q + np.swapaxes(q, -1, -2)))


def row_index(rows: np.ndarray, every: np.ndarray) -> np.ndarray | slice:
    """``rows`` as an index: a slice when they are ``every`` row in order, so that
    reads and writes are views instead of gathered copies."""
    return slice(None) if rows.size == every.size and (rows == every).all() else rows


def _matmul_last(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Stacked ``a @ b`` for stacks with the rows last, ``(K, K, R)``, as K
    elementwise products: each matrix's result is independent of how many are
    stacked (bit for bit), unlike BLAS kernels."""
    out = a[:, 0:1, :] * b[0:1, :, :]
    for j in range(1, a.shape[1]):
        out += a[:, j : j + 1, :] * b[j : j + 1, :, :]
    return out


def cholesky(q: np.ndarray) -> np.ndarray:
    """Lower-triangular ``L`` with ``L L' = q`` for a stack of covariances ``(n, K, K)``.

    Tolerates singular ``q`` (an index without noise gets a zero column), and
    keeps shock ``j`` tied to index ``j``: a diagonal ``q`` gives a diagonal
    ``L``, and adding an index after the others leaves their rows unchanged.
    """
    k = q.shape[1]
    low = np.zeros(q.shape)  # C order whatever the layout of q (the slots copy it whole)
    diag = np.abs(np.diagonal(q, axis1=1, axis2=2))
    scale = np.maximum(np.maximum.reduce([diag[:, i] for i in range(k)]), 1e-300)
    for j in range(k):
        d = q[:, j, j] - _dot(low[:, j, :j], low[:, j, :j])
        ok = d > 1e-13 * scale
        root = np.sqrt(np.where(ok, d, 1.0))
        low[:, j, j] = np.where(ok, root, 0.0)
        for i in range(j + 1, k):
            off = q[:, i, j] - _dot(low[:, i, :j], low[:, j, :j])
            low[:, i, j] = np.where(ok, off / root, 0.0)
    return low


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product summed left to right (no reduction kernel)."""
    out = np.zeros(a.shape[0])
    for m in range(a.shape[1]):
        out = out + a[:, m] * b[:, m]
    return out


def matvec(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Row-wise ``m @ v`` for ``v`` of shape ``(R, K)``.

    ``m`` is ``(K, K)`` or ``(R, K, K)``. Written as K elementwise products so
    each row's result is independent of the other rows (bit-for-bit).
    """
    k = v.shape[1]
    out = m[..., :, 0] * v[:, 0:1]
    for j in range(1, k):
        out += m[..., :, j] * v[:, j : j + 1]
    return out


def step(
    z: np.ndarray, m: np.ndarray, f: np.ndarray, root: np.ndarray, eps: np.ndarray | None
) -> np.ndarray:
    """One exact transition of the latent state ``z`` toward ``m``."""
    out = m + matvec(f, z - m)
    if eps is not None:
        out = out + matvec(root, eps)
    return out


def equilibrium(
    a_inv: np.ndarray, rates: np.ndarray, pull: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """Joint equilibrium ``z* = A^-1 (C m0 - K m)`` for targets ``m`` (rows of ``(R, K)``).

    ``rates`` (the diagonal of ``K``) and ``pull`` (``C m0``) come from
    :func:`equilibrium_parts`: they do not change when a baseline shifts.
    """
    return matvec(a_inv, pull - rates * m)


def equilibrium_parts(a: np.ndarray, m0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reversion rates ``diag(K)`` and the spill-overs' pull ``C m0`` of drift ``A``."""
    k = a.shape[-1]
    idx = np.arange(k)
    rates = -a[..., idx, idx]
    spill = np.array(a, copy=True)
    spill[..., idx, idx] = 0.0
    return rates, matvec(spill, m0)


def baseline_latent(b: np.ndarray) -> np.ndarray:
    """Baseline in index points (any real) -> latent reversion target."""
    return to_latent(squeeze(b))


def apply_change(z: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add ``delta`` index points at the current level.

    The change is added on the stretched scale ``unsqueeze(y)`` and mapped
    back, so it is exact on [5, 95], zero change leaves any level unchanged,
    and a larger negative change always leaves a lower level. Returns the new
    latent values and the realised change in points.
    """
    y = to_points(z)
    y_new = squeeze(unsqueeze(y) + delta)
    return to_latent(y_new), y_new - y
