"""Catalogue facts behind the handbook table (paper 002): material classes, cutters, operations.

Sources and the meaning of every number are given in :mod:`surrogates.cutting.handbook`
(ISO 513:2012 groups; Sandvik Coromant MC/CMC classes and hardness ranges; tool makers'
solid-carbide starting values; Machinery's Handbook speed tables). Units: hardness in HB
(Brinell), ``vc_ref`` in m/min, ``hex_ref`` in mm, cutter diameter in mm.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MaterialClass:
    """One workpiece-material sub-class (hardness in HB, vc_ref in m/min, hex_ref in mm)."""

    code: str
    cmc: str
    name: str
    hb_min: float
    hb_ref: float
    hb_max: float
    vc_ref: float
    hex_ref: float

    @property
    def iso_group(self) -> str:
        """ISO 513 group letter (P, M, K, N, S, H)."""
        return self.code[0]


@dataclass(frozen=True)
class CutterType:
    """Cutter type: nominal diameter (mm), teeth, factors on vc_ref and hex_ref."""

    name: str
    diameter_mm: float
    teeth: int
    vc_factor: float
    fz_factor: float
    excluded_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class OperationType:
    """Operation type: radial engagement ae/D, axial ap/D, speed factor."""

    name: str
    ae_over_d: float
    ap_over_d: float
    vc_factor: float


_M = MaterialClass
#: Material sub-classes, keyed by code (ISO 513 group + Sandvik MC-style sub-class).
MATERIALS: dict[str, MaterialClass] = {
    m.code: m
    for m in (
        _M("P1.1", "01.1", "Unalloyed steel, C 0.10-0.25 %", 90, 125, 200, 260, 0.060),
        _M("P1.2", "01.2", "Unalloyed steel, C 0.25-0.55 %", 120, 150, 250, 240, 0.060),
        _M("P1.3", "01.3", "Unalloyed steel, C > 0.55 %", 150, 200, 300, 210, 0.055),
        _M("P2.1", "02.1", "Low-alloy steel, annealed", 150, 180, 260, 200, 0.055),
        _M("P2.5", "02.2", "Low-alloy steel, hardened and tempered", 220, 300, 400, 150, 0.050),
        _M("P3.0", "03.11", "High-alloy steel, annealed", 150, 200, 260, 170, 0.050),
        _M("P3.2", "03.21", "High-alloy (tool) steel, hardened", 280, 330, 400, 120, 0.045),
        _M("M1.0", "05.11", "Stainless steel, ferritic/martensitic", 150, 200, 260, 170, 0.045),
        _M("M2.0", "05.21", "Stainless steel, austenitic", 130, 180, 230, 150, 0.045),
        _M("M3.1", "05.51", "Stainless steel, duplex", 200, 230, 290, 110, 0.040),
        _M("K1.1", "07.1", "Malleable cast iron, ferritic", 110, 150, 200, 230, 0.070),
        _M("K2.1", "08.1", "Grey cast iron, low tensile", 150, 180, 220, 240, 0.070),
        _M("K2.2", "08.2", "Grey cast iron, high tensile", 200, 220, 260, 200, 0.065),
        _M("K3.1", "09.1", "Nodular cast iron, ferritic", 130, 160, 200, 190, 0.065),
        _M("K3.3", "09.2", "Nodular cast iron, pearlitic", 200, 250, 300, 160, 0.060),
        _M("N1.2", "30.12", "Aluminium alloy, wrought, aged", 60, 100, 150, 700, 0.080),
        _M("N1.3", "30.22", "Aluminium alloy, cast, aged, Si <= 13 %", 60, 90, 130, 600, 0.080),
        _M("N1.4", "30.41", "Aluminium alloy, cast, Si > 13 %", 100, 130, 150, 400, 0.070),
        _M("N3.3", "33.2", "Copper alloy, brass", 60, 90, 180, 350, 0.070),
        _M("S1.0", "20.11", "Iron-based heat-resistant alloy, annealed", 180, 200, 240, 70, 0.040),
        _M("S2.0", "20.22", "Nickel-based alloy, aged (Inconel 718)", 300, 350, 425, 40, 0.035),
        _M("S3.0", "20.31", "Cobalt-based alloy, annealed", 180, 250, 300, 30, 0.035),
        _M("S4.1", "23.1", "Titanium, commercially pure", 150, 200, 250, 100, 0.050),
        _M("S4.2", "23.22", "Titanium alloy alpha-beta (Ti-6Al-4V)", 280, 330, 380, 60, 0.045),
        _M("H1.1", "04.1", "Hardened steel 45-50 HRC", 420, 450, 480, 110, 0.035),
        _M("H1.2", "04.1", "Hardened steel 51-55 HRC", 490, 515, 545, 85, 0.030),
        _M("H1.3", "04.1", "Hardened steel 56-60 HRC", 555, 585, 615, 65, 0.025),
    )
}

#: Cutter types 1-4 (the paper uses four commercial end mills coded as integers).
CUTTERS: dict[int, CutterType] = {
    1: CutterType("Solid carbide square end mill, coated", 12.0, 4, 1.00, 1.0),
    2: CutterType("HSS-Co (M42) square end mill", 12.0, 4, 0.25, 0.8, ("H", "S")),
    3: CutterType("Indexable square-shoulder end mill, coated carbide", 25.0, 3, 1.10, 1.8),
    4: CutterType("Solid carbide ball-nose end mill, coated", 10.0, 2, 0.90, 1.0),
}

#: Operation types 1-4 (the four ap/ae relations of the paper's Fig. 2).
OPERATIONS: dict[int, OperationType] = {
    1: OperationType("Full slot", 1.00, 0.5, 0.80),
    2: OperationType("Shoulder roughing", 0.50, 1.0, 1.00),
    3: OperationType("Side finishing", 0.10, 1.5, 1.30),
    4: OperationType("High-speed light radial engagement", 0.05, 2.0, 1.60),
}
