"""Replication: the copy engine (by digest, on top of `conveyor.client`) and backfills."""
