r"""Time-averaged cutting-zone (F1) boundary history for end milling Inconel 718 with carbide.

Paper 000 (§3.1, §4.2) prescribes the *average* temperature of the tool cutting region F1, taken
from a calibrated cutting simulation, as the boundary condition of the tool heat-conduction model;
the 27 simulated histories are not published. This module replaces them by a documented
parametric model with the same ingredients: start at ambient, cut in, cut through (≥ 12 s, the
paper renders fields at 4, 8 and 12 s), a steady level that grows with cutting speed, feed and
radial depth, and small slow fluctuations.

What is modelled (and what is not)
----------------------------------
Embedded flank sensors a few millimetres from the edge cannot see the within-revolution
temperature cycle: the thermal penetration depth at the tooth-passing frequency
:math:`f_t = z N / 60` (≈ 13–21 Hz here) is :math:`\delta = \sqrt{\alpha / (\pi f_t)}`
≈ 1 mm in WC–Co (α ≈ 2.6e-5 m²/s), DESIGN.md. The model is therefore the **time-averaged**
boundary history, as in the paper.

Cutting conditions (user units r/min, mm/z, mm):

* cutting speed :math:`V_c = \pi D N / 1000` (m/min), feed speed :math:`V_f = f_z z N` (mm/min);
* engagement chord length :math:`L_{in} = \sqrt{a_e (D - a_e)}` (mm): the tool reaches full radial
  engagement after travelling :math:`L_{in}` at :math:`V_f`, so the cut-in rise time is
  :math:`t_r = 60 L_{in} / V_f` (s), ≈ 1–2.5 s for the paper's factorial.

Temperature form (Dirichlet, the paper's formulation), °C:

.. math::

    T_{F1}(t) = T_0 + \Delta T_{ss}\, E(t)\, [1 + \beta (1 - e^{-(t - t_{in})/\tau_h})]\,
                [1 + \epsilon(t)],

* :math:`E(t)`: engagement ramp, 0 before the cut-in time :math:`t_{in}`, a C¹ smoothstep to 1
  over :math:`t_r`, and back to 0 over :math:`t_r` after an optional cut-out time;
* :math:`\Delta T_{ss} = \Delta T_{ref} (V_c / V_{ref})^{0.40} (f_z / 0.075)^{0.25}
  (a_e / 0.2)^{0.15}`: the empirical power law of metal-cutting temperature
  :math:`\theta = C V^x f^y a^z` with :math:`x > y > z` (Shaw, *Metal Cutting Principles*, 2nd ed.,
  ch. 12; Trent & Wright, *Metal Cutting*, 4th ed., ch. 5); the exponents are mid-range values of
  those texts, chosen, not fitted. :math:`\Delta T_{ref}` = 520 K at :math:`V_{ref}` = 40 m/min
  (N = 509 r/min, D = 25 mm), :math:`f_z` = 0.075 mm/z, :math:`a_e` = 0.2 mm gives ≈ 400–670 °C
  over the factorial. Tool–chip interface temperatures reported for Inconel 718 with carbide at
  low cutting speeds (20–60 m/min; here Vc = 30–50 m/min) are several hundred °C (≈ 500–900 °C;
  Kitagawa, Kubo & Maekawa, Wear 202 (1997) 142–148; Ezugwu, Int. J. Mach. Tools Manuf. 45 (2005)
  1353–1367). Paper 000 prints no F1 values (its Fig. 10 fields are images without readable
  scales in the text we have), so the level is a documented assumption, not a calibration.
  **Assumption**: the paper does not state the tool diameter; D = 25 mm (the two-insert end mill
  of :mod:`meshes.tool`) is the default and a parameter.
* :math:`\beta` = 0.08, :math:`\tau_h` = 5 s: slow rise of the interface temperature as the
  insert itself heats up ("the temperature increases with time", paper §4.2);
* :math:`\epsilon(t)`: zero-mean Gaussian fluctuation of relative standard deviation 3 %,
  low-pass (first-order, correlation time 0.3 s; chip segmentation, run-out and built-up edge on
  the averaged signal), generated from ``seed``.

Heat-input form (Neumann, the more physical alternative), W/m², positive into the tool:

.. math::

    q_{F1}(t) = \frac{\eta\, P_c}{z\, A_{F1}}\, E(t)\,[1 + \epsilon(t)], \qquad
    P_c = \frac{a_p a_e V_f k_c}{60\cdot 10^6}\ \text{kW}, \quad
    k_c = k_{c1.1}\, h_m^{-m_c}, \quad h_m = f_z \sqrt{a_e / D},

with Inconel 718 (aged) :math:`k_{c1.1}` = 2900 N/mm², :math:`m_c` = 0.25 (Sandvik Coromant
*Metal cutting technology* training handbook, ISO S material group, milling power formula), the
share of the cutting power conducted into the tool :math:`\eta` = 0.2 (tool fraction 10–30 % in
cutting of low-conductivity alloys; Trent & Wright ch. 5; Abukhshim et al., Int. J. Mach. Tools
Manuf. 46 (2006) 782–800) and the F1 area :math:`A_{F1} = a_p \times` 0.3 mm contact length
unless given (use the meshed F1 area when it is known). The heat-up factor β is not applied to
q (the heat input does not grow as the tool heats; the temperature does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

#: Reference level of the model (module docstring): ΔT_ref (K) at V_ref (m/min), fz_ref, ae_ref.
DT_REF_K = 520.0
VC_REF_M_MIN = math.pi * 25.0 * 509.0 / 1000.0
FZ_REF_MM = 0.075
AE_REF_MM = 0.2
EXPONENTS = {"vc": 0.40, "fz": 0.25, "ae": 0.15}


@dataclass(frozen=True)
class CuttingConditions:
    """Milling conditions in user units.

    Attributes:
        n_rpm: spindle speed N, r/min.
        fz_mm: feed per tooth, mm/z.
        ae_mm: radial depth of cut, mm.
        diameter_mm: tool diameter D, mm (paper 000 does not state it; 25 mm as meshes.tool).
        ap_mm: axial depth of cut, mm (paper 000 Fig. 1: 8 mm).
        n_teeth: number of inserts z (paper 000: double-edged cutter, 2).
    """

    n_rpm: float
    fz_mm: float
    ae_mm: float
    diameter_mm: float = 25.0
    ap_mm: float = 8.0
    n_teeth: int = 2

    def __post_init__(self) -> None:
        for name in ("n_rpm", "fz_mm", "ae_mm", "diameter_mm", "ap_mm", "n_teeth"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"CuttingConditions: {name} must be positive, got {value!r}")
        if self.ae_mm >= self.diameter_mm:
            raise ValueError(
                f"CuttingConditions: ae_mm={self.ae_mm} must be below diameter_mm="
                f"{self.diameter_mm}"
            )

    @property
    def vc_m_min(self) -> float:
        """Cutting speed Vc = π D N / 1000, m/min."""
        return math.pi * self.diameter_mm * self.n_rpm / 1000.0

    @property
    def vf_mm_min(self) -> float:
        """Feed speed Vf = fz z N, mm/min."""
        return self.fz_mm * self.n_teeth * self.n_rpm

    @property
    def engagement_length_mm(self) -> float:
        """Chord length L_in = √(ae (D − ae)) travelled until full radial engagement, mm."""
        return math.sqrt(self.ae_mm * (self.diameter_mm - self.ae_mm))

    @property
    def rise_time_s(self) -> float:
        """Cut-in rise time t_r = 60 L_in / Vf, s."""
        return 60.0 * self.engagement_length_mm / self.vf_mm_min

    @property
    def tooth_frequency_hz(self) -> float:
        """Tooth-passing frequency z N / 60, Hz."""
        return self.n_teeth * self.n_rpm / 60.0

    def steady_rise_K(self) -> float:
        """Steady cutting-zone temperature rise ΔT_ss above ambient, K (power law, module doc)."""
        return (
            DT_REF_K
            * (self.vc_m_min / VC_REF_M_MIN) ** EXPONENTS["vc"]
            * (self.fz_mm / FZ_REF_MM) ** EXPONENTS["fz"]
            * (self.ae_mm / AE_REF_MM) ** EXPONENTS["ae"]
        )

    def cutting_power_W(self, *, kc11: float = 2900.0, mc: float = 0.25) -> float:
        """Time-averaged cutting power P_c = ap ae Vf kc / 60e6 kW, returned in W."""
        hm = self.fz_mm * math.sqrt(self.ae_mm / self.diameter_mm)
        kc = kc11 * hm ** (-mc)
        return self.ap_mm * self.ae_mm * self.vf_mm_min * kc / 60.0e6 * 1.0e3


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """C¹ ramp 3x² − 2x³ clipped to [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def engagement(
    t: np.ndarray, *, t_in: float, rise_time: float, t_out: float | None = None
) -> np.ndarray:
    """Engagement ramp E(t) in [0, 1], shape of ``t``: smoothstep in over ``rise_time`` from
    ``t_in`` (s), and out over ``rise_time`` from ``t_out`` (s) when given."""
    t = np.asarray(t, dtype=float)
    e = _smoothstep((t - t_in) / rise_time)
    if t_out is not None:
        e = e * (1.0 - _smoothstep((t - t_out) / rise_time))
    return e


def fluctuation(
    t: np.ndarray, *, seed: int, rel_std: float = 0.03, corr_time_s: float = 0.3
) -> np.ndarray:
    """Relative fluctuation ε(t), shape of ``t``: first-order low-passed Gaussian noise.

    Generated on a fine uniform grid (≤ corr_time/20) over [min t, max t] with a discrete AR(1)
    process of stationary standard deviation ``rel_std`` and time constant ``corr_time_s``, then
    interpolated to ``t``; so the values do not depend on how finely ``t`` samples the interval.
    """
    t = np.asarray(t, dtype=float)
    if rel_std == 0.0 or t.size == 0:
        return np.zeros_like(t)
    t0, t1 = float(np.min(t)), float(np.max(t))
    h = corr_time_s / 20.0
    n = max(2, int(math.ceil((t1 - t0) / h)) + 1)
    grid = np.linspace(t0, t0 + (n - 1) * h, n)
    a = math.exp(-h / corr_time_s)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(n) * rel_std * math.sqrt(1.0 - a * a)
    x0 = rng.standard_normal() * rel_std
    eps, _ = signal.lfilter([1.0], [1.0, -a], w, zi=np.array([a * x0]))
    return np.interp(t, grid, eps)


def _conditions(n_rpm, fz_mm, ae_mm, diameter_mm, ap_mm, n_teeth) -> CuttingConditions:
    return CuttingConditions(
        n_rpm=n_rpm,
        fz_mm=fz_mm,
        ae_mm=ae_mm,
        diameter_mm=diameter_mm,
        ap_mm=ap_mm,
        n_teeth=n_teeth,
    )


def f1_temperature(
    t: np.ndarray,
    *,
    n_rpm: float,
    fz_mm: float,
    ae_mm: float,
    diameter_mm: float = 25.0,
    ap_mm: float = 8.0,
    n_teeth: int = 2,
    seed: int = 0,
    T0: float = 20.0,
    t_in: float = 0.5,
    t_out: float | None = None,
    heatup: float = 0.08,
    heatup_time_s: float = 5.0,
    rel_fluctuation: float = 0.03,
) -> np.ndarray:
    """Time-averaged cutting-zone temperature T_F1(t), °C, shape of ``t`` (s).

    Model and sources in the module docstring. ``T0`` ambient °C, ``t_in`` cut-in time s,
    ``t_out`` optional cut-out time s, ``heatup``/``heatup_time_s`` the slow heat-up factor β and
    τ_h, ``rel_fluctuation`` the relative standard deviation of ε(t) (0 switches it off),
    ``seed`` the fluctuation seed. Equals ``T0`` for t ≤ t_in.
    """
    cond = _conditions(n_rpm, fz_mm, ae_mm, diameter_mm, ap_mm, n_teeth)
    t = np.asarray(t, dtype=float)
    e = engagement(t, t_in=t_in, rise_time=cond.rise_time_s, t_out=t_out)
    grow = 1.0 + heatup * (1.0 - np.exp(-np.clip(t - t_in, 0.0, None) / heatup_time_s))
    eps = fluctuation(t, seed=seed, rel_std=rel_fluctuation)
    return T0 + cond.steady_rise_K() * e * grow * (1.0 + eps)


def f1_heat_flux(
    t: np.ndarray,
    *,
    n_rpm: float,
    fz_mm: float,
    ae_mm: float,
    diameter_mm: float = 25.0,
    ap_mm: float = 8.0,
    n_teeth: int = 2,
    seed: int = 0,
    area_m2: float | None = None,
    tool_fraction: float = 0.2,
    contact_length_mm: float = 0.3,
    t_in: float = 0.5,
    t_out: float | None = None,
    rel_fluctuation: float = 0.03,
) -> np.ndarray:
    """Time-averaged heat flux into the tool through F1, W/m², shape of ``t`` (s).

    q = η P_c / (z A_F1) · E(t) · (1 + ε(t)) (module docstring). ``area_m2`` is the F1 area of one
    insert; default ap × ``contact_length_mm``. Same ``seed`` → same ε(t) as
    :func:`f1_temperature`, so both forms describe the same virtual cut. Zero for t ≤ t_in.
    """
    cond = _conditions(n_rpm, fz_mm, ae_mm, diameter_mm, ap_mm, n_teeth)
    if area_m2 is None:
        area_m2 = ap_mm * contact_length_mm * 1e-6
    if not (math.isfinite(area_m2) and area_m2 > 0):
        raise ValueError(f"f1_heat_flux: area_m2 must be positive, got {area_m2!r}")
    if not 0.0 < tool_fraction <= 1.0:
        raise ValueError(f"f1_heat_flux: tool_fraction must be in (0, 1], got {tool_fraction!r}")
    t = np.asarray(t, dtype=float)
    q_ss = tool_fraction * cond.cutting_power_W() / (cond.n_teeth * area_m2)
    e = engagement(t, t_in=t_in, rise_time=cond.rise_time_s, t_out=t_out)
    eps = fluctuation(t, seed=seed, rel_std=rel_fluctuation)
    return q_ss * e * (1.0 + eps)
