"""Tool-wear prediction from cutting forces (paper 003, issue 7), tree-free.

Modules: :mod:`.forces` (mechanistic milling forces with wear-land forces), :mod:`.growth`
(three-stage wear curve, wear campaigns), :mod:`.data` (users' records), :mod:`.features`
(Table 4 features, cleaning), :mod:`.selection` (z-score, mutual information),
:mod:`.regressors` (scikit-learn estimators and a JAX MLP with the estimator API),
:mod:`.voting` (GridSearchCV tuning, VotingRegressor), :mod:`.metrics`, :mod:`.taguchi` (L9, S/N,
ANOVA) and :mod:`.pipeline` (the study end to end, leave-one-group-out and random protocols,
baselines).
"""
