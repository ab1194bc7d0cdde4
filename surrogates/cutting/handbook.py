r"""Handbook table of recommended end-milling conditions (paper 002, §3 and Table 1).

The paper trains on "recommended cutting conditions" taken from a Sandvik Coromant catalogue as
interval midpoints, refined by two specialists for "a given and known machine tool". That table is
not public. This module *builds* an equivalent table from public, citable facts and ships it as
``handbook.csv`` (regenerate with :func:`write_handbook`; the build is deterministic for a seed):

* **Material classes** (:data:`~surrogates.cutting.catalogue.MATERIALS`): ISO 513:2012
  application groups P, M, K, N, S, H with Sandvik Coromant MC-style sub-classes (``P1.2``
  ...) and their older CMC codes (``01.2``; the paper writes them with a decimal comma,
  "1,20"), Brinell hardness ranges (Sandvik Coromant material-classification tables;
  hardened steels converted from HRC with ASTM E140).
* **Starting speeds and feeds**: ``vc_ref`` is the cutting speed (m/min) of a coated solid-carbide
  end mill in shoulder milling at the reference hardness, ``hex_ref`` the recommended maximum chip
  thickness (mm). They are representative mid-range starting values consistent with the published
  ranges of tool makers' catalogues (Sandvik Coromant CoroMill Plura / Walter / Kennametal
  solid-carbide end-mill tables per ISO group) and Machinery's Handbook (30th ed., "Speeds and
  Feeds" chapter, milling speed tables). They were rounded by hand; they are not copied cell by
  cell from one catalogue, and a user with catalogue access should replace them.
* **Operation type** (the four ap/ae relations of the paper's Fig. 2, whose drawing is not
  legible in the text): 1 full slot (ae = D), 2 shoulder roughing (ae = D/2), 3 side finishing
  (ae = 0.1 D), 4 high-speed light radial engagement (ae = 0.05 D). Speed rises at low radial
  engagement (end-milling radial-depth speed factors, Machinery's Handbook); feed per tooth
  follows the chip-thinning rule (Sandvik Coromant milling formulas)

  .. math::  f_z = h_{ex}/\sqrt{1-(1-2a_e/D)^2}\ (a_e < D/2),\quad f_z = h_{ex}\ \text{else}.

* **Hardness** inside a class: :math:`v_c \propto (HB_{ref}/HB)^{1.0}`,
  :math:`f_z \propto (HB_{ref}/HB)^{0.5}` (speeds fall roughly inversely with hardness in the
  handbook tables; the exponents are this module's engineering choice).
* **Cutter type** (:data:`~surrogates.cutting.catalogue.CUTTERS`): nominal diameter D,
  teeth z and speed/feed factors.
* **Ranges and midpoints**: like a catalogue, each row gives a range (Vc ±15 %, fz ±20 %,
  rounded to 5 m/min and 0.005 mm) and the midpoint used for training, as in the paper.
* **Machine** ("a given and known machine tool"): spindle speed capped at
  :data:`MACHINE_MAX_RPM`; Vc is lowered where the cap binds.
* Spindle speed and feed speed: :math:`n = 1000\,v_c/(\pi D)` (r/min),
  :math:`v_f = f_z\,z\,n` (mm/min).

The 12 rows of the paper's Table 1 are included *as given* (``origin = paper_table1``); their
geometry is not stated, so their fz is implied from Vf with the cutter's nominal D and z. The row
(op 4, 30.22, 90 HB, cutter 1, Vc = 130) breaks the trend 1000 → 1100 → 1250 of its material and
is most likely a typo for 1300; it is kept and flagged ``suspect``. :func:`split_handbook`
leaves the Table-1 rows out of training unless asked (see there why).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from surrogates.cutting.catalogue import CUTTERS, MATERIALS, OPERATIONS
from thermo.atomic import atomic_path

#: Path of the shipped table.
HANDBOOK_CSV = Path(__file__).with_name("handbook.csv")

#: Spindle-speed limit of the assumed machine tool (r/min).
MACHINE_MAX_RPM = 24000.0

#: Seed of the shipped table's row selection.
DEFAULT_SEED = 2008

COLUMNS = (
    "operation",
    "material",
    "cmc",
    "iso_group",
    "hardness_hb",
    "cutter",
    "diameter_mm",
    "teeth",
    "vc_min",
    "vc_max",
    "vc",
    "fz_min",
    "fz_max",
    "fz",
    "n_rpm",
    "vf",
    "origin",
    "note",
)


#: Paper 002, Table 1, as given: (operation, CMC "a,bc", HB, cutter, Vc m/min, Vf mm/min).
PAPER_TABLE1: tuple[tuple[int, str, float, int, float, float], ...] = (
    (1, "30,22", 90, 1, 1000, 1910.8),
    (2, "30,22", 90, 1, 1100, 4904.4),
    (3, "30,22", 90, 1, 1250, 26871.0),
    (4, "30,22", 90, 1, 130, 4968.1),
    (1, "1,10", 125, 1, 155, 288.0),
    (2, "1,10", 125, 1, 200, 891.7),
    (3, "1,10", 125, 1, 375, 8061.3),
    (4, "1,10", 125, 1, 690, 26369.4),
    (1, "1,10", 125, 3, 145, 450.2),
    (2, "1,10", 125, 3, 160, 1452.2),
    (1, "1,20", 150, 1, 135, 257.0),
    (1, "7,10", 150, 1, 135, 257.9),
)

#: The paper's CMC codes mapped to this table's sub-classes.
_PAPER_CMC_TO_CODE = {"30,22": "N1.3", "1,10": "P1.1", "1,20": "P1.2", "7,10": "K1.1"}


def chip_thinning_factor(ae_over_d: float) -> float:
    r"""fz / hex for radial engagement ae/D: :math:`1/\sqrt{1-(1-2a_e/D)^2}` below D/2, else 1."""
    if not 0 < ae_over_d <= 1:
        raise ValueError(f"ae/D must be in (0, 1], got {ae_over_d}")
    if ae_over_d >= 0.5:
        return 1.0
    return 1.0 / math.sqrt(1.0 - (1.0 - 2.0 * ae_over_d) ** 2)


def spindle_speed(vc: np.ndarray | float, diameter_mm: np.ndarray | float) -> np.ndarray:
    """n = 1000 vc / (pi D) in r/min, for vc in m/min and D in mm."""
    return 1000.0 * np.asarray(vc, dtype=float) / (np.pi * np.asarray(diameter_mm, dtype=float))


def _round_to(x: float, step: float) -> float:
    return max(step, round(x / step) * step)


def handbook_row(operation: int, material: str, hardness_hb: float, cutter: int) -> dict:
    """One generated handbook row (ranges, midpoints, n, Vf) for the given conditions."""
    mat, cut, op = MATERIALS[material], CUTTERS[cutter], OPERATIONS[operation]
    ratio = mat.hb_ref / hardness_hb
    vc_nom = mat.vc_ref * cut.vc_factor * op.vc_factor * ratio
    fz_nom = mat.hex_ref * cut.fz_factor * chip_thinning_factor(op.ae_over_d) * math.sqrt(ratio)
    vc_step = 5.0 if vc_nom >= 40 else 1.0
    vc_min, vc_max = _round_to(0.85 * vc_nom, vc_step), _round_to(1.15 * vc_nom, vc_step)
    vc = 0.5 * (vc_min + vc_max)
    note = ""
    vc_cap = MACHINE_MAX_RPM * math.pi * cut.diameter_mm / 1000.0
    if vc > vc_cap:
        vc, note = float(math.floor(vc_cap)), f"Vc capped by spindle limit {MACHINE_MAX_RPM:.0f}"
    fz_min, fz_max = _round_to(0.8 * fz_nom, 0.005), _round_to(1.2 * fz_nom, 0.005)
    fz = round(0.5 * (fz_min + fz_max), 4)
    n = float(spindle_speed(vc, cut.diameter_mm))
    return {
        "operation": operation,
        "material": material,
        "cmc": mat.cmc,
        "iso_group": mat.iso_group,
        "hardness_hb": float(hardness_hb),
        "cutter": cutter,
        "diameter_mm": cut.diameter_mm,
        "teeth": cut.teeth,
        "vc_min": vc_min,
        "vc_max": vc_max,
        "vc": vc,
        "fz_min": fz_min,
        "fz_max": fz_max,
        "fz": fz,
        "n_rpm": round(n, 1),
        "vf": round(fz * cut.teeth * n, 1),
        "origin": "generated",
        "note": note,
    }


def paper_table1_rows() -> list[dict]:
    """The 12 rows of paper 002 Table 1 as given, with fz implied from Vf and nominal D, z."""
    rows = []
    for operation, cmc, hb, cutter, vc, vf in PAPER_TABLE1:
        code, cut = _PAPER_CMC_TO_CODE[cmc], CUTTERS[cutter]
        n = float(spindle_speed(vc, cut.diameter_mm))
        suspect = (operation, cmc, vc) == (4, "30,22", 130)
        rows.append(
            {
                "operation": operation,
                "material": code,
                "cmc": MATERIALS[code].cmc,
                "iso_group": code[0],
                "hardness_hb": float(hb),
                "cutter": cutter,
                "diameter_mm": cut.diameter_mm,
                "teeth": cut.teeth,
                "vc_min": float("nan"),
                "vc_max": float("nan"),
                "vc": float(vc),
                "fz_min": float("nan"),
                "fz_max": float("nan"),
                "fz": round(vf / (cut.teeth * n), 4),
                "n_rpm": round(n, 1),
                "vf": float(vf),
                "origin": "paper_table1",
                "note": "suspect: likely typo for 1300" if suspect else "fz implied",
            }
        )
    return rows


def build_handbook(*, seed: int = DEFAULT_SEED, rows_per_material: int = 8) -> pd.DataFrame:
    """Build the handbook table: the 12 Table-1 rows, then ``rows_per_material`` per material.

    For each material the rows cover all four operation types once, then further distinct
    (operation, cutter, hardness) combinations drawn with ``seed``; hardness is one of
    (hb_min, hb_ref, hb_max) and cutters excluded for the group (HSS on S and H) are skipped.

    Returns:
        DataFrame with :data:`COLUMNS`, (12 + 27 * rows_per_material) rows.
    """
    if not 4 <= rows_per_material <= 30:
        raise ValueError(f"rows_per_material must be in [4, 30], got {rows_per_material}")
    rng = np.random.default_rng(seed)
    rows = paper_table1_rows()
    for code, mat in MATERIALS.items():
        grid = [
            (op, c, hb)
            for op in OPERATIONS
            for c, cut in CUTTERS.items()
            if mat.iso_group not in cut.excluded_groups
            for hb in (mat.hb_min, mat.hb_ref, mat.hb_max)
        ]
        chosen: list[tuple[int, int, float]] = []
        for op in OPERATIONS:
            options = [g for g in grid if g[0] == op]
            chosen.append(options[rng.integers(len(options))])
        rest = [g for g in grid if g not in chosen]
        extra = rng.choice(len(rest), size=rows_per_material - len(OPERATIONS), replace=False)
        chosen += [rest[i] for i in sorted(extra)]
        rows += [handbook_row(op, code, hb, c) for op, c, hb in chosen]
    return pd.DataFrame(rows, columns=list(COLUMNS))


_HEADER = """\
# millheat handbook of recommended end-milling conditions (paper 002 analogue).
# Built by surrogates/cutting/handbook.py (build_handbook(seed={seed})); see its docstring for the
# construction and sources: ISO 513:2012 groups; Sandvik Coromant MC/CMC material classes and
# milling formulas (chip thinning; n = 1000 Vc/(pi D); Vf = fz z n); tool makers' solid-carbide
# end-mill starting values (Sandvik Coromant, Walter, Kennametal); Machinery's Handbook 30th ed.
# speed tables and end-milling radial-depth factors; paper 002 Table 1 (origin=paper_table1).
# Columns: operation 1-4 (1 slot ae=D, 2 shoulder ae=D/2, 3 side finish ae=0.1D, 4 HSM ae=0.05D);
# material (MC-style code); cmc (Coromant Material Code); iso_group; hardness_hb (Brinell);
# cutter 1-4 (1 solid carbide D12 z4, 2 HSS-Co D12 z4, 3 indexable D25 z3, 4 ball-nose D10 z2);
# diameter_mm, teeth (nominal cutter geometry); vc_min, vc_max, vc (m/min, range and midpoint);
# fz_min, fz_max, fz (mm/tooth); n_rpm (r/min); vf (mm/min); origin; note.
"""


def write_handbook(path: Path | str = HANDBOOK_CSV, *, seed: int = DEFAULT_SEED) -> Path:
    """Build the table and write it atomically (:func:`thermo.atomic.atomic_path`) to ``path``."""
    path = Path(path)
    table = build_handbook(seed=seed)
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(_HEADER.format(seed=seed))
        table.to_csv(fh, index=False)
    return path


def load_handbook(path: Path | str = HANDBOOK_CSV) -> pd.DataFrame:
    """Read a handbook CSV (shipped one by default) and check its columns and values.

    Raises:
        ValueError: naming the file and the offending column when the table is malformed.
    """
    path = Path(path)
    table = pd.read_csv(path, comment="#", dtype={"cmc": str, "material": str})
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected {list(COLUMNS)}")
    table["note"] = table["note"].fillna("")
    for col in ("operation", "cutter", "hardness_hb", "vc", "vf", "diameter_mm", "teeth"):
        values = pd.to_numeric(table[col], errors="coerce")
        if values.isna().any() or (values <= 0).any():
            raise ValueError(f"{path}: column {col!r} must hold positive numbers")
    bad_ops = sorted(set(table["operation"]) - set(OPERATIONS))
    bad_cut = sorted(set(table["cutter"]) - set(CUTTERS))
    bad_mat = sorted(set(table["material"]) - set(MATERIALS))
    if bad_ops or bad_cut or bad_mat:
        raise ValueError(
            f"{path}: unknown operation {bad_ops} / cutter {bad_cut} / material {bad_mat}; "
            f"expected operation in {list(OPERATIONS)}, cutter in {list(CUTTERS)}, "
            f"material in {list(MATERIALS)}"
        )
    return table


def split_handbook(
    table: pd.DataFrame,
    *,
    seed: int = 0,
    n_val: int = 55,
    n_test: int = 35,
    include_table1: bool = False,
    include_suspect: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split into (train, validation, test) as in the paper (138 / 55 + a separate test set).

    The generated rows are shuffled with ``seed``; the first ``n_test`` go to test, the next
    ``n_val`` to validation, the rest to training. With ``include_table1`` the paper's Table-1
    rows are added to training (the paper calls them a "subset of training data"), the suspect
    one only with ``include_suspect``. They are left out by default: they come from another
    catalogue, machine and unknown cutter geometry, and contradict the catalogue-derived rows
    for identical inputs (P1.1, 125 HB, operation 2, cutter 1: 200 vs 260 m/min), which no
    function of the inputs can fit; training on them raised the validation MAD of Vc from
    7.9 to 19.8 m/min and of Vf from 131 to 278 mm/min (momentum, 1500 epochs, seed 0:
    ``python -m cases.cutting_conditions [--with-table1]``).
    """
    paper = table[table["origin"] == "paper_table1"]
    if not include_suspect:
        paper = paper[~paper["note"].str.startswith("suspect")]
    generated = table[table["origin"] != "paper_table1"]
    if n_val + n_test >= len(generated):
        raise ValueError(f"n_val + n_test = {n_val + n_test} leaves no generated training rows")
    order = np.random.default_rng(seed).permutation(len(generated))
    test = generated.iloc[order[:n_test]]
    val = generated.iloc[order[n_test : n_test + n_val]]
    train = generated.iloc[order[n_test + n_val :]]
    if include_table1:
        train = pd.concat([paper, train])
    return train.reset_index(drop=True), val.reset_index(drop=True), test.reset_index(drop=True)
