"""Classical inverse heat conduction for the cutting-zone input (paper 000's IHCP, DESIGN.md).

All estimators share one linear forward model, the sensitivity matrix built from the FEM step
response (:mod:`thermo.inverse.sensitivity`): Tikhonov of order 0/1 with discrepancy, GCV or
L-curve parameter choice (:mod:`thermo.inverse.tikhonov`) and Beck's sequential function
specification (:mod:`thermo.inverse.sfsm`). :mod:`thermo.inverse.evaluation` holds the metrics
every inverse method in millheat (classical and neural) is judged by. The estimators only see
the sensitivity, so the same code estimates an F1 temperature (K above T0) or an F1 heat flux
(W/m²).
"""
