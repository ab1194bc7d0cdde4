"""JAX/Flax/Optax surrogates working on arrays only (never imports DOLFINx): data windows and
scaling, models, the training loop, distillation, metrics, thermal-error compensation, tool-wear
regression and cutting-condition networks."""
