"""The inverse heat conduction room (paper 000's IHCP, DESIGN.md).

* The contract and the one registry: :mod:`.method` (``estimate(record, sensors=None) ->
  BoundaryEstimate``), :mod:`.registry` (every method by name; read by ``millheat inverse``, the
  main job and the studies), the one record type :mod:`.record` (``SensorRecord``, CSV).
* The fast forward model: :mod:`.linear_response` (one FEM step response, Duhamel superposition,
  :mod:`.duhamel`; low-rank fields, :mod:`.lowrank`) and :mod:`.sensitivity`.
* Methods behind the contract: :mod:`.classical` (Tikhonov of :mod:`.tikhonov`, Beck's SFSM of
  :mod:`.sfsm`, the Kalman/RTS smoother of :mod:`.kalman`), :mod:`.nonlinear_inverse`
  (Gauss–Newton for temperature-dependent properties), :mod:`.baselines` (FIR filter,
  parameters only); the neural ones live in :mod:`surrogates.ihcp.inverse_method`.
* Judging: :mod:`.evaluation` (boundary error, leave-one-sensor-out), :mod:`.robustness`
  (held-out records of the generating model), :mod:`.study` (classical methods on the 27-case
  set).
* Virtual experiments: :mod:`.design` (the 27-case design and study constants),
  :mod:`.cutting_zone` and :mod:`.sensors` (F1 and sensor models), :mod:`.dataset` and
  :mod:`.tool_dataset` (the 27-case data set), :mod:`.virtual_lab` (the generating model that
  differs from every inverse's).
* Uses: :mod:`.reconstruction` (+ :mod:`.recon_plots`, :mod:`.recon_render`) and :mod:`.run`
  (``millheat inverse``).

Array-level modules import NumPy/SciPy only, so ``surrogates`` can use the contract and the
record without DOLFINx.
"""
