r"""Input and target encoding of the cutting-condition networks (paper 002, §3).

The paper feeds the four inputs as plain numbers: operation type 1-4, the Coromant Material Code
(e.g. 1.10, 30.22), Brinell hardness and the cutter integer. Codes are categories, not
magnitudes: as numbers they impose a false order (30.22 aluminium is not "thirty times" 1.10
steel). Two encodings are offered:

* ``"onehot"`` (default): one-hot operation (4), one-hot material sub-class (one column per
  material known at fit time), standardised :math:`\ln HB` (1), one-hot cutter (4).
  Input width :math:`4 + N_{mat} + 1 + 4`.
* ``"paper"``: the paper's 4 numbers, each min-max scaled to [0, 1] over the training table
  (operation, CMC code as a number, HB, cutter).

Targets span almost three decades (Vf from ~60 to ~27 000 mm/min), so the networks learn
standardised logarithms :math:`z = (\ln v - \mu)/\sigma`; :meth:`Encoder.decode_vc` and
:meth:`Encoder.decode_vf` invert this. Network 2 receives the encoded Vc as one extra column.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

ENCODINGS = ("onehot", "paper")
_N_OPERATIONS = 4
_N_CUTTERS = 4


def _cmc_number(cmc: str) -> float:
    """Coromant Material Code as the number the paper feeds ("01.2" -> 1.2, "30.22" -> 30.22)."""
    return float(str(cmc).replace(",", "."))


@dataclass(frozen=True)
class Encoder:
    """Fitted encoding of inputs (operation, material, HB, cutter) and targets (Vc, Vf).

    Attributes:
        mode: "onehot" or "paper".
        materials: material codes in column order (onehot); their CMC numbers in ``cmc_numbers``.
        cmc_numbers: CMC code of each material as a number (paper mode).
        log_hb_mean, log_hb_std: standardisation of ln(HB).
        hb_min, hb_max, cmc_min, cmc_max: min-max ranges (paper mode).
        log_vc_mean, log_vc_std, log_vf_mean, log_vf_std: standardisation of ln Vc, ln Vf.
    """

    mode: str
    materials: tuple[str, ...]
    cmc_numbers: tuple[float, ...]
    log_hb_mean: float
    log_hb_std: float
    hb_min: float
    hb_max: float
    cmc_min: float
    cmc_max: float
    log_vc_mean: float
    log_vc_std: float
    log_vf_mean: float
    log_vf_std: float

    @classmethod
    def fit(
        cls, table: pd.DataFrame, *, mode: str = "onehot", vocabulary: pd.DataFrame | None = None
    ) -> Encoder:
        """Fit the scalings on a (training) handbook table with columns material, cmc, ...

        ``vocabulary`` (a table with material and cmc columns, e.g. the whole handbook) sets the
        material columns, so that materials absent from the training rows stay encodable.
        """
        if mode not in ENCODINGS:
            raise ValueError(f"encoding mode must be one of {ENCODINGS}, got {mode!r}")
        vocab = table if vocabulary is None else vocabulary
        pairs = vocab[["material", "cmc"]].drop_duplicates("material").sort_values("material")
        log_hb = np.log(table["hardness_hb"].to_numpy(float))
        log_vc = np.log(table["vc"].to_numpy(float))
        log_vf = np.log(table["vf"].to_numpy(float))
        cmc = [_cmc_number(c) for c in pairs["cmc"]]
        return cls(
            mode=mode,
            materials=tuple(pairs["material"]),
            cmc_numbers=tuple(cmc),
            log_hb_mean=float(log_hb.mean()),
            log_hb_std=float(log_hb.std() or 1.0),
            hb_min=float(table["hardness_hb"].min()),
            hb_max=float(table["hardness_hb"].max()),
            cmc_min=float(min(cmc)),
            cmc_max=float(max(cmc)),
            log_vc_mean=float(log_vc.mean()),
            log_vc_std=float(log_vc.std() or 1.0),
            log_vf_mean=float(log_vf.mean()),
            log_vf_std=float(log_vf.std() or 1.0),
        )

    @property
    def n_features(self) -> int:
        """Input width of network 1 (network 2 has one more column, the encoded Vc)."""
        if self.mode == "paper":
            return 4
        return _N_OPERATIONS + len(self.materials) + 1 + _N_CUTTERS

    def encode_inputs(
        self,
        *,
        operation: np.ndarray,
        material: np.ndarray,
        hardness_hb: np.ndarray,
        cutter: np.ndarray,
    ) -> np.ndarray:
        """Encode n patterns; returns float32 array of shape (n, :attr:`n_features`).

        Raises:
            ValueError: for an operation or cutter outside 1-4 or a material unknown at fit time.
        """
        op = np.atleast_1d(np.asarray(operation, dtype=int))
        cut = np.atleast_1d(np.asarray(cutter, dtype=int))
        mat = np.atleast_1d(np.asarray(material, dtype=str))
        hb = np.atleast_1d(np.asarray(hardness_hb, dtype=float))
        if not len(op) == len(cut) == len(mat) == len(hb):
            raise ValueError("operation, material, hardness_hb, cutter need the same length")
        if np.any((op < 1) | (op > _N_OPERATIONS)) or np.any((cut < 1) | (cut > _N_CUTTERS)):
            raise ValueError(f"operation and cutter must be integers in 1..{_N_OPERATIONS}")
        unknown = sorted(set(mat) - set(self.materials))
        if unknown:
            raise ValueError(f"unknown material(s) {unknown}; known: {list(self.materials)}")
        if np.any(~(hb > 0)):
            raise ValueError("hardness_hb must be positive (Brinell)")
        mat_idx = np.array([self.materials.index(m) for m in mat], dtype=int)
        if self.mode == "paper":
            cmc = np.asarray(self.cmc_numbers)[mat_idx]
            cols = [
                (op - 1) / (_N_OPERATIONS - 1),
                (cmc - self.cmc_min) / max(self.cmc_max - self.cmc_min, 1e-12),
                (hb - self.hb_min) / max(self.hb_max - self.hb_min, 1e-12),
                (cut - 1) / (_N_CUTTERS - 1),
            ]
            return np.stack(cols, axis=1).astype(np.float32)
        n = len(op)
        eye_op = np.eye(_N_OPERATIONS, dtype=np.float32)
        eye_cut = np.eye(_N_CUTTERS, dtype=np.float32)
        eye_mat = np.eye(len(self.materials), dtype=np.float32)
        z_hb = ((np.log(hb) - self.log_hb_mean) / self.log_hb_std).reshape(n, 1)
        return np.concatenate(
            [eye_op[op - 1], eye_mat[mat_idx], z_hb.astype(np.float32), eye_cut[cut - 1]], axis=1
        )

    def encode_table(self, table: pd.DataFrame) -> np.ndarray:
        """:meth:`encode_inputs` on the columns of a handbook table; shape (n, n_features)."""
        return self.encode_inputs(
            operation=table["operation"].to_numpy(),
            material=table["material"].to_numpy(),
            hardness_hb=table["hardness_hb"].to_numpy(),
            cutter=table["cutter"].to_numpy(),
        )

    def encode_vc(self, vc: np.ndarray) -> np.ndarray:
        """Vc (m/min, shape (n,)) -> standardised ln Vc (float32)."""
        return ((np.log(np.asarray(vc, float)) - self.log_vc_mean) / self.log_vc_std).astype(
            np.float32
        )

    def decode_vc(self, z: np.ndarray) -> np.ndarray:
        """Standardised ln Vc -> Vc in m/min."""
        return np.exp(np.asarray(z, float) * self.log_vc_std + self.log_vc_mean)

    def encode_vf(self, vf: np.ndarray) -> np.ndarray:
        """Vf (mm/min, shape (n,)) -> standardised ln Vf (float32)."""
        return ((np.log(np.asarray(vf, float)) - self.log_vf_mean) / self.log_vf_std).astype(
            np.float32
        )

    def decode_vf(self, z: np.ndarray) -> np.ndarray:
        """Standardised ln Vf -> Vf in mm/min."""
        return np.exp(np.asarray(z, float) * self.log_vf_std + self.log_vf_mean)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Encoder:
        """Inverse of :meth:`to_dict`."""
        fields = dict(data)
        fields["materials"] = tuple(fields["materials"])
        fields["cmc_numbers"] = tuple(float(v) for v in fields["cmc_numbers"])
        return cls(**fields)
