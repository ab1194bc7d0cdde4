"""Heat physics: materials, transient heat solver (DOLFINx), probes, linear-response operator,
classical inverse methods, virtual experiments, output writers and renders.

The package import is light: modules that need DOLFINx import it themselves, so array-level pieces
(problem specification, Duhamel superposition, inverse methods) load without the FEM stack.
"""
