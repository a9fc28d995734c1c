"""Package inventory of a merged image tree, one module per package format."""
