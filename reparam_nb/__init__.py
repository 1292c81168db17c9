__version__ = "0.1.0"

# the entry point for an estimator in a user's own model (nbs/10_surrogate.ipynb)
from .surrogate import Surrogate, estimators_for, surrogate  # noqa: E402,F401
