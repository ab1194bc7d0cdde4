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

Sensors (:func:`sensor_points`): thin-film thermocouples (TFTC) S1..S4 on the flank of insert 0.
Paper 000 §3.1 measures four points on the flank ("back face") close to the main cutting edge
with an embedded TFTC array; it gives no coordinates. We place them at increasing distance from
F1, so that each carries different information for an inverse method:

.. math::

    \mathbf{x}_i = \mathbf{e}(z_i) + d_i\,\mathbf{u} - \delta\,\mathbf{n},\qquad
    \mathbf{e}(z) = (D/2,\ 0,\ z),\quad
    \mathbf{u} = (-\sin\alpha,\ -\cos\alpha,\ 0),\quad
    \mathbf{n} = (\cos\alpha,\ -\sin\alpha,\ 0),

with :math:`\alpha` the clearance angle, :math:`\mathbf{u}` the unit vector down the flank away
from the edge, :math:`\mathbf{n}` the flank's outward normal, :math:`d_i` the distance from the
edge along the flank (default 0.5, 1.0, 1.5, 2.0 mm), :math:`z_i` the height above the insert tip
(default 2, 4, 6, 9.5 mm; S4 lies beyond ap = 8 mm) and :math:`\delta` = 0.1 mm the depth below the
surface, so that point evaluation never falls on a facet of the boundary.

These flank sensors see the cutting zone closely: S1 reaches about 70 % of the F1 rise, and the
sensor signals have standard deviations of 50–140 K over a 12 s cut. Paper 000's own fit figures
(R² 0.92–0.97 with RMSEs of 1.4–4.5 K, §4.2) imply signals with a standard deviation of only
about 8–16 K, i.e. sensors much farther from the heat input. ``ToolGeometry(sensor_layout="body")``
places S1..S4 where measured step responses give that range: thermocouples in blind holes in the
cutter body above insert 0's seat, 8–10 mm radially inward from the cutting edge, 2–5 mm behind
the rake plane and 12–17 mm above the insert tip (:data:`BODY_SENSORS`; measured on the standard
mesh for the 27-case levels: signal standard deviations of about 11–26 K). Instrumented tool
holders with thermocouples in the body are common practice where thin films are not available;
the price is a severely ill-posed inverse problem (diffusion times of several seconds), which is
what makes the virtual study discriminating.

Files (:func:`save_tool_mesh`): ``<name>.msh`` (Gmsh 4.1) and the sensors side file
``<name>.sensors.json`` (:mod:`meshes.sensors`), both written atomically.

Modules: the dimensions are :class:`ToolGeometry` (:mod:`meshes.tool_geometry`, re-exported
here), the OCC construction is :mod:`meshes.tool_occ`, the Gmsh/MPI plumbing
:mod:`meshes.gmsh_bridge`.

Meshing: first-order tetrahedra. Size targets (m, multiplied by ``size_factor``): ``h_f1`` on F1
(Distance + Threshold field: the size grows linearly with the distance to F1, reaching
``h_insert`` at ``refine_distance``), ``h_insert`` in the inserts and bolts, ``h_body`` elsewhere.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from meshes import tags
from meshes.gmsh_bridge import bcast_error, gmsh_session, tagged_from_model, world
from meshes.sensors import sensors_path, write_sensors
from meshes.tagged import TaggedMesh
from meshes.tool_geometry import ToolGeometry
from meshes.tool_occ import add_geometry, classify_faces, set_mesh_sizes
from thermo.atomic import OutputPathError, atomic_path

__all__ = [
    "GROUP_TAGS",
    "MEASURED_DOFS",
    "SENSOR_NAMES",
    "ToolGeometry",
    "build_tool_model",
    "save_tool_mesh",
    "sensor_points",
    "size_factor_for_dofs",
    "tool_mesh",
]

#: Physical-group integer tags written by the builder (names are the contract, tags are not).
GROUP_TAGS: dict[str, int] = {
    tags.INSERT: 1,
    tags.SHANK: 2,
    tags.BOLT: 3,
    tags.F1: 11,
    tags.F2: 12,
    tags.F3: 13,
}

SENSOR_NAMES: tuple[str, ...] = ("S1", "S2", "S3", "S4")
DEFAULT_EDGE_DISTANCES: tuple[float, ...] = (0.5e-3, 1.0e-3, 1.5e-3, 2.0e-3)
DEFAULT_HEIGHTS: tuple[float, ...] = (2.0e-3, 4.0e-3, 6.0e-3, 9.5e-3)
DEFAULT_DEPTH = 0.1e-3
#: ``"body"`` layout: (radial distance inward from the cutting edge, y, height above the insert
#: tip), m, of S1..S4 (module docstring).
BODY_SENSORS: tuple[tuple[float, float, float], ...] = (
    (8.0e-3, -2.0e-3, 12.0e-3),
    (10.0e-3, -5.0e-3, 13.0e-3),
    (8.0e-3, -5.0e-3, 15.0e-3),
    (10.0e-3, -2.0e-3, 17.0e-3),
)


def sensor_points(
    geometry: ToolGeometry,
    *,
    edge_distances: Sequence[float] = DEFAULT_EDGE_DISTANCES,
    heights: Sequence[float] = DEFAULT_HEIGHTS,
    depth: float = DEFAULT_DEPTH,
) -> dict[str, np.ndarray]:
    """Sensor coordinates (m), name → array of shape (3,), by ``geometry.sensor_layout``.

    ``"flank"``: on the flank of insert 0 at ``edge_distances``, ``heights``, ``depth``;
    ``"body"``: the points :data:`BODY_SENSORS` in the cutter body above insert 0's seat (the
    flank arguments are then not used).

    Args:
        geometry: the tool the sensors belong to.
        edge_distances: distance d_i (m) from the cutting edge along the flank, one per sensor.
        heights: height z_i (m) above the insert tip, one per sensor.
        depth: distance δ (m) below the flank surface.
    """
    if geometry.sensor_layout == "body":
        r = 0.5 * geometry.cutting_diameter
        return {
            name: np.array([r - dx, y, geometry.insert_tip_z + z])
            for name, (dx, y, z) in zip(SENSOR_NAMES, BODY_SENSORS, strict=True)
        }
    if len(edge_distances) != len(heights):
        raise ValueError(
            f"sensor_points: edge_distances ({len(edge_distances)}) and heights ({len(heights)}) "
            "must have the same length"
        )
    names = SENSOR_NAMES if len(heights) == 4 else tuple(f"S{i + 1}" for i in range(len(heights)))
    a = math.radians(geometry.clearance_deg)
    u = np.array([-math.sin(a), -math.cos(a), 0.0])
    n = np.array([math.cos(a), -math.sin(a), 0.0])
    max_d = geometry.insert_thickness / math.cos(a)
    points = {}
    for name, d, h in zip(names, edge_distances, heights, strict=True):
        if not (0 < d < max_d and 0 < h < geometry.insert_length and 0 < depth < d):
            raise ValueError(
                f"sensor {name}: need 0 < depth < edge distance < flank height {max_d:.4g} m and "
                f"0 < height < insert_length {geometry.insert_length:.4g} m; got d={d}, h={h}, "
                f"depth={depth}"
            )
        edge = np.array([0.5 * geometry.cutting_diameter, 0.0, geometry.insert_tip_z + h])
        points[name] = edge + d * u - depth * n
    return points


def build_tool_model(
    gmsh: Any, geometry: ToolGeometry, *, mesh: bool = True
) -> dict[str, list[int]]:
    """Add the meshed cutting system to the current Gmsh session (call on one rank only).

    Returns the entity tags of every named group. Physical groups are named as in
    :mod:`meshes.tags` with the integer tags of :data:`GROUP_TAGS`.
    """
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


#: (size_factor, P1 dofs = mesh nodes) of the default geometry, measured with Gmsh 4.15 (serial;
#: Delaunay down to 0.22, HXT below :data:`meshes.tool_occ.HXT_BELOW_SIZE_FACTOR`):
#: ``tool_mesh(ToolGeometry(size_factor=s)).mesh.geometry.index_map().size_global``.
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
    (0.19, 351212),
    (0.16, 571726),
    (0.13, 1035778),
    (0.11, 1675309),
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
    g = geometry or ToolGeometry()
    comm = world(comm)
    sensors = sensor_points(g)
    source = "builtin:insert-shank-bolt"
    if comm.rank != 0:
        bcast_error(comm, None)
        return tagged_from_model(None, comm, source=source, sensors=sensors)
    with gmsh_session(verbose=verbose) as gmsh:
        try:
            build_tool_model(gmsh, g)
        except Exception as err:  # tell the other ranks before raising, so none waits forever
            bcast_error(comm, RuntimeError(f"{source}: Gmsh build failed: {err}"))
        bcast_error(comm, None)
        return tagged_from_model(gmsh.model, comm, source=source, sensors=sensors)


def save_tool_mesh(
    path: str | os.PathLike,
    geometry: ToolGeometry | None = None,
    *,
    comm: Any = None,
    verbose: bool = False,
) -> Path:
    """Build the insert–shank–bolt mesh and write ``path`` (.msh) + ``<stem>.sensors.json``.

    Gmsh runs on rank 0 of ``comm`` only; all ranks return the same path. Both files are written
    atomically (the sensors first, then the mesh is renamed into place); :func:`meshes.io.load_mesh`
    reads them back.
    """
    comm = world(comm)
    path = Path(path)
    g = geometry or ToolGeometry()
    if path.suffix != ".msh":
        raise ValueError(f"{path}: the tool mesh is written as Gmsh .msh; got {path.suffix!r}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise OutputPathError(f"{path}: is a folder; expected a .msh file path")
    error = None
    if comm.rank == 0:
        try:
            with atomic_path(path) as tmp, gmsh_session(verbose=verbose) as gmsh:
                build_tool_model(gmsh, g)
                gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
                gmsh.write(str(tmp))
                write_sensors(
                    sensors_path(path),
                    sensor_points(g),
                    description="Thin-film thermocouple points S1..S4 (paper 000 §3.1) on the "
                    "flank of insert 0, 0.1 mm below the surface; see meshes/tool.py.",
                )
        except OSError as err:  # cannot write there: the user's to fix, reported as such
            error = err if str(path) in str(err) else type(err)(f"{path}: {err}")
        except Exception as err:
            error = RuntimeError(f"{path}: could not build/write the tool mesh: {err}")
    bcast_error(comm, error)
    return path
