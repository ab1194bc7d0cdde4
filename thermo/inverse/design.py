r"""Study constants of paper 000 in one place: the 27-case design, its numbering, seeds, the test
case, the reconstruction conditions and the paper's reported figures.

Design (paper 000 §3.1): full factorial 3 × 3 × 3 of spindle speed N ∈ {382, 509, 636} r/min,
feed per tooth fz ∈ {0.05, 0.075, 0.1} mm/z and radial depth ae ∈ {0.1, 0.2, 0.3} mm.

Numbering (the paper does not give its own): lexicographic with N slowest and ae fastest,

.. math::  \text{case} = 1 + 9\,i_N + 3\,i_{f_z} + i_{a_e}, \qquad i \in \{0, 1, 2\},

the order a DOE table lists the runs in. The paper's test case is "the 24th set": case 24 =
(N 636, fz 0.075, ae 0.3). The three reconstruction conditions of §4.2 (N = 382/509/636,
fz = 0.075, ae = 0.2) are cases 5, 14, 23.
"""

from __future__ import annotations

import numpy as np

#: Factor levels (user units: r/min, mm/z, mm).
LEVELS: dict[str, tuple[float, ...]] = {
    "n_rpm": (382.0, 509.0, 636.0),
    "fz_mm": (0.05, 0.075, 0.1),
    "ae_mm": (0.1, 0.2, 0.3),
}
#: Paper 000's test case ("the 24th set").
TEST_CASE = 24
#: Cases of the §4.2 reconstruction conditions (held out of every training set).
RECONSTRUCTION_CASES: tuple[int, ...] = (5, 14, 23)
#: Paper 000 §4.2 reconstruction conditions: (N r/min, fz mm/z, ae mm).
CONDITIONS: tuple[tuple[float, float, float], ...] = (
    (382.0, 0.075, 0.2),
    (509.0, 0.075, 0.2),
    (636.0, 0.075, 0.2),
)
#: Paper 000 Fig. 10 A–I snapshot times, s.
FIELD_TIMES: tuple[float, ...] = (4.0, 8.0, 12.0)
#: Paper 000 §4.2 sensor RMSEs (°C) quoted in the text (S1..S4); 382 r/min is not given.
PAPER_RMSE: dict[float, tuple[float, ...]] = {
    509.0: (1.85, 1.98, 1.62, 1.43),
    636.0: (4.51, 2.89, 3.68, 3.56),
}
#: Paper 000 §4.2 range of the sensor-curve fit R² over all conditions and sensors.
PAPER_R2_RANGE: tuple[float, float] = (0.92, 0.97)


def case_params(case: int) -> dict[str, float]:
    """Machining parameters of full-factorial case ``case`` (1..27), numbering above."""
    if not (isinstance(case, int | np.integer) and 1 <= case <= 27):
        raise ValueError(f"case must be an integer in 1..27, got {case!r}")
    i = int(case) - 1
    return {
        "n_rpm": LEVELS["n_rpm"][i // 9],
        "fz_mm": LEVELS["fz_mm"][(i // 3) % 3],
        "ae_mm": LEVELS["ae_mm"][i % 3],
    }


def case_number(n_rpm: float, fz_mm: float, ae_mm: float) -> int:
    """Full-factorial case number 1 + 9 i_N + 3 i_fz + i_ae of a design point."""
    idx = []
    for key, value in (("n_rpm", n_rpm), ("fz_mm", fz_mm), ("ae_mm", ae_mm)):
        hits = [i for i, v in enumerate(LEVELS[key]) if np.isclose(v, value)]
        if not hits:
            raise ValueError(f"{key} = {value} is not a level of the design {LEVELS[key]}")
        idx.append(hits[0])
    return 1 + 9 * idx[0] + 3 * idx[1] + idx[2]


def case_seed(seed: int, case: int, *parts: int) -> int:
    """Integer seed derived from (data-set seed, case, parts) with ``numpy.random.SeedSequence``."""
    return int(np.random.SeedSequence([seed, case, *parts]).generate_state(1)[0])
