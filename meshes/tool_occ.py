"""OCC construction, facet classification and mesh-size fields of the insert–shank–bolt model.

Private helpers of :mod:`meshes.tool` (geometry and conventions are documented there). Solids are
built in millimetres, where OCC's tolerances suit the 0.1 mm features of the cutting zone, made
conforming with one ``occ.fragment`` (volumes plus the F1 imprint surfaces), then scaled to metres.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from meshes import tags

if TYPE_CHECKING:
    from meshes.tool_geometry import ToolGeometry

_MM = 1.0e-3
#: Below this size factor (above ~300 000 nodes) the 3D mesher is HXT (Gmsh ``Algorithm3D`` 10;
#: Marot, Pellerin & Remacle, IJNME 2019) instead of Delaunay (1): measured here at size factor
#: 0.25, 3D meshing 3.5 s against 32 s with a better worst element (min SICN 0.31 against
#: 0.15); at 0.13 (1.04 M nodes) 22 s. Coarser meshes keep Delaunay, so every mesh and cache
#: of the default sizes stays as it was. HXT runs on one thread: with two it is faster but not
#: reproducible (node counts differed run to run), and the response caches need the same mesh.
HXT_BELOW_SIZE_FACTOR = 0.2


def _insert_and_bolt(occ: Any, g: ToolGeometry) -> tuple[int, int, list[int]]:
    """Insert prism (without bolt hole), bolt, and F1 imprint surfaces of flute 0, in mm."""
    r_c = 0.5 * g.cutting_diameter / _MM
    w, t, length = g.insert_width / _MM, g.insert_thickness / _MM, g.insert_length / _MM
    z0 = g.insert_tip_z / _MM
    tan_a = math.tan(math.radians(g.clearance_deg))
    x_in = r_c - w
    corners = [(x_in, 0.0), (r_c, 0.0), (r_c - t * tan_a, -t), (x_in, -t)]
    pts = [occ.addPoint(x, y, z0) for x, y in corners]
    lines = [occ.addLine(pts[i], pts[(i + 1) % 4]) for i in range(4)]
    base = occ.addPlaneSurface([occ.addCurveLoop(lines)])
    prism = [e for e in occ.extrude([(2, base)], 0, 0, length) if e[0] == 3][0][1]

    x_b, z_b = x_in + 0.5 * w, z0 + 0.5 * length
    h_head = g.bolt_head_height / _MM
    head = occ.addCylinder(x_b, 0, z_b, 0, -h_head, 0, 0.5 * g.bolt_head_diameter / _MM)
    shaft_len = t - h_head + g.bolt_thread_length / _MM
    shaft = occ.addCylinder(x_b, -h_head, z_b, 0, -shaft_len, 0, 0.5 * g.bolt_shaft_diameter / _MM)
    bolt = occ.fuse([(3, head)], [(3, shaft)])[0][0][1]

    ap, wr, wf = g.ap / _MM, g.ae / _MM, g.flank_contact_width / _MM
    imprints = [
        _quad(occ, [(r_c - wr, 0, z0), (r_c, 0, z0), (r_c, 0, z0 + ap), (r_c - wr, 0, z0 + ap)])
    ]
    if wf > 0:
        # flank leaves the edge along u = (-sin a, -cos a, 0); the strip's width is measured along u
        a = math.radians(g.clearance_deg)
        xf, yf = r_c - wf * math.sin(a), -wf * math.cos(a)
        imprints.append(
            _quad(occ, [(r_c, 0, z0), (xf, yf, z0), (xf, yf, z0 + ap), (r_c, 0, z0 + ap)])
        )
    return prism, bolt, imprints


def _quad(occ: Any, corners: list[tuple[float, float, float]]) -> int:
    pts = [occ.addPoint(*c) for c in corners]
    lines = [occ.addLine(pts[i], pts[(i + 1) % 4]) for i in range(4)]
    return occ.addPlaneSurface([occ.addCurveLoop(lines)])


def add_geometry(gmsh: Any, g: ToolGeometry) -> dict[str, list[int]]:
    """Create the conforming OCC model (metres); return volume and F1-surface tags by group."""
    occ = gmsh.model.occ
    r_b, r_s = 0.5 * g.body_diameter / _MM, 0.5 * g.shank_diameter / _MM
    l_b, l_s = g.body_length / _MM, g.shank_length / _MM
    body = occ.addCylinder(0, 0, 0, 0, 0, l_b, r_b)
    shank = occ.addCylinder(0, 0, l_b, 0, 0, l_s, r_s)
    body = occ.fuse([(3, body)], [(3, shank)])[0][0][1]

    r_c = 0.5 * g.cutting_diameter / _MM
    x_gash = r_c - g.insert_width / _MM - 1.5
    z_top = g.insert_tip_z / _MM + g.insert_length / _MM + 1.5
    inserts, bolts, imprints, cutters = [], [], [], []
    for k in range(g.n_inserts):
        prism, bolt, f1 = _insert_and_bolt(occ, g)
        gash = occ.addBox(x_gash, 0, -1.0, r_c + 1.0 - x_gash, g.gash_depth / _MM, z_top + 1.0)
        entities = [(3, prism), (3, bolt), (3, gash)] + [(2, s) for s in f1]
        if k:
            occ.rotate(entities, 0, 0, 0, 0, 0, 1, 2.0 * math.pi * k / g.n_inserts)
        cutters += [(3, prism), (3, bolt), (3, gash)]
        inserts.append(prism)
        bolts.append(bolt)
        imprints += f1
    body_cut = occ.cut([(3, body)], cutters, removeObject=True, removeTool=False)[0]
    occ.remove([c for c in cutters if c[1] not in inserts + bolts], recursive=True)
    insert_cut = []
    for prism, bolt in zip(inserts, bolts, strict=True):
        insert_cut += occ.cut([(3, prism)], [(3, bolt)], removeObject=True, removeTool=False)[0]

    objects = body_cut + insert_cut + [(3, b) for b in bolts]
    groups = {tags.SHANK: body_cut, tags.INSERT: insert_cut, tags.BOLT: [(3, b) for b in bolts]}
    _, out_map = occ.fragment(objects, [(2, s) for s in imprints])
    new = {name: [] for name in groups}
    for i, dimtag in enumerate(objects):
        name = next(n for n, members in groups.items() if dimtag in members)
        new[name] += [t for d, t in out_map[i] if d == 3]
    f1 = [t for j in range(len(imprints)) for d, t in out_map[len(objects) + j] if d == 2]
    occ.dilate(occ.getEntities(), 0, 0, 0, _MM, _MM, _MM)
    occ.synchronize()
    return {**new, tags.F1: sorted(set(f1))}


def classify_faces(gmsh: Any, groups: dict[str, list[int]]) -> dict[str, list[int]]:
    """Split every face into F1 (given), F2 (shared by two volumes) and F3 (other boundary)."""
    f1 = set(groups[tags.F1])
    f2, f3 = [], []
    for _, face in gmsh.model.getEntities(2):
        owners = gmsh.model.getAdjacencies(2, face)[0]
        if len(owners) == 2:
            f2.append(face)
        elif len(owners) == 1 and face not in f1:
            f3.append(face)
        elif len(owners) == 0:
            raise RuntimeError(f"meshes.tool: face {face} bounds no volume (OCC fragment failed)")
    if not f1 <= {face for _, face in gmsh.model.getEntities(2)} - set(f2):
        raise RuntimeError("meshes.tool: an F1 imprint did not end on the outer boundary")
    return {tags.F1: sorted(f1), tags.F2: sorted(f2), tags.F3: sorted(f3)}


def set_mesh_sizes(gmsh: Any, g: ToolGeometry, groups: dict[str, list[int]]) -> None:
    """Distance/Threshold refinement towards F1, finer constant size in inserts and bolts; the
    3D algorithm by size (:data:`HXT_BELOW_SIZE_FACTOR`)."""
    s = g.size_factor
    field = gmsh.model.mesh.field
    dist = field.add("Distance")
    field.setNumbers(dist, "SurfacesList", groups[tags.F1])
    field.setNumber(dist, "Sampling", 40)
    thr = field.add("Threshold")
    field.setNumber(thr, "InField", dist)
    field.setNumber(thr, "SizeMin", s * g.h_f1)
    field.setNumber(thr, "SizeMax", s * g.h_body)
    # linear in distance: h_f1 up to d0, h_insert at refine_distance, h_body beyond (all × s)
    d0 = 0.5 * g.ae
    slope = (g.h_insert - g.h_f1) / max(g.refine_distance - d0, 1e-12)
    field.setNumber(thr, "DistMin", d0)
    field.setNumber(thr, "DistMax", d0 + max(g.h_body - g.h_f1, 0.0) / max(slope, 1e-12))
    inner = field.add("Constant")
    field.setNumber(inner, "VIn", s * g.h_insert)
    field.setNumber(inner, "VOut", s * g.h_body)
    field.setNumbers(inner, "VolumesList", groups[tags.INSERT] + groups[tags.BOLT])
    field.setNumber(inner, "IncludeBoundary", 1)
    fmin = field.add("Min")
    field.setNumbers(fmin, "FieldsList", [thr, inner])
    field.setAsBackgroundMesh(fmin)
    for opt, val in (
        ("Mesh.MeshSizeExtendFromBoundary", 0),
        ("Mesh.MeshSizeFromPoints", 0),
        ("Mesh.MeshSizeFromCurvature", 12),
        ("Mesh.ElementOrder", 1),
        ("Mesh.Algorithm", 6),
        ("Mesh.Algorithm3D", 10 if s < HXT_BELOW_SIZE_FACTOR else 1),
        ("Mesh.MaxNumThreads3D", 1),  # reproducible meshes (HXT)
    ):
        gmsh.option.setNumber(opt, val)
