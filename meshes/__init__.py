"""Gmsh geometry builders (insert–shank–bolt cutting system, verification shapes), physical-group
tags, sensor points and mesh I/O."""
