"""Discrete Duhamel sums (thermo.inverse.duhamel) against the brute-force double sum and
linearity."""

import numpy as np
import pytest

from thermo.inverse.duhamel import (
    DuhamelOperator,
    index_of_times,
    sample_input,
    superpose,
    superpose_at,
)
from thermo.problem import History


def _brute(step, u):
    """y_n = sum_{k=1}^{n} (u_k - u_{k-1}) S_{n-k+1} with u_0 taken as 0 (module statement)."""
    u = u.copy()
    u[0] = 0.0
    y = np.zeros_like(step)
    for n in range(step.shape[0]):
        for k in range(1, n + 1):
            y[n] += (u[k] - u[k - 1]) * step[n - k + 1]
    return y


def _tol(step, u):
    """Round-off allowance of a Duhamel sum of n terms (u_k − u_{k−1}) S_m, computed two ways:
    the standard bound γ_n · Σ|terms| ≤ n ε · TV(u) · max|S| (Higham §3.1) for each side, with
    a factor 4 of margin (covers the FFT path, whose error is of the same order)."""
    n = step.shape[0]
    tv = np.abs(np.diff(u)).sum() + abs(u[0])
    return 4.0 * n * np.finfo(float).eps * tv * np.abs(step).max()


@pytest.fixture
def step_and_input():
    rng = np.random.default_rng(0)
    step = np.cumsum(rng.random((61, 4)), axis=0)
    step[0] = 0.0
    u = rng.normal(size=61)
    u[0] = 0.0
    return step, u


@pytest.mark.parametrize("dense", [True, False])
def test_operator_equals_double_sum(step_and_input, dense, monkeypatch):
    if not dense:  # force the FFT path
        monkeypatch.setattr("thermo.inverse.duhamel.DENSE_LIMIT", 0)
    step, u = step_and_input
    y = DuhamelOperator(step, y0=20.0)(u)
    tol = _tol(step, u) + 4 * np.finfo(float).eps * 20.0  # + rounding of the y0 offset
    np.testing.assert_allclose(y - 20.0, _brute(step, u), rtol=0, atol=tol)
    np.testing.assert_allclose(superpose(step[:, 1], u), _brute(step, u)[:, 1], atol=tol)


def test_unit_step_input_reproduces_step_response(step_and_input):
    step, _ = step_and_input
    u = np.ones(step.shape[0])
    u[0] = 0.0
    np.testing.assert_allclose(DuhamelOperator(step)(u), step, rtol=0, atol=_tol(step, u))


def test_linearity_and_delay(step_and_input):
    step, _ = step_and_input
    u = np.zeros(step.shape[0])
    u[10:] = 3.0  # a step of 3 switched on at step 10 = step response delayed by 9 steps
    y = DuhamelOperator(step)(u)
    np.testing.assert_allclose(y[10:], 3.0 * step[1:-9], rtol=0, atol=_tol(step, u))
    np.testing.assert_allclose(y[:10], 0.0, atol=_tol(step, u))


def test_matrix_and_selected_times_agree(step_and_input):
    step, u = step_and_input
    op = DuhamelOperator(step)
    y = op(u)
    tol = _tol(step, u)
    np.testing.assert_allclose(np.einsum("npk,k->np", op.matrix(), u), y, rtol=0, atol=tol)
    idx = [0, 1, 17, 60]
    got = superpose_at(step, u, idx, y0=5.0)
    np.testing.assert_allclose(got, y[idx] + 5.0, rtol=0, atol=tol + 4 * np.finfo(float).eps * 5)


def test_sampling_helpers():
    t = np.linspace(0.0, 1.0, 11)
    u = sample_input(History(np.array([0.0, 1.0]), np.array([20.0, 30.0])), t, baseline=20.0)
    np.testing.assert_allclose(u, 10.0 * t)
    np.testing.assert_array_equal(index_of_times(t, [0.0, 0.3, 1.0]), [0, 3, 10])
    with pytest.raises(ValueError, match="not all on the step grid"):
        index_of_times(t, [0.35])
    with pytest.raises(ValueError, match="sampled at the 11 step times"):
        DuhamelOperator(np.ones((11, 2)))(np.ones(5))
