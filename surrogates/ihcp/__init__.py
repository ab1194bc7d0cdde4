"""Neural inverse models for the tool's inverse heat conduction problem (paper 000, §3.2–§4.1).

Array-level parts: sliding windows and min–max scaling (:mod:`.windows`), Flax NNX models
(:mod:`.models`), knowledge-distillation losses (:mod:`.distill`), Orbax checkpoints
(:mod:`.checkpoint`), metrics (:mod:`.metrics`) and figures (:mod:`.plots`). Nothing here imports
DOLFINx; the virtual data set is consumed as plain arrays.
"""
