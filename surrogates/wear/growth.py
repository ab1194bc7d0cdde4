r"""Flank-wear growth over successive passes (paper 003, §2.1 and Fig. 1) and wear campaigns.

§2.1 describes three stages: fast initial wear while the edge is rough, a long normal stage of
almost constant rate, and accelerated wear before failure. :class:`WearCurve` writes this as

.. math::
    VB(L) = VB_i\,(1 - e^{-L/L_i}) + r\,L + VB_a\,(L / L_{end})^{m}

with cut length L (m), VB in µm: the first term saturates after a few :math:`L_i` (initial
stage), the second is the steady rate r (µm/m), the third, with a large exponent m, is negligible
until L approaches :math:`L_{end}` and then dominates (accelerated stage). Defaults reach
VB ≈ 300 µm (the ISO 8688-2 end-of-life criterion for uniform flank wear) after
:math:`L_{end}` = 4.2 m, i.e. 60 passes of 70 mm (the paper's milling distance per cut, §4.4).
The parameters are illustrative; the paper publishes no wear curve values.

:func:`wear_campaign` runs several tools to their end of life: each tool draws a wear-rate factor
and a flute-to-flute wear spread from its seed, and every pass yields one
:class:`~surrogates.wear.forces.ForceRecord` labelled with its mean VB.

Without scatter beyond the wear itself, VB would be an almost exact function of the mean forces
and every regressor would score R² ≈ 1. Real campaigns are not like that, so each tool also
draws its own specific cutting force and wear-land stress (factor exp(N(0, ``tool_spread``²)):
edge preparation and coating differ), its run-out (0–``runout_max_mm``, random angle: every
remounting differs); each pass draws a workpiece-hardness factor exp(N(0, ``pass_spread``²));
and the VB label carries the reading scatter of the tool microscope (``label_noise_um``, µm).
These magnitudes are assumptions chosen to give a realistic, imperfect force–wear relation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from surrogates.wear.forces import ForceRecord, MillingSetup, SignalOptions, simulate_record


@dataclass(frozen=True)
class WearCurve:
    """Three-stage flank-wear curve VB(L) (µm) of cut length L (m); see the module docstring."""

    vb_initial_um: float = 60.0
    initial_length_m: float = 0.25
    steady_rate_um_per_m: float = 35.0
    vb_accel_um: float = 90.0
    end_length_m: float = 4.2
    accel_exponent: float = 8.0

    def __post_init__(self) -> None:
        for name in ("initial_length_m", "end_length_m", "accel_exponent"):
            if not getattr(self, name) > 0:
                raise ValueError(f"WearCurve.{name} must be > 0, got {getattr(self, name)}")

    def __call__(self, length_m: np.ndarray | float) -> np.ndarray:
        """VB (µm) at cut lengths ``length_m`` (m, >= 0); same shape as the input."""
        L = np.asarray(length_m, dtype=float)
        if np.any(L < 0):
            raise ValueError("WearCurve: cut length must be >= 0 m")
        return (
            self.vb_initial_um * (1.0 - np.exp(-L / self.initial_length_m))
            + self.steady_rate_um_per_m * L
            + self.vb_accel_um * (L / self.end_length_m) ** self.accel_exponent
        )

    def rate(self, length_m: np.ndarray | float) -> np.ndarray:
        """dVB/dL (µm/m), analytic derivative of :meth:`__call__`."""
        L = np.asarray(length_m, dtype=float)
        return (
            self.vb_initial_um / self.initial_length_m * np.exp(-L / self.initial_length_m)
            + self.steady_rate_um_per_m
            + self.vb_accel_um
            * self.accel_exponent
            / self.end_length_m
            * (L / self.end_length_m) ** (self.accel_exponent - 1.0)
        )


@dataclass(frozen=True)
class CampaignPass:
    """One pass of a campaign: tool index, pass index, cut length so far (m) and its record."""

    tool: int
    index: int
    length_m: float
    record: ForceRecord


def wear_campaign(
    setup: MillingSetup,
    *,
    curve: WearCurve | None = None,
    n_tools: int = 3,
    passes_per_tool: int = 60,
    pass_length_mm: float = 70.0,
    rate_spread: float = 0.15,
    tool_spread: float = 0.08,
    pass_spread: float = 0.04,
    runout_max_mm: float = 0.003,
    label_noise_um: float = 5.0,
    vb_end_um: float = 350.0,
    options: SignalOptions | None = None,
    seed: int = 0,
) -> Iterator[CampaignPass]:
    """Yield the passes of ``n_tools`` tools, each cut ``passes_per_tool`` times.

    Pass k of a tool is labelled with the wear at the middle of that pass,
    VB = curve(s (k + 1/2) ℓ) with ℓ = ``pass_length_mm`` and a tool wear-rate factor
    s = exp(N(0, rate_spread²)); records are generated lazily (a 4 s record is ~2.7 MB).
    """
    if n_tools < 1 or passes_per_tool < 1 or not pass_length_mm > 0:
        raise ValueError("wear_campaign: n_tools, passes_per_tool, pass_length_mm must be > 0")
    curve = curve or WearCurve()
    opt = options or SignalOptions()
    tool_rng = np.random.default_rng(seed)
    for tool in range(n_tools):
        scale = float(np.exp(rate_spread * tool_rng.standard_normal()))
        flute_wear = 1.0 + opt.wear_spread * tool_rng.standard_normal(setup.flutes)
        flute_wear /= flute_wear.mean()
        tool_kc, tool_sigma = np.exp(tool_spread * tool_rng.standard_normal(2))
        tool_setup = replace(
            setup,
            wear_stress_mpa=setup.wear_stress_mpa * float(tool_sigma),
            runout_mm=float(tool_rng.uniform(0.0, runout_max_mm)),
            runout_deg=float(tool_rng.uniform(0.0, 360.0)),
        )
        for k in range(passes_per_tool):
            length = (k + 0.5) * pass_length_mm * 1e-3
            vb = float(curve(scale * length))
            if vb > vb_end_um:
                break
            hardness = float(np.exp(pass_spread * tool_rng.standard_normal()))
            pass_setup = replace(tool_setup, kc11=setup.kc11 * float(tool_kc) * hardness)
            record = simulate_record(
                pass_setup,
                vb_um=vb,
                options=opt,
                flute_wear=flute_wear,
                seed=seed * 1_000_003 + tool * 10_007 + k + 1,
            )
            record.vb_um = max(0.0, vb + label_noise_um * float(tool_rng.standard_normal()))
            record.meta.update(tool=tool, index=k, length_m=length, vb_true_um=vb)
            yield CampaignPass(tool=tool, index=k, length_m=length, record=record)
