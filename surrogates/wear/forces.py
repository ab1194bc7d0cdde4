r"""Mechanistic end-milling force model with flank-wear forces: the force "virtual experiment".

Paper 003 (Lin & Hsieh 2024, §3.1, Tables 1–2) side-mills SKD11 (~60 HRC) with a 4-flute Ø6 mm
TiAlN carbide end mill, ap = 10 mm, n = 8000–10 000 r/min, ae = 0.1–0.5 mm, F = 1000–2000 mm/min,
and samples Fx, Fy, Fz at 50 kHz. Its data are not public, so this module produces the same kind
of signals from the linear edge-force model of Altintas (*Manufacturing Automation*, 2nd ed.,
§2.3):

.. math::

    dF_t = (K_{tc} h + K_{te})\,dz,\quad dF_r = (K_{rc} h + K_{re})\,dz,\quad
    dF_a = (K_{ac} h + K_{ae})\,dz,\qquad h = f_z \sin\varphi + \Delta h_j

    F_x = \sum_{j,z} g_j(-dF_t\cos\varphi - dF_r\sin\varphi),\quad
    F_y = \sum_{j,z} g_j(dF_t\sin\varphi - dF_r\cos\varphi),\quad F_z = \sum_{j,z} g_j dF_a

with the immersion angle of flute j at height z, :math:`\varphi_j = \Omega t + j\varphi_p -
z\tan\beta / R` (measured clockwise from +y, x = feed direction), :math:`g_j = 1` inside
:math:`[\varphi_{st}, \varphi_{ex}]` (up milling: 0 to :math:`\arccos(1 - 2a_e/D)`; down milling:
:math:`\pi - \arccos(1 - 2a_e/D)` to π) and helix by axial discretisation (slices of ``dz``).
Units: forces N, coefficients N/mm² (cutting) and N/mm (edge), lengths mm.

Coefficients. Tool catalogues give Kienzle's specific cutting force
:math:`k_c = k_{c1.1} h^{-m_c}` with :math:`k_{c1.1} \approx 4700` N/mm², :math:`m_c \approx 0.25`
for ~60 HRC steel (Sandvik Coromant ISO-H data). :func:`kienzle_to_linear` least-squares fits
:math:`k_{c1.1} h^{1-m_c} \approx K_{te} + K_{tc} h` over the chip-thickness range of the cut, so
the size effect becomes the edge term. Radial and axial coefficients are fixed ratios of the
tangential ones (0.6 and 0.25, typical of hard milling with a 35° helix; the paper gives no force
coefficients, so these ratios are assumptions). For other hardness the specific force is scaled
in proportion to hardness (flow stress ∝ hardness, Tabor), used for the PHM 2010 sanity check.

Wear. Flank wear VB adds rubbing/ploughing forces on the wear land, proportional to VB as in
Waldorf's and Smithey–Kapoor–DeVor's worn-tool models in their elastic regime: a normal stress
:math:`\sigma_w` on the land (N/mm² = MPa) and friction :math:`\mu_w` give extra edge coefficients
:math:`\Delta K_{re} = \sigma_w VB`, :math:`\Delta K_{te} = \mu_w \sigma_w VB`,
:math:`\Delta K_{ae} = \mu_a \sigma_w VB` (VB in mm). :math:`\sigma_w = 300` MPa, :math:`\mu_w =
0.4` are chosen so that the peak resultant roughly doubles between a sharp tool and VB = 0.2 mm,
the trend reported in hard-milling wear studies; they are not fitted to the paper (which gives
no forces), and in finishing cuts with chips of a few µm the wear-land term dominates quickly.

Realism: radial run-out ρ at angle λ shifts the chip load per flute (Kline & DeVor 1983):
:math:`\Delta h_j = r_j - r_{j-1}`, :math:`r_j = \rho\cos(\lambda - j\varphi_p)`; per-flute wear
differs; each tooth pass has a small random load jitter; a white measurement noise and a slow
charge-amplifier drift are added; the tool enters and leaves the workpiece (a smooth engagement
ramp over one tool radius of travel, with air cutting before and after), portions that the
feature pipeline trims (paper Fig. 7). The force of one revolution is tabulated on an angle grid
and interpolated at the sampling instants, so a 4 s record costs milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

#: Kienzle specific cutting force of SKD11 at ~60 HRC (N/mm²) and its exponent (tool catalogues).
KC11_SKD11 = 4700.0
MC_SKD11 = 0.25
HRC_SKD11 = 60.0


@dataclass(frozen=True)
class MillingSetup:
    """Tool, cut and material of one side-milling pass (user units: mm, r/min, mm/min).

    Attributes:
        diameter_mm: tool diameter D.
        flutes: number of flutes Nt.
        helix_deg: helix angle β.
        ap_mm: axial depth of cut.
        ae_mm: radial depth of cut (0 < ae <= D).
        spindle_rpm: spindle speed n.
        feed_mm_min: table feed F; feed per tooth fz = F / (n Nt).
        down_milling: True for down (climb) milling, False for up milling.
        kc11: Kienzle k_c1.1 (N/mm²) at ``hardness_hrc``; mc: Kienzle exponent.
        hardness_hrc: workpiece hardness; the specific force scales as hardness / 60 HRC.
        radial_ratio, axial_ratio: K_r / K_t and K_a / K_t (cutting and edge parts alike).
        wear_stress_mpa, wear_friction, wear_axial: σ_w, μ_w, μ_a of the wear-land forces.
        runout_mm, runout_deg: run-out offset ρ and its angle λ.
        dz_mm: axial slice thickness of the helix discretisation.
    """

    diameter_mm: float = 6.0
    flutes: int = 4
    helix_deg: float = 35.0
    ap_mm: float = 10.0
    ae_mm: float = 0.1
    spindle_rpm: float = 10_000.0
    feed_mm_min: float = 1000.0
    down_milling: bool = True
    kc11: float = KC11_SKD11
    mc: float = MC_SKD11
    hardness_hrc: float = HRC_SKD11
    radial_ratio: float = 0.6
    axial_ratio: float = 0.25
    wear_stress_mpa: float = 300.0
    wear_friction: float = 0.4
    wear_axial: float = 0.1
    runout_mm: float = 0.001
    runout_deg: float = 30.0
    dz_mm: float = 0.05

    def __post_init__(self) -> None:
        positive = ("diameter_mm", "ap_mm", "ae_mm", "spindle_rpm", "feed_mm_min", "kc11", "dz_mm")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"MillingSetup.{name} must be > 0, got {getattr(self, name)}")
        if self.ae_mm > self.diameter_mm:
            raise ValueError(f"MillingSetup.ae_mm={self.ae_mm} exceeds the tool diameter")
        if self.flutes < 1:
            raise ValueError(f"MillingSetup.flutes must be >= 1, got {self.flutes}")

    @property
    def fz_mm(self) -> float:
        """Feed per tooth (mm)."""
        return self.feed_mm_min / (self.spindle_rpm * self.flutes)

    @property
    def spindle_hz(self) -> float:
        """Spindle rotation frequency n / 60 (Hz)."""
        return self.spindle_rpm / 60.0

    @property
    def tooth_hz(self) -> float:
        """Tooth-passing frequency Nt n / 60 (Hz)."""
        return self.flutes * self.spindle_hz

    @property
    def engagement(self) -> tuple[float, float]:
        """Start and exit immersion angles (rad) φ_st, φ_ex."""
        width = float(np.arccos(1.0 - 2.0 * self.ae_mm / self.diameter_mm))
        return (np.pi - width, np.pi) if self.down_milling else (0.0, width)


@dataclass(frozen=True)
class ForceCoefficients:
    """Linear edge-force coefficients: cutting (N/mm²) and edge (N/mm) parts."""

    ktc: float
    krc: float
    kac: float
    kte: float
    kre: float
    kae: float

    def with_wear(self, *, vb_mm: float, setup: MillingSetup) -> ForceCoefficients:
        """Coefficients with the wear-land edge forces of flank wear ``vb_mm`` added."""
        if vb_mm < 0:
            raise ValueError(f"flank wear VB must be >= 0 mm, got {vb_mm}")
        normal = setup.wear_stress_mpa * vb_mm
        return replace(
            self,
            kte=self.kte + setup.wear_friction * normal,
            kre=self.kre + normal,
            kae=self.kae + setup.wear_axial * normal,
        )


def kienzle_to_linear(
    *, kc11: float, mc: float, h_min_mm: float, h_max_mm: float, n_points: int = 200
) -> tuple[float, float]:
    r"""Least-squares line :math:`K_{te} + K_{tc} h` through :math:`k_{c1.1} h^{1-m_c}` on
    :math:`h \in [h_{min}, h_{max}]` (mm); returns ``(ktc [N/mm²], kte [N/mm])``."""
    if not 0 < h_min_mm < h_max_mm:
        raise ValueError(f"need 0 < h_min_mm < h_max_mm, got {h_min_mm}, {h_max_mm}")
    h = np.linspace(h_min_mm, h_max_mm, n_points)
    slope, intercept = np.polyfit(h, kc11 * h ** (1.0 - mc), 1)
    return float(slope), float(intercept)


def coefficients_for(setup: MillingSetup) -> ForceCoefficients:
    """Sharp-tool coefficients of ``setup``: Kienzle fitted over its chip-thickness range."""
    phi_st, phi_ex = setup.engagement
    sin_max = 1.0 if phi_st <= np.pi / 2 <= phi_ex else max(np.sin(phi_st), np.sin(phi_ex))
    h_max = setup.fz_mm * sin_max
    kc11 = setup.kc11 * setup.hardness_hrc / HRC_SKD11
    ktc, kte = kienzle_to_linear(kc11=kc11, mc=setup.mc, h_min_mm=0.05 * h_max, h_max_mm=h_max)
    r, a = setup.radial_ratio, setup.axial_ratio
    return ForceCoefficients(ktc=ktc, krc=r * ktc, kac=a * ktc, kte=kte, kre=r * kte, kae=a * kte)


def revolution_forces(
    setup: MillingSetup,
    *,
    vb_mm: float | np.ndarray = 0.0,
    n_angles: int = 1024,
    runout: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Forces over one spindle revolution on a uniform angle grid.

    Args:
        setup: the cut.
        vb_mm: flank wear, a scalar or one value per flute (shape (Nt,)), mm.
        n_angles: grid points per revolution.
        runout: include the run-out chip-load offsets.

    Returns:
        ``(theta, forces)``: spindle angles (n_angles,) in rad and Fx, Fy, Fz (n_angles, 3) in N.
    """
    nt = setup.flutes
    vb = np.broadcast_to(np.asarray(vb_mm, dtype=float), (nt,))
    base = coefficients_for(setup)
    coef = [base.with_wear(vb_mm=float(v), setup=setup) for v in vb]
    radius = setup.diameter_mm / 2.0
    n_slices = max(1, int(round(setup.ap_mm / setup.dz_mm)))
    dz = setup.ap_mm / n_slices
    z = (np.arange(n_slices) + 0.5) * dz
    theta = np.arange(n_angles) * (2.0 * np.pi / n_angles)
    pitch = 2.0 * np.pi / nt
    lag = z * np.tan(np.radians(setup.helix_deg)) / radius
    phi_st, phi_ex = setup.engagement
    rho, lam = (setup.runout_mm if runout else 0.0), np.radians(setup.runout_deg)
    r_j = rho * np.cos(lam - np.arange(nt) * pitch)
    forces = np.zeros((n_angles, 3))
    for j in range(nt):
        phi = np.mod(theta[:, None] + j * pitch - lag[None, :], 2.0 * np.pi)
        h = setup.fz_mm * np.sin(phi) + (r_j[j] - r_j[j - 1])
        g = (phi >= phi_st) & (phi <= phi_ex) & (h > 0)
        hc = np.where(g, h, 0.0)
        c = coef[j]
        ft = (c.ktc * hc + c.kte * g) * dz
        fr = (c.krc * hc + c.kre * g) * dz
        fa = (c.kac * hc + c.kae * g) * dz
        forces[:, 0] += np.sum(-ft * np.cos(phi) - fr * np.sin(phi), axis=1)
        forces[:, 1] += np.sum(ft * np.sin(phi) - fr * np.cos(phi), axis=1)
        forces[:, 2] += np.sum(fa, axis=1)
    return theta, forces


def mean_forces_closed_form(setup: MillingSetup, *, vb_mm: float = 0.0) -> np.ndarray:
    r"""Per-revolution average forces (N), Altintas eq. (2.47)–(2.49), without run-out:

    .. math::
        \bar F_x = \tfrac{N_t a f_z}{8\pi}[K_{tc}\cos2\varphi - K_{rc}(2\varphi - \sin 2\varphi)]
                 + \tfrac{N_t a}{2\pi}[-K_{te}\sin\varphi + K_{re}\cos\varphi],

        \bar F_y = \tfrac{N_t a f_z}{8\pi}[K_{tc}(2\varphi - \sin2\varphi) + K_{rc}\cos2\varphi]
                 - \tfrac{N_t a}{2\pi}[K_{te}\cos\varphi + K_{re}\sin\varphi],

        \bar F_z = \tfrac{N_t a}{2\pi}[-K_{ac} f_z\cos\varphi + K_{ae}\varphi],

    each bracket evaluated from φ_st to φ_ex; shape (3,). Independent of the helix angle.
    """
    c = coefficients_for(setup).with_wear(vb_mm=vb_mm, setup=setup)
    nt, a, fz = setup.flutes, setup.ap_mm, setup.fz_mm

    def bracket(fn) -> float:
        lo, hi = setup.engagement
        return float(fn(hi) - fn(lo))

    fx = nt * a * fz / (8 * np.pi) * bracket(
        lambda p: c.ktc * np.cos(2 * p) - c.krc * (2 * p - np.sin(2 * p))
    ) + nt * a / (2 * np.pi) * bracket(lambda p: -c.kte * np.sin(p) + c.kre * np.cos(p))
    fy = nt * a * fz / (8 * np.pi) * bracket(
        lambda p: c.ktc * (2 * p - np.sin(2 * p)) + c.krc * np.cos(2 * p)
    ) + nt * a / (2 * np.pi) * bracket(lambda p: -c.kte * np.cos(p) - c.kre * np.sin(p))
    fz_ = nt * a / (2 * np.pi) * bracket(lambda p: -c.kac * fz * np.cos(p) + c.kae * p)
    return np.array([fx, fy, fz_])


@dataclass(frozen=True)
class SignalOptions:
    """Measurement chain and pass layout of a simulated record.

    Attributes:
        fs_hz: sampling rate (paper: 50 kHz).
        cut_s: duration of the steady cut (paper: ~4 s, i.e. ~200 000 samples).
        air_s: air time before and after the cut.
        entry_exit: include air time and the entry/exit engagement ramps (Fig. 7).
        noise_n: standard deviation of the white measurement noise (N).
        drift_n: amplitude of the slow linear drift over the record (N).
        tooth_jitter: relative standard deviation of the per-tooth-pass load.
        wear_spread: relative standard deviation of flute-to-flute wear.
    """

    fs_hz: float = 50_000.0
    cut_s: float = 4.0
    air_s: float = 0.1
    entry_exit: bool = True
    noise_n: float = 1.0
    drift_n: float = 0.5
    tooth_jitter: float = 0.03
    wear_spread: float = 0.1


@dataclass
class ForceRecord:
    """One measured or simulated pass: forces (n_samples, 3) in N at ``fs_hz``, VB in µm."""

    forces: np.ndarray
    fs_hz: float
    vb_um: float = float("nan")
    meta: dict = field(default_factory=dict)


def simulate_record(
    setup: MillingSetup,
    *,
    vb_um: float,
    options: SignalOptions | None = None,
    flute_wear: np.ndarray | None = None,
    seed: int = 0,
) -> ForceRecord:
    """Simulate one pass: Fx, Fy, Fz (n_samples, 3) sampled at ``options.fs_hz``.

    Args:
        setup: the cut.
        vb_um: mean flank wear of the flutes (µm).
        options: measurement chain and layout (defaults: 50 kHz, 4 s cut, entry/exit, noise).
        flute_wear: relative wear of each flute (shape (Nt,), mean 1); random by ``seed`` if None.
        seed: seed of every random part (flute wear spread, jitter, noise, start angle).
    """
    opt = options or SignalOptions()
    rng = np.random.default_rng(seed)
    if flute_wear is None:
        flute_wear = 1.0 + opt.wear_spread * rng.standard_normal(setup.flutes)
    flute_wear = np.clip(np.asarray(flute_wear, dtype=float), 0.0, None)
    if flute_wear.shape != (setup.flutes,):
        raise ValueError(f"flute_wear must have shape ({setup.flutes},), got {flute_wear.shape}")
    _, table = revolution_forces(setup, vb_mm=vb_um * 1e-3 * flute_wear)
    ramp_s = (setup.diameter_mm / 2.0) / (setup.feed_mm_min / 60.0) if opt.entry_exit else 0.0
    air_s = opt.air_s if opt.entry_exit else 0.0
    total_s = opt.cut_s + 2.0 * (ramp_s + air_s)
    n = int(round(total_s * opt.fs_hz))
    t = np.arange(n) / opt.fs_hz
    angle = 2.0 * np.pi * setup.spindle_hz * t + rng.uniform(0.0, 2.0 * np.pi)
    n_ang = table.shape[0]
    pos = np.mod(angle, 2.0 * np.pi) * (n_ang / (2.0 * np.pi))
    i0 = np.floor(pos).astype(np.int64) % n_ang
    w = (pos - np.floor(pos))[:, None]
    forces = (1.0 - w) * table[i0] + w * table[(i0 + 1) % n_ang]
    passes = np.floor(angle / (2.0 * np.pi / setup.flutes)).astype(np.int64)
    passes -= passes[0]
    jitter = 1.0 + opt.tooth_jitter * rng.standard_normal(passes[-1] + 1)
    forces *= jitter[passes][:, None]
    if opt.entry_exit:
        s = np.clip((t - air_s) / ramp_s, 0, 1) * np.clip((total_s - air_s - t) / ramp_s, 0, 1)
        forces *= (s * s * (3.0 - 2.0 * s))[:, None]  # smoothstep engagement
    drift = opt.drift_n * rng.uniform(-1.0, 1.0, size=3)[None, :] * (t / total_s)[:, None]
    forces += drift + opt.noise_n * rng.standard_normal(forces.shape)
    meta = {"cut_start_s": air_s + ramp_s, "cut_end_s": total_s - air_s - ramp_s}
    return ForceRecord(forces=forces.astype(np.float32), fs_hz=opt.fs_hz, vb_um=vb_um, meta=meta)
