"""The mesh contract between ``meshes`` and ``thermo``: a DOLFINx mesh with named regions.

Whatever made the mesh (the built-in Gmsh insert–shank–bolt builder, a user's ``.msh`` with
physical groups, a DOLFINx box for verification), the solver only sees a :class:`TaggedMesh`:
cells tagged by volume group, facets tagged by facet group, and the name → tag maps.
Names follow :mod:`meshes.tags` for the cutting system (volumes ``insert``, ``shank``, ``bolt``;
facets ``F1`` cutting zone, ``F2`` contact interfaces (interior), ``F3`` air).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TaggedMesh:
    """A mesh with named volume and facet groups.

    Attributes:
        mesh: ``dolfinx.mesh.Mesh`` (3D tetrahedra for the tool; any dimension for verification).
        cell_tags: ``dolfinx.mesh.MeshTags`` on cells; every cell carries one volume tag.
        facet_tags: ``dolfinx.mesh.MeshTags`` on facets (boundary and interior interfaces).
        volume_groups: volume group name → integer tag in ``cell_tags``.
        facet_groups: facet group name → integer tag in ``facet_tags``.
        sensors: sensor name → coordinates (m), shape (3,); travels with the mesh.
        source: where the mesh came from (file path or builder name), for error messages.
    """

    mesh: Any
    cell_tags: Any
    facet_tags: Any
    volume_groups: Mapping[str, int]
    facet_groups: Mapping[str, int]
    sensors: Mapping[str, np.ndarray] = field(default_factory=dict)
    source: str = "<memory>"

    def require(self, *, volumes: Sequence[str] = (), facets: Sequence[str] = ()) -> None:
        """Raise ``KeyError`` naming the source and the missing groups, if any are absent."""
        missing_v = [name for name in volumes if name not in self.volume_groups]
        missing_f = [name for name in facets if name not in self.facet_groups]
        if missing_v or missing_f:
            parts = []
            if missing_v:
                parts.append(f"volume groups {missing_v} (has {sorted(self.volume_groups)})")
            if missing_f:
                parts.append(f"facet groups {missing_f} (has {sorted(self.facet_groups)})")
            raise KeyError(f"{self.source}: missing physical " + " and ".join(parts))
