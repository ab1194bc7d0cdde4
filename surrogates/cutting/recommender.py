r"""Validated cutting-condition recommendations from the chained networks (paper 002).

Given (operation 1-4, material code, Brinell hardness, cutter 1-4) the chained networks predict
Vc (m/min) and Vf (mm/min) for the cutter type's nominal geometry :math:`(D_0, z_0)`
(:data:`surrogates.cutting.handbook.CUTTERS`). The transferable quantities are Vc and the feed per
tooth,

.. math::  n_0 = \frac{1000\,v_c}{\pi D_0},\qquad f_z = \frac{v_f}{z_0\,n_0},

so for a user diameter D and teeth z: :math:`n = 1000 v_c/(\pi D)` (capped at the machine's
:data:`~surrogates.cutting.handbook.MACHINE_MAX_RPM`, lowering Vc) and :math:`v_f = f_z z n`.

Weights and encoder are stored in one small JSON file (:data:`WEIGHTS_PATH`, float32 values
written exactly), reproducible with ``python -m cases.cutting_conditions --export-weights``.
Inference runs in NumPy (:mod:`.inference`), so a query imports no JAX; JAX is imported only
to train when no weights file exists.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from surrogates.cutting.encoding import Encoder
from surrogates.cutting.handbook import (
    CUTTERS,
    MACHINE_MAX_RPM,
    MATERIALS,
    OPERATIONS,
    load_handbook,
    spindle_speed,
    split_handbook,
)
from surrogates.cutting.inference import DenseStack, chain
from thermo.atomic import atomic_write_json

#: Shipped weights of the default recommender.
WEIGHTS_PATH = Path(__file__).with_name("recommender_model.json")


class RecommendationInputError(ValueError):
    """Bad recommender input (unknown material, hardness out of range, ...)."""


@dataclass(frozen=True)
class Recommendation:
    """One recommendation: speeds in m/min and mm/min, n in r/min, fz in mm/tooth."""

    operation: int
    material: str
    hardness_hb: float
    cutter: int
    diameter_mm: float
    teeth: int
    vc: float
    n_rpm: float
    fz: float
    vf: float
    note: str = ""


def validate_request(
    *,
    operation: int,
    material: str,
    hardness_hb: float,
    cutter: int,
    diameter_mm: float | None = None,
    teeth: int | None = None,
) -> None:
    """Raise :class:`RecommendationInputError` naming the field and its expected form."""
    if operation not in OPERATIONS:
        raise RecommendationInputError(
            f"--operation must be one of {list(OPERATIONS)} "
            f"({', '.join(f'{k}: {v.name}' for k, v in OPERATIONS.items())}), got {operation}"
        )
    if material not in MATERIALS:
        raise RecommendationInputError(
            f"--material {material!r} is unknown; expected one of {', '.join(MATERIALS)}"
        )
    mat = MATERIALS[material]
    if not (math.isfinite(hardness_hb) and mat.hb_min <= hardness_hb <= mat.hb_max):
        raise RecommendationInputError(
            f"--hardness {hardness_hb} HB is outside the range of {material} ({mat.name}): "
            f"{mat.hb_min:g}-{mat.hb_max:g} HB"
        )
    if cutter not in CUTTERS:
        raise RecommendationInputError(
            f"--cutter must be one of {list(CUTTERS)} "
            f"({', '.join(f'{k}: {v.name}' for k, v in CUTTERS.items())}), got {cutter}"
        )
    if mat.iso_group in CUTTERS[cutter].excluded_groups:
        raise RecommendationInputError(
            f"--cutter {cutter} ({CUTTERS[cutter].name}) is not recommended for ISO group "
            f"{mat.iso_group} ({material}); choose another cutter"
        )
    if diameter_mm is not None and not (math.isfinite(diameter_mm) and 1 <= diameter_mm <= 100):
        raise RecommendationInputError(f"--diameter must be in 1-100 mm, got {diameter_mm}")
    if teeth is not None and not 1 <= teeth <= 20:
        raise RecommendationInputError(f"--teeth must be an integer in 1-20, got {teeth}")


class CuttingRecommender:
    """Encoder + chained networks (NumPy copies) + handbook table (for context rows)."""

    def __init__(
        self, encoder: Encoder, net_vc: DenseStack, net_vf: DenseStack, table: pd.DataFrame
    ) -> None:
        if net_vc.in_features != encoder.n_features or net_vf.in_features != net_vc.in_features + 1:
            raise ValueError(
                f"network widths ({net_vc.in_features}, {net_vf.in_features}) do not match the "
                f"encoder's {encoder.n_features} features (+1 for network 2)"
            )
        self.encoder, self.net_vc, self.net_vf, self.table = encoder, net_vc, net_vf, table
        self.metadata: dict[str, Any] = {}

    @classmethod
    def from_pair(cls, pair: Any, table: pd.DataFrame) -> CuttingRecommender:
        """From a :class:`~surrogates.cutting.training.TrainedPair` (weights copied)."""
        vc, vf = DenseStack.from_module(pair.net_vc), DenseStack.from_module(pair.net_vf)
        return cls(pair.encoder, vc, vf, table)

    def recommend(
        self,
        *,
        operation: int,
        material: str,
        hardness_hb: float,
        cutter: int,
        diameter_mm: float | None = None,
        teeth: int | None = None,
    ) -> Recommendation:
        """Validated chained recommendation (see module docstring for n, fz, Vf)."""
        validate_request(
            operation=operation,
            material=material,
            hardness_hb=hardness_hb,
            cutter=cutter,
            diameter_mm=diameter_mm,
            teeth=teeth,
        )
        x = self.encoder.encode_inputs(
            operation=[operation], material=[material], hardness_hb=[hardness_hb], cutter=[cutter]
        )
        z_vc, z_vf = chain(self.net_vc, self.net_vf, x)
        vc = float(self.encoder.decode_vc(z_vc)[0])
        vf0 = float(self.encoder.decode_vf(z_vf)[0])
        nominal = CUTTERS[cutter]
        fz = vf0 / (nominal.teeth * float(spindle_speed(vc, nominal.diameter_mm)))
        d = nominal.diameter_mm if diameter_mm is None else float(diameter_mm)
        z = nominal.teeth if teeth is None else int(teeth)
        n, note = float(spindle_speed(vc, d)), ""
        if n > MACHINE_MAX_RPM:
            n, note = MACHINE_MAX_RPM, f"n capped at the machine limit {MACHINE_MAX_RPM:.0f} r/min"
            vc = math.pi * d * n / 1000.0
        return Recommendation(
            operation=operation,
            material=material,
            hardness_hb=float(hardness_hb),
            cutter=cutter,
            diameter_mm=d,
            teeth=z,
            vc=vc,
            n_rpm=n,
            fz=fz,
            vf=fz * z * n,
            note=note,
        )

    def nearest_rows(
        self, *, operation: int, material: str, hardness_hb: float, cutter: int, k: int = 3
    ) -> pd.DataFrame:
        """The k handbook rows closest to the request.

        Ordered by: same material first, then same operation, same cutter, then the distance
        |ln HB - ln HB_query| (a lexicographic order, so a row of another material never beats
        one of the requested material).
        """
        t = self.table
        key = pd.DataFrame(
            {
                "material": (t["material"] != material).astype(int),
                "operation": (t["operation"] != operation).astype(int),
                "cutter": (t["cutter"] != cutter).astype(int),
                "hb": np.abs(np.log(t["hardness_hb"].to_numpy(float) / hardness_hb)),
            },
            index=t.index,
        )
        order = key.sort_values(["material", "operation", "cutter", "hb"], kind="stable").index
        return t.loc[order[:k]]

    def save(self, path: Path | str = WEIGHTS_PATH) -> Path:
        """Write encoder, architectures, weights and metadata to JSON atomically."""
        path = Path(path)
        payload = {
            "format": "millheat-cutting-recommender-1",
            "encoder": self.encoder.to_dict(),
            "metadata": self.metadata,
            "networks": {"vc": self.net_vc.to_dict(), "vf": self.net_vf.to_dict()},
        }
        atomic_write_json(path, payload, indent=1)
        return path

    @classmethod
    def load(
        cls, path: Path | str = WEIGHTS_PATH, *, table: pd.DataFrame | None = None
    ) -> CuttingRecommender:
        """Inverse of :meth:`save`; ``table`` defaults to the shipped handbook."""
        path = Path(path)
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            encoder = Encoder.from_dict(payload["encoder"])
            nets = {name: DenseStack.from_dict(spec) for name, spec in payload["networks"].items()}
            rec = cls(encoder, nets["vc"], nets["vf"], load_handbook() if table is None else table)
        except (OSError, KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{path}: not a cutting-recommender weights file ({err})") from err
        rec.metadata = payload.get("metadata", {})
        return rec


def train_recommender(*, settings: Any = None, split_seed: int = 0) -> CuttingRecommender:
    """Train the default recommender (Table 3 networks) on the shipped handbook's default
    split; ``settings`` (a ``CuttingTrainSettings``) default to
    :data:`~surrogates.cutting.training.DEFAULT_SETTINGS`. Imports JAX.
    """
    from surrogates.cutting.training import DEFAULT_SETTINGS, evaluate_pair, train_pair

    settings = settings or DEFAULT_SETTINGS
    table = load_handbook()
    train, val, test = split_handbook(table, seed=split_seed)
    pair = train_pair(train, val, settings=settings, vocabulary=table)
    rec = CuttingRecommender.from_pair(pair, table)
    rec.metadata = {
        "settings": settings.__dict__,
        "split_seed": split_seed,
        "validation": evaluate_pair(pair, val),
        "test": evaluate_pair(pair, test),
    }
    return rec


def load_or_train(
    path: Path | str = WEIGHTS_PATH, *, quick_epochs: int = 300, seed: int = 0
) -> tuple[CuttingRecommender, bool]:
    """Load the saved recommender, or train a quick one (not saved) when the file is missing.

    Returns:
        (recommender, trained_now).
    """
    if Path(path).is_file():
        return CuttingRecommender.load(path), False
    from dataclasses import replace

    from surrogates.cutting.training import DEFAULT_SETTINGS

    settings = replace(DEFAULT_SETTINGS, epochs=quick_epochs, patience=None, seed=seed)
    return train_recommender(settings=settings), True
