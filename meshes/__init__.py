"""Meshes: Gmsh geometry builders, physical-group tags, sensor points and mesh I/O.

Modules, in import order (no cycles): :mod:`~meshes.tags`, :mod:`~meshes.tagged` (the
``TaggedMesh`` contract), :mod:`~meshes.units` (m/mm and the size check), :mod:`~meshes.sensors`
(the sensors side file), :mod:`~meshes.gmsh_bridge` (Gmsh session, model → ``TaggedMesh``, MPI
errors), :mod:`~meshes.io` (load a ``.msh``), :mod:`~meshes.convert` (meshio in/out),
:mod:`~meshes.tool_geometry`, :mod:`~meshes.tool_occ` and :mod:`~meshes.tool` (the
insert–shank–bolt builder, its sensors and writer), :mod:`~meshes.boxes` (verification shapes),
:mod:`~meshes.plot` (region pictures).
"""
