"""Fixtures: see module owner."""
