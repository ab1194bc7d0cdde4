"""Cutting-condition recommender of paper 002 (Duran, Rodriguez, Consalter 2008).

Two chained feed-forward networks recommend the cutting speed Vc (m/min) and the feed speed
Vf (mm/min) of an end-milling operation from (operation type, workpiece material, Brinell
hardness, cutter type); network 1's Vc is an input of network 2.

Modules: :mod:`.catalogue` (material classes, cutters, operation types), :mod:`.handbook` (the
shipped handbook table, its build and split), :mod:`.encoding` (input and target encoding),
:mod:`.networks` (the two MLPs of Table 3 and their chaining), :mod:`.training` (training with
the shared loop), :mod:`.metrics` (MAD, GF, grouped percent errors), :mod:`.search`
(architecture search of Table 2), :mod:`.inference` (NumPy forward pass),
:mod:`.recommender` (validated recommendations, saved weights).
"""
