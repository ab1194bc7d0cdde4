"""A toy inverse method for the registry tests: the quasi-steady inverse.

u(t) = u_base + mean_p (y_p(t) − y0_p) / g_p over the chosen sensors, with g_p the steady-state
gain of sensor p (last row of its step response). Exact for a step input once the sensors have
settled; biased during transients. One file, one registry line: what adding a method takes.
"""

from __future__ import annotations

import numpy as np

from thermo.inverse.method import BoundaryEstimate, MethodContext


class QuasiSteady:
    name = "quasi-steady"
    subsets = True

    def __init__(self, context: MethodContext) -> None:
        context.check_options(self.name, ())
        self.response = context.need_response(self.name)

    def estimate(self, record, *, sensors=None) -> BoundaryEstimate:
        names = list(record.names) if sensors is None else list(sensors)
        cols = [self.response.probe_names.index(n) for n in names]
        gains = self.response.step[-1, cols]
        data = record.values[:, record.columns(names)]
        base = self.response.T0 if self.response.kind == "temperature" else 0.0
        u = np.mean((data - self.response.T0) / gains, axis=1)
        return BoundaryEstimate(record.times, base + u, info={"gains": gains.tolist()})


def factory(context: MethodContext) -> QuasiSteady:
    return QuasiSteady(context)
