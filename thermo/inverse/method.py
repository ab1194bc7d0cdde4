r"""The inverse-method contract: estimate an unknown boundary history from a sensor record.

Every inverse method in millheat — the classical ones on the FEM linear response
(:mod:`thermo.inverse.classical`) and the neural ones (:mod:`surrogates.ihcp.inverse_method`) —
is an object with

* ``name`` (label in reports),
* ``subsets`` (True when it can estimate from any subset of the sensors, which
  leave-one-sensor-out needs), and
* ``estimate(record, sensors=None) -> BoundaryEstimate``: the boundary history
  :math:`\hat u(t)` at the record's times (absolute: °C for a temperature input, W/m² for a
  flux), optionally with a band (lower, upper) and diagnostics, from the record's columns
  ``sensors`` (default all).

Methods are made by the factories listed in the one registry (:mod:`thermo.inverse.registry`)
from a :class:`MethodContext`: the linear response they invert (classical), the sensor noise σ
when known, and method options. This module imports NumPy only, so the neural methods implement
the contract without loading DOLFINx.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from thermo.inverse.linear_response import LinearResponse
    from thermo.inverse.record import SensorRecord


@dataclass(frozen=True)
class BoundaryEstimate:
    """An estimated boundary history.

    Attributes:
        times: times s, shape (n_t,) (the record's times; t = 0 included when the record has it).
        values: boundary history, shape (n_t,): °C (temperature input) or W/m² (flux input).
        band: (n_t, 2) lower/upper band in the same unit, or None.
        info: diagnostics (regularisation parameter, iterations, ...), JSON-serialisable.
    """

    times: np.ndarray
    values: np.ndarray
    band: np.ndarray | None = None
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = np.asarray(self.times, dtype=float).reshape(-1)
        v = np.asarray(self.values, dtype=float).reshape(-1)
        if v.shape != t.shape or not np.all(np.isfinite(v)):
            raise ValueError(f"BoundaryEstimate: needs {t.size} finite values, got {v.shape}")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "values", v)
        if self.band is not None:
            b = np.asarray(self.band, dtype=float)
            if b.shape != (t.size, 2):
                raise ValueError(f"BoundaryEstimate: band needs shape ({t.size}, 2), got {b.shape}")
            object.__setattr__(self, "band", b)


@runtime_checkable
class InverseMethod(Protocol):
    """What every inverse method provides (module docstring)."""

    name: str
    subsets: bool

    def estimate(
        self, record: SensorRecord, *, sensors: Sequence[str] | None = None
    ) -> BoundaryEstimate: ...


@dataclass(frozen=True)
class MethodContext:
    """What a method factory may use.

    Attributes:
        response: linear response of the sensors to the unknown input (classical methods; the
            neural ones use it only to check the time grid), or None.
        sigma: sensor noise σ in K when known (0 for noise-free data), None when unknown.
        options: method options by name (e.g. ``order``, ``rule``, ``future_steps``,
            ``weights``); a factory rejects options it does not know.
    """

    response: LinearResponse | None = None
    sigma: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)

    def check_options(self, method: str, allowed: Sequence[str]) -> None:
        unknown = sorted(set(self.options) - set(allowed))
        if unknown:
            raise ValueError(
                f"method {method!r}: unknown option(s) {unknown}; it takes {sorted(allowed)}"
            )

    def need_response(self, method: str) -> LinearResponse:
        if self.response is None:
            raise ValueError(f"method {method!r} needs the linear response of the sensors")
        return self.response
