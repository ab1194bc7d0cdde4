"""Virtual horizontal machining centre of paper 001 (Chuang et al., Machines 14 (2026) 309).

* :mod:`thermo.machine.conditions` — the operating conditions H1'–H16' (delivery state, 2021)
  and H1–H20 (aged state, 2024) as schedules of spindle speed, ambient temperature and servo state.
* :mod:`thermo.machine.centre` — lumped thermal networks of the machine that turn a condition into
  a measurement record (named temperature points and the tool-tip Z drift): the paper's
  near-static 6-node network (``machine="lumped"``) and a network with unmeasured internal nodes,
  a slow structural core and an enclosure-air ambient path (``machine="dynamic"``), whose drift a
  static regression on the sensors cannot follow.

Array-level only (NumPy/SciPy/pandas): no DOLFINx, no JAX.
"""
