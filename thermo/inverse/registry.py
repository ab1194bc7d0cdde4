"""The one registry of inverse methods: name → factory, read by every entry point.

``millheat inverse --method``, the main job's ``--method``/``--compare``, the classical study and
the reconstruction all list and build methods from :data:`METHODS`. A factory is named by its
import path (``"module:function"``) and imported only when the method is built, so listing the
methods stays cheap (no JAX, no DOLFINx). A factory takes a
:class:`thermo.inverse.method.MethodContext` and returns an object that follows the
:class:`thermo.inverse.method.InverseMethod` contract.

Adding a method is one file with its factory plus one :func:`register` call (here for the
shipped methods; a user's script or test may register its own at run time).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from thermo.inverse.method import InverseMethod, MethodContext


@dataclass(frozen=True)
class MethodSpec:
    """A registered inverse method.

    Attributes:
        name: the name users type (``--method NAME``).
        factory: ``"module:function"`` or the callable itself.
        summary: one line for ``--help`` and reports.
        family: "classical" (inverts the FEM linear response), "neural" (trained network) or
            "baseline" (fitted on training records: the referee's first try).
    """

    name: str
    factory: str | Callable[[MethodContext], InverseMethod]
    summary: str
    family: str = "classical"

    def build(self, context: MethodContext) -> InverseMethod:
        factory = self.factory
        if isinstance(factory, str):
            module, _, func = factory.partition(":")
            factory = getattr(importlib.import_module(module), func)
        method = factory(context)
        if not isinstance(method, InverseMethod):
            raise TypeError(f"factory of {self.name!r} returned {type(method).__name__}")
        return method


METHODS: dict[str, MethodSpec] = {}
FAMILIES = ("classical", "neural", "baseline")


def register(spec: MethodSpec, *, replace: bool = False) -> MethodSpec:
    """Add ``spec`` to :data:`METHODS` (``replace=True`` to override a name)."""
    if spec.name in METHODS and not replace:
        raise ValueError(f"inverse method {spec.name!r} is already registered")
    if spec.family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {spec.family!r}")
    METHODS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a method (tests that register a toy method clean up with this)."""
    METHODS.pop(name, None)


def method_names(family: str | None = None) -> tuple[str, ...]:
    """Registered names, in registration order (optionally of one family)."""
    return tuple(n for n, s in METHODS.items() if family is None or s.family == family)


def make_method(
    name: str,
    *,
    response: Any = None,
    sigma: float | None = None,
    **options: Any,
) -> InverseMethod:
    """Build the registered method ``name`` (see :class:`MethodContext` for the arguments)."""
    if name not in METHODS:
        raise ValueError(f"unknown inverse method {name!r}; registered: {', '.join(METHODS)}")
    return METHODS[name].build(MethodContext(response=response, sigma=sigma, options=options))


def describe() -> str:
    """``name: summary`` lines of every method (for ``--help`` texts)."""
    return "; ".join(f"{s.name}: {s.summary}" for s in METHODS.values())


register(
    MethodSpec(
        "tikhonov",
        "thermo.inverse.classical:tikhonov",
        "Tikhonov order 0/1, λ by discrepancy (σ known) or GCV/L-curve; posterior band (order 1)",
    )
)
register(
    MethodSpec(
        "sfsm",
        "thermo.inverse.classical:sfsm",
        "Beck's sequential function specification, r future steps (by discrepancy when σ known)",
    )
)
register(
    MethodSpec(
        "kalman",
        "thermo.inverse.classical:kalman",
        "Kalman filter + RTS smoother on an ERA realisation (needs σ and every time step)",
    )
)
register(
    MethodSpec(
        "gauss-newton",
        "thermo.inverse.nonlinear_inverse:gauss_newton",
        "regularised Gauss-Newton on the nonlinear FEM (temperature-dependent properties)",
    )
)
register(
    MethodSpec(
        "student",
        "surrogates.ihcp.inverse_method:student_method",
        "ensemble of knowledge-distilled CNN-GRU students (paper 000 Table 4), trained weights",
        family="neural",
    )
)
register(
    MethodSpec(
        "teacher",
        "surrogates.ihcp.inverse_method:teacher_method",
        "CNN-GRU teacher (paper 000 Table 1), trained weights",
        family="neural",
    )
)
register(
    MethodSpec(
        "params-only",
        "thermo.inverse.baselines:params_only",
        "baseline: history from the machining parameters alone (ridge), no sensor",
        family="baseline",
    )
)
register(
    MethodSpec(
        "fir",
        "thermo.inverse.baselines:fir",
        "baseline: linear FIR filter, ridge on lagged sensors and the parameters",
        family="baseline",
    )
)
