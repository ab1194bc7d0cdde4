"""Names of the physical groups of the insert–shank–bolt cutting system (paper 000, Fig. 9).

Volumes: ``insert`` (WC–Co carbide), ``shank`` (tool body, alloy steel), ``bolt`` (clamping screw).
Facets: ``F1`` cutting zone on the insert near the edge (heat input), ``F2`` insert–shank–bolt
contact interfaces (interior), ``F3`` every outer face exposed to air (convection).
"""

INSERT = "insert"
SHANK = "shank"
BOLT = "bolt"
F1 = "F1"
F2 = "F2"
F3 = "F3"

VOLUME_GROUPS: tuple[str, ...] = (INSERT, SHANK, BOLT)
FACET_GROUPS: tuple[str, ...] = (F1, F2, F3)
