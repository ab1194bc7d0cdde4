"""Operating conditions H1'–H16' (delivery state, 2021) and H1–H20 (aged state, 2024) of paper 001.

Each condition is a schedule of three machine inputs over time ``t`` (s):

* spindle speed ``n(t)`` in r/min (0 while stopped),
* ambient temperature ``T_a(t)`` in °C,
* servo state ``e(t)`` in {0, 1} (1: emergency stop released, axis drives energised).

Sources: §2.1.2 of paper 001 (Chuang et al., Machines 14 (2026) 309) and Table 4/10 for the
condition lists. Where the paper is vague we choose, and say so here:

* Every condition lasts one working day of 8 h (Table 4 counts one day per condition); spindle
  work runs for the first 6 h and the machine rests for 2 h (§2.1.2, verification/test text).
* The duty-cycle conditions run at a reference speed ``REFERENCE_SPEED_RPM`` (the paper gives no
  speed). "Variable ambient 20–28 °C" is ``T_a = 24 − 4 cos(2π t / 8 h)`` (20 °C at start and end,
  28 °C at 4 h); "increasing ambient" is a 20 → 28 °C ramp over 6 h, then held.
* The 2024 list in §2.1.2 omits H12; Table 4 (C6: "long duty cycle under constant and varying
  ambient (H12 and H17)") shows that H12 is the 300 s / 5 s cycle at 20 °C and H17 the same at
  20–28 °C. For 2021, H13' (300 s / 5 s) is taken at 20 °C.
* Abrupt change (H14', H18): the spindle runs for 1 h then stops for 1 h, repeated; the ambient
  ramps 20 → 28 °C while it runs and back while it stands.
* Verification (H15', H19): a cycle of six speeds, each 5 min on / 1 min off; test (H16', H20):
  a cycle of 69 speeds, each 10 s on / 5 s off. The speed programmes are drawn once from a
  seeded generator (``program_seed``) between 2 000 and 12 000 r/min.
* *Fresh* conditions F1, F2, ... (ours, not the paper's; :func:`fresh_conditions`): the test
  programme (odd k) and the verification programme (even k) redrawn from other programme seeds,
  for a final score on conditions that no choice of the study has seen.
* The 2024 characteristic conditions H1–H7 isolate the factors (e-stop release, ambient rise,
  spindle run) and their combinations as listed in §2.1.2; "spindle operation" alone (H4) is
  modelled as spindle heat without servo heat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

HOUR = 3600.0
DAY_S = 8.0 * HOUR  #: length of one condition (one 8 h working day)
WORK_S = 6.0 * HOUR  #: spindle work period before the 2 h rest
REFERENCE_SPEED_RPM = 8000.0  #: speed of the duty-cycle and characteristic runs
T_BASE_C = 20.0  #: fixed ambient temperature, °C

Profile = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class OperatingCondition:
    """One named operating condition.

    Attributes:
        name: "H7'" (2021, delivery) or "H10" (2024, aged).
        kind: "characteristic", "training", "validation" or "test" (§2.1.2).
        description: what is run, in words.
        speed: ``speed(t) -> n`` r/min, shape of ``t``.
        ambient: ``ambient(t) -> T_a`` °C.
        servo: ``servo(t) -> e`` in {0, 1}.
        duration_s: length of the record in s.
    """

    name: str
    kind: str
    description: str
    speed: Profile
    ambient: Profile
    servo: Profile
    duration_s: float = DAY_S

    def inputs(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(speed r/min, ambient °C, servo 0/1)`` at times ``t`` (s), each shaped like ``t``."""
        t = np.asarray(t, dtype=float)
        return (
            np.broadcast_to(self.speed(t), t.shape).astype(float),
            np.broadcast_to(self.ambient(t), t.shape).astype(float),
            np.broadcast_to(self.servo(t), t.shape).astype(float),
        )


def _const(value: float) -> Profile:
    return lambda t: np.full(np.shape(t), value, dtype=float)


def _ramp_ambient(t: np.ndarray) -> np.ndarray:
    return T_BASE_C + 8.0 * np.clip(t / WORK_S, 0.0, 1.0)


def _cyclic_ambient(t: np.ndarray) -> np.ndarray:
    return 24.0 - 4.0 * np.cos(2.0 * np.pi * t / DAY_S)


def _duty(on_s: float, off_s: float, speed_rpm: float = REFERENCE_SPEED_RPM) -> Profile:
    """``speed_rpm`` for ``on_s`` then 0 for ``off_s``, repeated during the 6 h work period."""

    def speed(t: np.ndarray) -> np.ndarray:
        phase = np.mod(t, on_s + off_s)
        return np.where((phase < on_s) & (t < WORK_S), speed_rpm, 0.0)

    return speed


def _program(speeds: np.ndarray, on_s: float, off_s: float) -> Profile:
    """A cyclic speed programme: speed k for ``on_s``, stop ``off_s``, next speed, ..."""
    period = on_s + off_s

    def speed(t: np.ndarray) -> np.ndarray:
        k = np.floor(t / period).astype(int) % len(speeds)
        phase = np.mod(t, period)
        return np.where((phase < on_s) & (t < WORK_S), speeds[k], 0.0)

    return speed


def _abrupt_speed(t: np.ndarray) -> np.ndarray:
    return np.where(np.mod(t, 2.0 * HOUR) < HOUR, REFERENCE_SPEED_RPM, 0.0)


def _abrupt_ambient(t: np.ndarray) -> np.ndarray:
    phase = np.mod(t, 2.0 * HOUR) / HOUR
    return T_BASE_C + 8.0 * np.where(phase < 1.0, phase, 2.0 - phase)


def _programs(program_seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(program_seed)
    verification = rng.choice(np.arange(2000.0, 12001.0, 500.0), size=6, replace=False)
    test = rng.choice(np.arange(2000.0, 12001.0, 250.0), size=69, replace=True)
    return verification, test


_DUTY = {"5/5": (5.0, 5.0), "10/5": (10.0, 5.0), "30/5": (30.0, 5.0), "60/5": (60.0, 5.0)}
_DUTY["300/5"] = (300.0, 5.0)


def _common(program_seed: int) -> dict[str, OperatingCondition]:
    """Conditions shared by both states, keyed by a neutral label."""
    verification, test = _programs(program_seed)
    off, on, ramp, cyc = _const(0.0), _const(1.0), _ramp_ambient, _cyclic_ambient
    fixed = _const(T_BASE_C)
    run = _duty(WORK_S, 1.0)
    c: dict[str, OperatingCondition] = {}

    def add(label: str, kind: str, text: str, speed: Profile, amb: Profile, servo: Profile):
        c[label] = OperatingCondition(label, kind, text, speed, amb, servo)

    add("estop_ramp", "characteristic", "e-stop pressed, ambient rising", _const(0.0), ramp, off)
    add("release_fixed", "characteristic", "e-stop released, 20 °C", _const(0.0), fixed, on)
    add("estop_fixed", "characteristic", "e-stop pressed, 20 °C", _const(0.0), fixed, off)
    add("release_ramp", "characteristic", "e-stop released, ambient rising", _const(0.0), ramp, on)
    add("release_spindle", "characteristic", "e-stop released, spindle run", run, fixed, on)
    add("spindle_only", "characteristic", "spindle heat only, 20 °C", run, fixed, off)
    add("all_three", "characteristic", "released, ambient rising, spindle run", run, ramp, on)
    for key, (a, b) in _DUTY.items():
        add(f"duty{key}_fixed", "training", f"duty {key} s at 20 °C", _duty(a, b), fixed, on)
        add(f"duty{key}_var", "training", f"duty {key} s at 20–28 °C", _duty(a, b), cyc, on)
    add(
        "abrupt",
        "training",
        "1 h run with ambient rise / 1 h stop",
        _abrupt_speed,
        _abrupt_ambient,
        on,
    )
    add("verification", "validation", "6 speeds, 5 min on / 1 min off, 20–28 °C",
        _program(verification, 300.0, 60.0), cyc, on)  # fmt: skip
    add(
        "test", "test", "69 speeds, 10 s on / 5 s off, 20–28 °C", _program(test, 10.0, 5.0), cyc, on
    )
    return c


#: label of the shared condition behind each 2021 name (§2.1.2)
DELIVERY_NAMES: dict[str, str] = {
    "H1'": "estop_ramp", "H2'": "release_ramp", "H3'": "release_spindle", "H4'": "all_three",
    "H5'": "duty5/5_fixed", "H6'": "duty10/5_fixed", "H7'": "duty30/5_fixed",
    "H8'": "duty60/5_fixed", "H9'": "duty5/5_var", "H10'": "duty10/5_var",
    "H11'": "duty30/5_var", "H12'": "duty60/5_var", "H13'": "duty300/5_fixed",
    "H14'": "abrupt", "H15'": "verification", "H16'": "test",
}  # fmt: skip

#: label of the shared condition behind each 2024 name (§2.1.2, Table 4)
AGED_NAMES: dict[str, str] = {
    "H1": "estop_fixed", "H2": "release_fixed", "H3": "estop_ramp", "H4": "spindle_only",
    "H5": "release_ramp", "H6": "release_spindle", "H7": "all_three",
    "H8": "duty5/5_fixed", "H9": "duty10/5_fixed", "H10": "duty30/5_fixed",
    "H11": "duty60/5_fixed", "H12": "duty300/5_fixed", "H13": "duty5/5_var",
    "H14": "duty10/5_var", "H15": "duty30/5_var", "H16": "duty60/5_var",
    "H17": "duty300/5_var", "H18": "abrupt", "H19": "verification", "H20": "test",
}  # fmt: skip


def conditions(state: str, *, program_seed: int = 0) -> dict[str, OperatingCondition]:
    """The named conditions of ``state`` ("delivery": H1'–H16', "aged": H1–H20), in order."""
    names = {"delivery": DELIVERY_NAMES, "aged": AGED_NAMES}.get(state)
    if names is None:
        raise ValueError(f"conditions: state must be 'delivery' or 'aged', not {state!r}")
    common = _common(program_seed)
    out = {}
    for name, label in names.items():
        base = common[label]
        out[name] = OperatingCondition(
            name, base.kind, base.description, base.speed, base.ambient, base.servo
        )
    return out


def fresh_conditions(n: int, *, program_seed: int = 0) -> dict[str, OperatingCondition]:
    """``n`` fresh conditions F1..Fn: test-type (odd) and verification-type (even) programmes
    drawn from programme seeds other than ``program_seed`` (the one of H15'/H16'/H19/H20)."""
    out = {}
    for k in range(1, n + 1):
        label = "test" if k % 2 else "verification"
        base = _common(program_seed + 7919 * k)[label]
        out[f"F{k}"] = OperatingCondition(
            f"F{k}", "test", f"fresh {base.description} (programme seed {program_seed + 7919 * k})",
            base.speed, base.ambient, base.servo,
        )  # fmt: skip
    return out
