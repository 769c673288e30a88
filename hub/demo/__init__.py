"""The synthetic demo data set (`hub demo`): generator, loader and what it contains."""

DEFAULT_ORDERS = 2000  # `hub demo` without --orders
DEFAULT_SEED = 7  # `hub demo` without --seed
