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

Histories the machining parameters do not determine (issue 14)
--------------------------------------------------------------
The level model above is a deterministic function of (N, fz, ae) up to ε(t): a regressor on the
parameters alone predicts it almost perfectly. A real record also depends on when the tool
enters and leaves the workpiece, interruptions of the cut, feed changes and wear.
:class:`F1Variability` (switches, ranges, sources), :func:`draw_realisation`
(:class:`F1Realisation`, seeded by ``SeedSequence([seed, case, F1_STREAM, r, tag])``),
:func:`f1_history` and :func:`random_f1_history` draw such histories on top of the level model,
whose parameter dependence they keep; the functions above keep their defaults and numbers.
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


# --------------------------------------------------------------------------------------------
# F1 histories the machining parameters do not determine (issue 14)
# --------------------------------------------------------------------------------------------

#: Seed stream of the random realisations: ``SeedSequence([seed, case, F1_STREAM, r, tag])``
#: (tag 1: the draw of :class:`F1Realisation`, tag 2: the fluctuation ε(t)). Streams 0 and 1 are
#: the data set's F1 and noise seeds (:mod:`thermo.inverse.dataset`); the tags are non-zero
#: because ``SeedSequence`` ignores trailing zeros (``[a, b, 0]`` and ``[a, b]`` give one state).
F1_STREAM = 2


@dataclass(frozen=True)
class F1Variability:
    r"""Which random effects a realisation has, and the ranges they are drawn from.

    Every effect is switchable; with all of them off a realisation is today's
    :func:`f1_temperature` / :func:`f1_heat_flux` history (cut-in at ``nominal_t_in_s``, no
    cut-out) with its own fluctuation seed. Draws are uniform in the ranges unless stated.

    **Engagement entry and exit** (``entry``, ``exit``). The tool enters the workpiece at
    :math:`t_{in}` ∈ ``entry_range_s`` (a record starts when the DAQ is triggered, not when the
    edge touches the workpiece: approach distance, workpiece edge position and trigger delay are
    not known to the inverse), and with probability ``exit_prob`` leaves before the end of the
    window at :math:`t_{out}` ∈ ``exit_range_s`` (the workpiece ends or the path leaves the part;
    paper 000 §3.1 cuts its records at the cut-out, so an exit inside a record is what a user's
    own records have). Cut-in and cut-out ramps keep the model's chord-travel time
    :math:`t_r = 60 L_{in}/V_f`. Ranges: our assumption, chosen so that entry and exit vary by
    seconds within the 12 s window (paper 000 renders 4, 8, 12 s).

    **Interrupted cut** (``gaps``). ``n_gaps_range`` (inclusive integers) air gaps of length
    ∈ ``gap_length_range_s`` each, placed at random in the fully engaged part of the cut with at
    least ``gap_min_separation_s`` between gaps and from its ends (workpieces with holes, slots or
    parted sections; a wall milled with ribs). In a gap the heat input is zero and the zone's
    time-averaged temperature relaxes toward ambient with a first-order time constant
    :math:`\tau_z` ∈ ``zone_tau_range_s``; after the gap it relaxes back to the cutting level with
    the same :math:`\tau_z`. Physics: the zone temperature is the time-averaged boundary history
    (DESIGN.md): it cannot follow faster than a few tooth periods :math:`1/f_t` ≈ 0.05–0.08 s,
    and the heated layer under the contact (penetration depth δ ≈ 1 mm at the tooth frequency)
    cools on its diffusion time δ²/α ≈ 0.04 s (α ≈ 2.6e-5 m²/s, WC–Co); tool temperatures in
    interrupted cutting fall quickly in the non-cutting period (Stephenson & Ali, ASME J. Eng. Ind.
    114 (1992) 127–136; Palmai, Int. J. Mach. Tools Manuf. 27 (1987) 261–274). The numbers
    0.05–0.3 s, the gap lengths and their count are our assumptions. Relaxing toward *ambient*
    (not toward the warm tool body around the zone) slightly overstates the cooling of long gaps;
    accepted as the brief's simplification. Gap edges are abrupt at the scale of τ_z (an edge of
    a feature crossing the contact arc would ramp over L_in/V_f like the cut-in; assumption).

    **Feed change** (``feed_change``). With probability ``feed_change_prob`` the feed per tooth
    steps at a time in the fully engaged cut by a factor :math:`r_f` log-uniform in
    ``feed_factor_range`` (an operator's feed override, an adaptive feed control or a CAM feed
    change at a corner). The level follows the model's :math:`f_z` dependence: temperature rise
    × :math:`r_f^{0.25}` (``EXPONENTS["fz"]``), heat input × the ratio of the cutting powers
    (:math:`\propto f_z^{1-m_c}` = :math:`r_f^{0.75}`); the temperature approaches the new level
    with :math:`\tau_z`, the heat input steps. Range ±50 % (1/1.5–1.5): our assumption (CNC feed
    override dials span 0–150 %).

    **Flank-wear heating** (``wear``). The level grows linearly from the cut-in to the end of the
    window by a total fraction ∈ ``wear_rise_range`` (3–15 %). Flank wear adds a rubbing heat
    source on the clearance face, and the cutting temperature rises with the wear land width
    (Trent & Wright, *Metal Cutting*, 4th ed., ch. 5 and 9; Shaw, *Metal Cutting Principles*,
    ch. 12). Inconel 718 wears carbide fast at 30–50 m/min (tool lives of minutes; Ezugwu 2005,
    module docstring), so a record from a fresh or a worn edge drifts upward within 12 s; the
    3–15 % over one record is our assumption, not a measured rate. Applied equally to the
    temperature rise and the heat input (the model is linear in the heat input).
    """

    t_end_s: float = 12.0
    entry: bool = True
    nominal_t_in_s: float = 0.5
    entry_range_s: tuple[float, float] = (0.2, 3.0)
    exit: bool = True
    exit_prob: float = 0.5
    exit_range_s: tuple[float, float] = (7.0, 11.0)
    gaps: bool = True
    n_gaps_range: tuple[int, int] = (0, 3)
    gap_length_range_s: tuple[float, float] = (0.2, 1.0)
    gap_min_separation_s: float = 0.5
    zone_tau_range_s: tuple[float, float] = (0.05, 0.3)
    feed_change: bool = True
    feed_change_prob: float = 0.5
    feed_factor_range: tuple[float, float] = (1.0 / 1.5, 1.5)
    wear: bool = True
    wear_rise_range: tuple[float, float] = (0.03, 0.15)

    def __post_init__(self) -> None:
        def positive(name: str) -> None:
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"F1Variability: {name} must be > 0, got {v!r}")

        def interval(name: str, lo_min: float = 0.0) -> None:
            lo, hi = getattr(self, name)
            if not (math.isfinite(lo) and math.isfinite(hi) and lo_min <= lo <= hi):
                raise ValueError(
                    f"F1Variability: {name} must be (lo, hi) with {lo_min:g} <= lo <= hi, "
                    f"got {getattr(self, name)!r}"
                )

        positive("t_end_s")
        positive("nominal_t_in_s")
        for name in ("entry_range_s", "exit_range_s", "gap_length_range_s", "zone_tau_range_s"):
            interval(name)
        interval("wear_rise_range")
        lo, hi = self.n_gaps_range
        if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi):
            raise ValueError(
                f"F1Variability: n_gaps_range must be integers 0 <= lo <= hi, got "
                f"{self.n_gaps_range!r}"
            )
        lo, hi = self.feed_factor_range
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
            raise ValueError(
                f"F1Variability: feed_factor_range must be 0 < lo <= hi, got "
                f"{self.feed_factor_range!r}"
            )
        for name in ("exit_prob", "feed_change_prob"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"F1Variability: {name} must be in [0, 1], got {v!r}")
        if not (math.isfinite(self.gap_min_separation_s) and self.gap_min_separation_s >= 0):
            raise ValueError("F1Variability: gap_min_separation_s must be >= 0")
        if self.entry and self.entry_range_s[1] >= self.t_end_s:
            raise ValueError("F1Variability: entry_range_s must end before t_end_s")
        if self.exit and self.exit_range_s[1] >= self.t_end_s:
            raise ValueError("F1Variability: exit_range_s must end before t_end_s")
        if self.nominal_t_in_s >= self.t_end_s:
            raise ValueError("F1Variability: nominal_t_in_s must be before t_end_s")

    @classmethod
    def none(cls, **overrides) -> F1Variability:
        """Every effect off (today's history); ``overrides`` switch single ones back on."""
        return cls(
            **{"entry": False, "exit": False, "gaps": False, "feed_change": False, "wear": False}
            | overrides
        )

    def as_meta(self) -> dict:
        """Plain-JSON description (switches and ranges) for a data set's metadata."""
        from dataclasses import asdict

        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class F1Realisation:
    """One random realisation of the cutting-zone history of a case (:class:`F1Variability`).

    Attributes:
        seed, case, r: data-set seed, case number and realisation index it was drawn for.
        t_in_s: cut-in time, s.
        t_out_s: cut-out time, s, or None (cuts to the end of the window).
        gaps_s: air gaps as ((start, end), ...) s, sorted, inside the engaged cut.
        zone_tau_s: time constant τ_z of the zone's temperature toward its target level, s.
        feed_change_s: time of the feed step, s, or None.
        feed_factor: new fz / case fz after the step (1.0 without a step).
        wear_rate_per_s: fractional growth of the level per second after cut-in (0 for none).
        fluctuation_seed: seed of ε(t) (:func:`fluctuation`).
    """

    seed: int
    case: int
    r: int
    t_in_s: float
    t_out_s: float | None
    gaps_s: tuple[tuple[float, float], ...]
    zone_tau_s: float
    feed_change_s: float | None
    feed_factor: float
    wear_rate_per_s: float
    fluctuation_seed: int

    def as_meta(self) -> dict:
        """Plain-JSON description (for a record's or data set's metadata)."""
        return {
            "seed": int(self.seed),
            "case": int(self.case),
            "r": int(self.r),
            "t_in_s": float(self.t_in_s),
            "t_out_s": None if self.t_out_s is None else float(self.t_out_s),
            "gaps_s": [[float(a), float(b)] for a, b in self.gaps_s],
            "zone_tau_s": float(self.zone_tau_s),
            "feed_change_s": None if self.feed_change_s is None else float(self.feed_change_s),
            "feed_factor": float(self.feed_factor),
            "wear_rate_per_s": float(self.wear_rate_per_s),
            "fluctuation_seed": int(self.fluctuation_seed),
        }


def realisation_seed(seed: int, case: int, r: int, tag: int) -> int:
    """Integer seed ``SeedSequence([seed, case, F1_STREAM, r, tag])`` (tag 1 draw, 2 ε(t))."""
    if tag == 0:
        raise ValueError("realisation_seed: tag must be non-zero (SeedSequence drops zeros)")
    return int(np.random.SeedSequence([seed, case, F1_STREAM, r, tag]).generate_state(1)[0])


def draw_realisation(
    conditions: CuttingConditions,
    *,
    seed: int,
    case: int,
    r: int,
    variability: F1Variability | None = None,
) -> F1Realisation:
    """Draw realisation ``r`` of case ``case`` (seed rule :data:`F1_STREAM`).

    ``conditions`` gives the cut-in rise time t_r, which sets where the fully engaged cut (gaps,
    feed change) lies. Every effect draws from the generator whether it is switched on or not,
    so switching one effect off leaves the others' draws unchanged.
    """
    var = F1Variability() if variability is None else variability
    for name, v in (("seed", seed), ("case", case), ("r", r)):
        if not (isinstance(v, int | np.integer) and v >= 0):
            raise ValueError(f"draw_realisation: {name} must be an integer >= 0, got {v!r}")
    rng = np.random.default_rng(realisation_seed(seed, case, r, 1))
    t_r = conditions.rise_time_s
    # fixed number of draws per effect, in this order (reproducible when switches change)
    u_in = rng.uniform(*var.entry_range_s)
    exit_u, u_out = rng.uniform(), rng.uniform(*var.exit_range_s)
    n_g = int(rng.integers(var.n_gaps_range[0], var.n_gaps_range[1] + 1))
    max_g = var.n_gaps_range[1]
    lengths_all = rng.uniform(*var.gap_length_range_s, size=max_g)
    spacing_all = rng.dirichlet(np.ones(max_g + 1)) if max_g > 0 else np.ones(1)
    tau = rng.uniform(*var.zone_tau_range_s)
    feed_u, feed_t_u = rng.uniform(), rng.uniform()
    lo, hi = var.feed_factor_range
    factor = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    wear_rise = rng.uniform(*var.wear_rise_range)

    t_in = float(u_in) if var.entry else var.nominal_t_in_s
    t_out = None
    if var.exit and exit_u < var.exit_prob and u_out > t_in + t_r:
        t_out = float(u_out)
    full_start = t_in + t_r
    full_end = var.t_end_s if t_out is None else t_out
    gaps: list[tuple[float, float]] = []
    if var.gaps and n_g > 0:
        sep = var.gap_min_separation_s
        lengths = lengths_all[:n_g]
        free = full_end - full_start - lengths.sum() - (n_g + 1) * sep
        while n_g > 0 and free <= 0:  # too short a cut for this many gaps: drop the last ones
            n_g -= 1
            lengths = lengths_all[:n_g]
            free = full_end - full_start - lengths.sum() - (n_g + 1) * sep
        if n_g > 0:
            spacing = spacing_all[: n_g + 1] / spacing_all[: n_g + 1].sum() * free
            start = full_start
            for k in range(n_g):
                start += sep + spacing[k]
                gaps.append((float(start), float(start + lengths[k])))
                start += lengths[k]
    t_feed = None
    if var.feed_change and feed_u < var.feed_change_prob and full_end - 1.0 > full_start:
        t_feed = float(full_start + feed_t_u * (full_end - 1.0 - full_start))
    else:
        factor = 1.0
    wear_rate = float(wear_rise / (var.t_end_s - t_in)) if var.wear else 0.0
    return F1Realisation(
        seed=int(seed),
        case=int(case),
        r=int(r),
        t_in_s=t_in,
        t_out_s=t_out,
        gaps_s=tuple(gaps),
        zone_tau_s=float(tau),
        feed_change_s=t_feed,
        feed_factor=float(factor),
        wear_rate_per_s=wear_rate,
        fluctuation_seed=realisation_seed(seed, case, r, 2),
    )


def _piecewise_target(
    t: np.ndarray, breaks: list[float], levels: list[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Index of the last break ≤ t (−1 before the first) and the level in force at t."""
    idx = np.searchsorted(np.asarray(breaks, dtype=float), t, side="right") - 1
    lv = np.asarray(levels, dtype=float)
    return idx, lv[idx + 1]


def _level_factor(
    t: np.ndarray, real: F1Realisation, feed_level: float, *, lag: bool
) -> np.ndarray:
    """Multiplier of the cutting level from gaps and the feed step, shape of ``t``.

    Target u(t): 1 before the feed step, ``feed_level`` after it, 0 inside gaps. With ``lag``
    the factor follows u with the exact first-order response of time constant τ_z (analytic
    between the breaks, so it does not depend on how finely ``t`` samples them); without, it is
    u itself (the heat input).
    """
    events: list[tuple[float, str]] = [(a, "gap_on") for a, _ in real.gaps_s]
    events += [(b, "gap_off") for _, b in real.gaps_s]
    if real.feed_change_s is not None:
        events.append((real.feed_change_s, "feed"))
    events.sort()
    breaks, levels = [], [1.0]
    in_gap, feed = False, 1.0
    for time, what in events:
        if what == "gap_on":
            in_gap = True
        elif what == "gap_off":
            in_gap = False
        else:
            feed = feed_level
        breaks.append(time)
        levels.append(0.0 if in_gap else feed)
    idx, target = _piecewise_target(t, breaks, levels)
    if not lag or real.zone_tau_s <= 0 or not breaks:
        return target
    # factor at each break, from the exact solution on the previous interval
    m_at = [1.0]  # value at the first break (the level before it is 1 and m started there)
    for k in range(1, len(breaks)):
        dt = breaks[k] - breaks[k - 1]
        u = levels[k]
        m_at.append(u + (m_at[-1] - u) * math.exp(-dt / real.zone_tau_s))
    out = target.copy()
    after = idx >= 0
    j = idx[after]
    m0 = np.asarray(m_at)[j]
    tb = np.asarray(breaks)[j]
    out[after] = target[after] + (m0 - target[after]) * np.exp(-(t[after] - tb) / real.zone_tau_s)
    return out


def f1_history(
    t: np.ndarray,
    realisation: F1Realisation,
    *,
    n_rpm: float,
    fz_mm: float,
    ae_mm: float,
    kind: str = "temperature",
    diameter_mm: float = 25.0,
    ap_mm: float = 8.0,
    n_teeth: int = 2,
    T0: float = 20.0,
    **model_options,
) -> np.ndarray:
    r"""Cutting-zone history of one realisation, shape of ``t`` (s): °C or W/m².

    Built on the level model: ``kind="temperature"`` takes :func:`f1_temperature` (cut-in at
    ``realisation.t_in_s``, cut-out at ``t_out_s``, ε(t) from ``fluctuation_seed``) and scales
    its rise above ``T0`` by the gap/feed factor (first-order with τ_z, :class:`F1Variability`)
    and the wear ramp :math:`1 + w\,(t - t_{in})^+`; ``kind="flux"`` takes
    :func:`f1_heat_flux` and scales it by the same factors without the lag (the heat input
    stops and steps at once) and with the cutting-power ratio for the feed step, so both forms
    describe the same virtual cut. ``model_options`` go to the level model (e.g. ``heatup``,
    ``rel_fluctuation``, ``area_m2``). A realisation with no effects gives the level model's
    history exactly.

    Simplification: the cut-in and cut-out ramps keep the rise time t_r of the case's feed (a
    feed step before the cut-out would change the chord-travel time of the exit by the factor
    1/r_f; neglected).
    """
    cond = _conditions(n_rpm, fz_mm, ae_mm, diameter_mm, ap_mm, n_teeth)
    t = np.asarray(t, dtype=float)
    common = dict(
        n_rpm=n_rpm,
        fz_mm=fz_mm,
        ae_mm=ae_mm,
        diameter_mm=diameter_mm,
        ap_mm=ap_mm,
        n_teeth=n_teeth,
        seed=realisation.fluctuation_seed,
        t_in=realisation.t_in_s,
        t_out=realisation.t_out_s,
        **model_options,
    )
    changed = CuttingConditions(
        n_rpm=n_rpm,
        fz_mm=fz_mm * realisation.feed_factor,
        ae_mm=ae_mm,
        diameter_mm=diameter_mm,
        ap_mm=ap_mm,
        n_teeth=n_teeth,
    )
    wear = 1.0 + realisation.wear_rate_per_s * np.clip(t - realisation.t_in_s, 0.0, None)
    if kind == "temperature":
        base = f1_temperature(t, T0=T0, **common)
        feed_level = changed.steady_rise_K() / cond.steady_rise_K()
        factor = _level_factor(t, realisation, feed_level, lag=True)
        return T0 + (base - T0) * factor * wear
    if kind == "flux":
        base = f1_heat_flux(t, **common)
        feed_level = changed.cutting_power_W() / cond.cutting_power_W()
        factor = _level_factor(t, realisation, feed_level, lag=False)
        return base * factor * wear
    raise ValueError(f"f1_history: kind must be 'temperature' or 'flux', got {kind!r}")


def random_f1_history(
    t: np.ndarray,
    *,
    n_rpm: float,
    fz_mm: float,
    ae_mm: float,
    seed: int,
    case: int,
    r: int,
    kind: str = "temperature",
    variability: F1Variability | None = None,
    diameter_mm: float = 25.0,
    ap_mm: float = 8.0,
    n_teeth: int = 2,
    T0: float = 20.0,
    **model_options,
) -> tuple[np.ndarray, F1Realisation]:
    """Draw realisation ``r`` of case ``case`` and return ``(history, realisation)``.

    ``history`` has the shape of ``t`` (°C for ``kind="temperature"``, W/m² for ``"flux"``);
    store ``realisation.as_meta()`` (and ``variability.as_meta()``) with the record. Same
    (seed, case, r, variability) → same history; the temperature and flux forms of one
    (seed, case, r) are the same cut.
    """
    cond = _conditions(n_rpm, fz_mm, ae_mm, diameter_mm, ap_mm, n_teeth)
    real = draw_realisation(cond, seed=seed, case=case, r=r, variability=variability)
    hist = f1_history(
        t,
        real,
        n_rpm=n_rpm,
        fz_mm=fz_mm,
        ae_mm=ae_mm,
        kind=kind,
        diameter_mm=diameter_mm,
        ap_mm=ap_mm,
        n_teeth=n_teeth,
        T0=T0,
        **model_options,
    )
    return hist, real
