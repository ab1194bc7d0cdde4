"""The trained networks behind the one inverse-method contract (:mod:`thermo.inverse.method`).

:class:`NeuralMethod` wraps a :class:`surrogates.ihcp.estimator.NeuralInverse` (the CNN-GRU
teacher, or the ensemble of distilled students): ``estimate(record)`` reads the record's sensors
in the network's order and its machining parameters, and returns the ensemble mean with the band
mean ± z·sd (students; none for a single network). The networks take all four sensors, so
``subsets`` is False: leave-one-sensor-out does not apply to them.

Registry factories :func:`student_method` and :func:`teacher_method` take the options
``estimator`` (an already built :class:`NeuralInverse`, e.g. freshly retrained), ``weights`` (a
folder with ``student.npz``/``teacher.npz``; default the shipped weights) and ``z``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from thermo.inverse.method import BoundaryEstimate, MethodContext

if TYPE_CHECKING:
    from thermo.inverse.record import SensorRecord

    from .estimator import NeuralInverse


class NeuralMethod:
    """A trained network or ensemble as an inverse method (module docstring)."""

    subsets = False

    def __init__(self, estimator: NeuralInverse, *, name: str | None = None, z: float = 1.96):
        self.estimator = estimator
        self.name = name or estimator.kind
        self.z = float(z)

    def estimate(
        self, record: SensorRecord, *, sensors: Sequence[str] | None = None
    ) -> BoundaryEstimate:
        want = list(self.estimator.sensor_names)
        if sensors is not None and list(sensors) != want:
            raise ValueError(f"{self.name}: the network needs exactly the sensors {want}")
        missing = [n for n in want if n not in record.names]
        if missing:
            raise ValueError(
                f"{self.name}: the record lacks sensors {missing} the network was trained on "
                f"(record has {list(record.names)})"
            )
        measured = record.values[:, record.columns(want)]
        mean, band = self.estimator.estimate(record.times, measured, record.params, z=self.z)
        info = {"members": len(self.estimator.members), "window": self.estimator.window}
        return BoundaryEstimate(times=record.times, values=np.asarray(mean), band=band, info=info)


def _method(kind: str, context: MethodContext) -> NeuralMethod:
    context.check_options(kind, ("estimator", "weights", "z"))
    estimator = context.option("estimator")
    if estimator is None:
        from .estimator import shipped

        estimator = shipped(kind, directory=context.option("weights"))
    return NeuralMethod(estimator, name=kind, z=context.option("z", 1.96))


def student_method(context: MethodContext) -> NeuralMethod:
    """Registry factory: the distilled-student ensemble."""
    return _method("student", context)


def teacher_method(context: MethodContext) -> NeuralMethod:
    """Registry factory: the CNN-GRU teacher."""
    return _method("teacher", context)
