"""Version ordering, one module per ecosystem's own rules (see `ordering.comparator`)."""
