r"""Parametric Gmsh (OCC) model of the insert–shank–bolt cutting system of paper 000 (§4.2, Fig. 9).

Geometry (all lengths stored in metres; the defaults describe an indexable 2-flute end mill of
25 mm cutting diameter carrying APMT 1135-type carbide inserts clamped by an M2.5 screw):

* tool axis = :math:`z`, tool tip (end face of the body) at :math:`z = 0`, shank towards :math:`+z`;
* ``shank`` volume: cutter body (cylinder, diameter ``body_diameter``, length ``body_length``) plus
  the shank (cylinder, ``shank_diameter`` × ``shank_length``), with one insert pocket and one chip
  gash per flute;
* ``insert`` volume(s): a prism extruded along :math:`z`. Its rake face is the radial plane
  :math:`y = 0` (0° radial rake), the peripheral cutting edge is the line
  :math:`x = D/2,\ y = 0`, and the flank ("back face" of the paper, §3.1) leaves the edge with the
  clearance angle ``clearance_deg``. It protrudes ``insert_overhang`` below the body tip;
* ``bolt`` volume(s): counter-sunk head (flush with the rake face) and shaft along :math:`-y`,
  through the insert into the pocket floor (thread modelled as a perfect cylindrical contact).

Facet groups (:mod:`meshes.tags`): ``F1`` cutting zone = a rake-face strip of width ``ae``
(0.2 mm) plus a flank strip of width ``flank_contact_width`` (0.1 mm) along the cutting edge,
over the axial depth of cut ``ap`` (8 mm) from the insert tip, on every insert (area
n_inserts · ap · (ae + flank_contact_width)); ``F2`` = every face shared by two different volumes
(insert–shank, insert–bolt, bolt–shank); ``F3`` = every other boundary face (exposed to air).

Modelling choices, where paper 000 is silent (it gives no dimensions for Fig. 9):

* Both flutes are modelled (full 360° body). A one-insert 180° sector is *not* a mirror-symmetric
  problem: a 2-flute cutter is only invariant under a 180° rotation about the axis, which would need
  a periodic condition on the cut plane rather than insulation. The full body costs little because
  the mesh is coarse away from F1.
* F1 is applied on both inserts: with the time-averaged boundary history that embedded sensors can
  identify (DESIGN.md), both teeth receive the same mean heat input. Sensors sit on insert 0.
* Paper §3.1 identifies the cutting zone with the tool–chip contact (wear) area imaged in its
  Fig. 1 for ae = 0.2 mm and ap = 8 mm, without giving its width. We take the rake strip width =
  ae, the only length the paper ties to it (physically the rake contact length follows the chip
  thickness, so read ``ae`` here as the contact-width parameter), plus a narrow flank strip
  (flank-wear land); ``flank_contact_width = 0`` drops the flank part.
* The tool holder and spindle are not modelled: the shank's end face is exposed to air (F3).

Meshing: first-order tetrahedra. Size targets (m, multiplied by ``size_factor``): ``h_f1`` on F1
(Distance + Threshold field: the size grows linearly with the distance to F1, reaching
``h_insert`` at ``refine_distance``), ``h_insert`` in the inserts and bolts, ``h_body`` elsewhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from meshes import tags
from meshes.tagged import TaggedMesh

#: Physical-group integer tags written by the builder (names are the contract, tags are not).
GROUP_TAGS: dict[str, int] = {
    tags.INSERT: 1,
    tags.SHANK: 2,
    tags.BOLT: 3,
    tags.F1: 11,
    tags.F2: 12,
    tags.F3: 13,
}

_MM = 1.0e-3


@dataclass(frozen=True)
class ToolGeometry:
    """Dimensions (m) and mesh-size targets (m) of the insert–shank–bolt cutting system.

    Defaults: 2-flute indexable end mill, cutting diameter 25 mm, APMT 1135-type insert
    (11 × 6.5 × 3.5 mm, 11° clearance), M2.5 clamping screw, cutting zone from paper 000 §3.1
    (ae = 0.2 mm, ap = 8 mm). ``size_factor`` scales every mesh size (smaller → finer).

    Attributes (lengths in m):
        cutting_diameter: D, diameter swept by the cutting edges (25 mm).
        body_diameter, body_length: cutter body below the shank (24 mm, 30 mm).
        shank_diameter, shank_length: cylindrical shank above the body (20 mm, 30 mm).
        n_inserts: number of flutes/inserts, evenly spaced about the axis (2).
        insert_length: along the axis (11 mm); insert_width: radial (6.5 mm);
            insert_thickness: normal to the rake face (3.5 mm).
        clearance_deg: flank clearance angle, degrees (11).
        insert_overhang: axial protrusion of the insert below the body tip (0.5 mm).
        bolt_shaft_diameter, bolt_head_diameter, bolt_head_height: M2.5 screw (2.5, 4.0, 1.2 mm);
            bolt_thread_length: shaft length in the body beyond the insert (1.5 mm).
        gash_depth: chip gash in front of the rake face, tangential depth (4 mm).
        ae: radial depth of cut = rake-face width of F1 (0.2 mm, paper 000 §3.1 and §4.2).
        ap: axial depth of cut = length of F1 along the edge from the insert tip (8 mm).
        flank_contact_width: flank-face width of F1 (0.1 mm; 0 = rake strip only).
        h_f1, h_insert, h_body: target element sizes on F1, in inserts/bolts, elsewhere
            (0.15, 0.8, 4 mm), each multiplied by ``size_factor``.
        refine_distance: distance from F1 at which the size has grown to h_insert (3 mm).
        size_factor: mesh knob, see :data:`MEASURED_DOFS` and :func:`size_factor_for_dofs`.
    """

    cutting_diameter: float = 25.0 * _MM
    body_diameter: float = 24.0 * _MM
    body_length: float = 30.0 * _MM
    shank_diameter: float = 20.0 * _MM
    shank_length: float = 30.0 * _MM
    n_inserts: int = 2
    insert_length: float = 11.0 * _MM
    insert_width: float = 6.5 * _MM
    insert_thickness: float = 3.5 * _MM
    clearance_deg: float = 11.0
    insert_overhang: float = 0.5 * _MM
    bolt_shaft_diameter: float = 2.5 * _MM
    bolt_head_diameter: float = 4.0 * _MM
    bolt_head_height: float = 1.2 * _MM
    bolt_thread_length: float = 1.5 * _MM
    gash_depth: float = 4.0 * _MM
    ae: float = 0.2 * _MM
    ap: float = 8.0 * _MM
    flank_contact_width: float = 0.1 * _MM
    h_f1: float = 0.15 * _MM
    h_insert: float = 0.8 * _MM
    h_body: float = 4.0 * _MM
    refine_distance: float = 3.0 * _MM
    size_factor: float = 1.0

    def __post_init__(self) -> None:
        if not (isinstance(self.n_inserts, int) and 1 <= self.n_inserts <= 8):
            raise ValueError(
                f"ToolGeometry.n_inserts must be an int in 1..8, got {self.n_inserts!r}"
            )
        for f in dataclasses.fields(self)[:-1]:
            value = getattr(self, f.name)
            ok = isinstance(value, int | float) and math.isfinite(value) and value >= 0
            if not ok or (value == 0 and f.name != "flank_contact_width"):
                raise ValueError(f"ToolGeometry.{f.name} must be a positive number, got {value!r}")
        if not (isinstance(self.size_factor, int | float) and 0 < self.size_factor < 100):
            raise ValueError(
                f"ToolGeometry.size_factor must be in (0, 100), got {self.size_factor!r}"
            )
        self._check_consistency()

    def _check_consistency(self) -> None:
        r_c, r_b = 0.5 * self.cutting_diameter, 0.5 * self.body_diameter
        x_b = r_c - 0.5 * self.insert_width  # bolt axis
        y_end = self.insert_thickness + self.bolt_thread_length
        rules = (
            (r_b < r_c, "body_diameter must be smaller than cutting_diameter"),
            (self.insert_width < r_c, "insert_width must be smaller than cutting_diameter / 2"),
            (self.ap <= self.insert_length, "ap must not exceed insert_length"),
            (self.ae < 0.5 * self.insert_width, "ae (F1 rake width) must be below insert_width/2"),
            (
                self.flank_contact_width < 0.5 * self.insert_thickness,
                "flank_contact_width must be below insert_thickness / 2",
            ),
            (
                self.bolt_shaft_diameter < self.bolt_head_diameter,
                "bolt_head_diameter must exceed bolt_shaft_diameter",
            ),
            (
                self.bolt_head_height < self.insert_thickness,
                "bolt_head_height must be below insert_thickness",
            ),
            (
                math.hypot(x_b + 0.5 * self.bolt_shaft_diameter, y_end) <= r_b - 0.3 * _MM,
                "bolt shaft ends within 0.3 mm of the body surface: shorten bolt_thread_length",
            ),
            (
                x_b + 0.5 * self.bolt_head_diameter < r_c - self.ae,
                "bolt head overlaps the F1 strip: reduce bolt_head_diameter",
            ),
            (
                self.insert_length - self.insert_overhang < self.body_length,
                "insert_length - insert_overhang must be below body_length",
            ),
            (0 < self.clearance_deg < 30, "clearance_deg must be in (0, 30)"),
        )
        problems = [message for ok, message in rules if not ok]
        if problems:
            raise ValueError("ToolGeometry: " + "; ".join(problems))

    @classmethod
    def from_mapping(cls, params: Mapping[str, Any], *, source: str = "<params>") -> ToolGeometry:
        """Build from a mapping of field names (SI units), e.g. a TOML ``[mesh.params]`` table.

        Raises ``KeyError`` naming ``source`` and the unknown keys, ``ValueError`` on bad values.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise KeyError(
                f"{source}: unknown tool-geometry parameter(s) {unknown}; known: {sorted(known)}"
            )
        try:
            return cls(**dict(params))
        except ValueError as err:
            raise ValueError(f"{source}: {err}") from err

    @property
    def insert_tip_z(self) -> float:
        """Axial coordinate (m) of the insert's lower end (tip), below the body tip z = 0."""
        return -self.insert_overhang


@contextlib.contextmanager
def gmsh_session(*, verbose: bool = False) -> Iterator[Any]:
    """Initialise Gmsh (terminal output off unless ``verbose``), yield the module, finalise.

    Finalises even when the body raises, so a failed build leaves no Gmsh state behind.
    """
    import gmsh

    started = not gmsh.isInitialized()
    if started:
        gmsh.initialize(interruptible=False)
    gmsh.option.setNumber("General.Terminal", 1 if verbose else 0)
    gmsh.option.setNumber("General.Verbosity", 5 if verbose else 0)
    try:
        yield gmsh
    finally:
        if started:
            gmsh.finalize()


def build_tool_model(
    gmsh: Any, geometry: ToolGeometry, *, mesh: bool = True
) -> dict[str, list[int]]:
    """Add the meshed cutting system to the current Gmsh session (call on one rank only).

    Returns the entity tags of every named group. Physical groups are named as in
    :mod:`meshes.tags` with the integer tags of :data:`GROUP_TAGS`.
    """
    from meshes.tool_occ import add_geometry, classify_faces, set_mesh_sizes

    gmsh.model.add("insert-shank-bolt")
    groups = add_geometry(gmsh, geometry)
    groups.update(classify_faces(gmsh, groups))
    for name in tags.VOLUME_GROUPS:
        gmsh.model.addPhysicalGroup(3, groups[name], GROUP_TAGS[name], name=name)
    for name in tags.FACET_GROUPS:
        gmsh.model.addPhysicalGroup(2, groups[name], GROUP_TAGS[name], name=name)
    if mesh:
        set_mesh_sizes(gmsh, geometry, groups)
        gmsh.model.mesh.generate(3)
    return groups


#: (size_factor, P1 dofs = mesh nodes) of the default geometry, measured with Gmsh 4.15 (serial,
#: Delaunay): ``tool_mesh(ToolGeometry(size_factor=s)).mesh.geometry.index_map().size_global``.
#: Gmsh meshes are deterministic for a given version; another version may differ by a few per cent.
MEASURED_DOFS: tuple[tuple[float, int], ...] = (
    (2.0, 1728),
    (1.0, 5399),
    (0.7, 12188),
    (0.5, 28031),
    (0.4, 50704),
    (0.3, 110440),
    (0.25, 182879),
    (0.22, 262539),
)


def size_factor_for_dofs(n_dofs: int) -> float:
    """``size_factor`` that gives about ``n_dofs`` P1 dofs on the default geometry.

    Log-log interpolation of :data:`MEASURED_DOFS` (N ∝ s^-p, p ≈ 1.7 coarse to 2.7 fine), with
    the end slopes beyond the table. Check the real count from the built mesh.
    """
    if not n_dofs > 0:
        raise ValueError(f"size_factor_for_dofs: n_dofs must be positive, got {n_dofs!r}")
    log_s, log_n = np.log(np.array(MEASURED_DOFS, dtype=float)).T
    x = math.log(n_dofs)
    i = int(np.clip(np.searchsorted(log_n, x) - 1, 0, len(log_n) - 2))
    slope = (log_s[i + 1] - log_s[i]) / (log_n[i + 1] - log_n[i])
    return float(math.exp(log_s[i] + slope * (x - log_n[i])))


def tool_mesh(
    geometry: ToolGeometry | None = None, comm: Any = None, *, verbose: bool = False
) -> TaggedMesh:
    """Build and mesh the cutting system on rank 0 of ``comm`` and distribute it (MPI-safe).

    Args:
        geometry: dimensions and mesh sizes; defaults to ``ToolGeometry()``.
        comm: MPI communicator (default ``MPI.COMM_WORLD``).
        verbose: let Gmsh print its log.

    Returns:
        ``TaggedMesh`` with volumes insert/shank/bolt, facets F1/F2/F3, sensors S1..S4 (m).
    """
    from mpi4py import MPI

    from meshes.io import tagged_from_model
    from meshes.sensors import sensor_points

    g = geometry or ToolGeometry()
    comm = comm or MPI.COMM_WORLD
    sensors = sensor_points(g)
    source = "builtin:insert-shank-bolt"
    if comm.rank != 0:
        _raise_if(comm.bcast(None, root=0))
        return tagged_from_model(None, comm, source=source, sensors=sensors)
    with gmsh_session(verbose=verbose) as gmsh:
        try:
            build_tool_model(gmsh, g)
        except Exception as err:  # tell the other ranks before raising, so none waits forever
            comm.bcast(f"{source}: Gmsh build failed: {err}", root=0)
            raise
        comm.bcast(None, root=0)
        return tagged_from_model(gmsh.model, comm, source=source, sensors=sensors)


def _raise_if(message: str | None) -> None:
    if message is not None:
        raise RuntimeError(message)
