"""The one registry of inverse methods: every entry point lists it; a toy method registered in a
test runs through the reconstruction and leave-one-sensor-out (and, in test_inverse_cli, the
``millheat inverse`` command)."""

from __future__ import annotations

import numpy as np
import pytest

from thermo.inverse.evaluation import method_loso
from thermo.inverse.linear_response import LinearResponse
from thermo.inverse.method import InverseMethod
from thermo.inverse.reconstruction import reconstruct, virtual_measurement
from thermo.inverse.registry import METHODS, MethodSpec, make_method, register, unregister

T0 = 20.0


@pytest.fixture
def toy():
    register(MethodSpec("quasi-steady", "toy_method:factory", "toy: steady gains"))
    yield "quasi-steady"
    unregister("quasi-steady")


def _response() -> LinearResponse:
    times = 0.1 * np.arange(121)
    gains, taus = np.array([0.8, 0.6, 0.4, 0.3]), np.array([0.1, 0.2, 0.3, 0.5])
    step = gains * (1.0 - np.exp(-times[:, None] / taus))
    field = np.stack([1.0 - np.exp(-times / tau) for tau in (0.2, 1.0)], axis=1)
    return LinearResponse(
        times=times,
        step=step,
        probe_names=("S1", "S2", "S3", "S4"),
        kind="temperature",
        boundary="F1",
        T0=T0,
        scheme="backward-euler",
        field_step=field,
    )


def test_every_entry_point_reads_the_registry(toy):
    from cases.cli import build_parser
    from cases.milling_reconstruction import build_parser as recon_parser
    from thermo.inverse.study import METHODS as STUDY

    assert {"tikhonov", "sfsm", "kalman", "student", "teacher", toy} <= set(METHODS)
    sub = build_parser()._subparsers._group_actions[0].choices["inverse"]
    method_action = next(a for a in sub._actions if a.dest == "method")
    assert set(method_action.choices) == set(METHODS)
    recon_action = next(a for a in recon_parser()._actions if a.dest == "method")
    assert set(recon_action.choices) == set(METHODS)
    assert {name for name, _ in STUDY.values()} <= set(METHODS)


def test_toy_method_through_reconstruction_and_loso(toy):
    resp = _response()
    vm = virtual_measurement(resp, n_rpm=509.0, fz_mm=0.075, ae_mm=0.2, sigma=0.0, seed=2)
    method = make_method(toy, response=resp, sigma=0.0)
    assert isinstance(method, InverseMethod) and method.subsets
    rec = reconstruct(resp, method, vm, field_times=(6.0,))
    rise = vm.truth.max() - T0
    # quasi-steady: fine once the fast sensors settle, a transient bias on the cut-in ramp
    assert rec.metrics["boundary"]["rmse"] < 0.15 * rise
    assert set(rec.metrics["loso"]) == {"S1", "S2", "S3", "S4", "mean"}
    loso = method_loso(method, vm, predict=resp.probes)
    assert loso["mean"]["rmse"] == pytest.approx(rec.metrics["loso"]["mean"]["rmse"], rel=1e-9)
    assert loso["mean"]["rmse"] < 0.15 * rise


def test_registry_rejects_unknown_names_and_options(toy):
    resp = _response()
    with pytest.raises(ValueError, match="unknown inverse method 'nope'"):
        make_method("nope", response=resp)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['speed'\]"):
        make_method("tikhonov", response=resp, sigma=1.0, speed=3)
    with pytest.raises(ValueError, match="needs the linear response"):
        make_method("sfsm", sigma=1.0)
    with pytest.raises(ValueError, match="already registered"):
        register(MethodSpec(toy, "toy_method:factory", "again"))
    with pytest.raises(ValueError, match="kalman: needs the sensor noise"):
        make_method("kalman", response=resp)


def test_sfsm_future_steps_rule_is_the_same_everywhere():
    resp = _response()
    vm = virtual_measurement(resp, n_rpm=509.0, fz_mm=0.075, ae_mm=0.2, sigma=2.0, seed=0)
    rules = {
        None: "default (σ unknown)",
        0.0: "noise-free data",
        2.0: "discrepancy",
    }
    for sigma, how in rules.items():
        info = make_method("sfsm", response=resp, sigma=sigma).estimate(vm).info
        assert info["future_steps_rule"] == how
    assert make_method("sfsm", response=resp, sigma=None).estimate(vm).info["future_steps"] == 3
    fixed = make_method("sfsm", response=resp, sigma=2.0, future_steps=5).estimate(vm).info
    assert fixed == {"future_steps": 5, "future_steps_rule": "given"}
