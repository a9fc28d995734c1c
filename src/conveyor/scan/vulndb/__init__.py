"""Offline vulnerability data: importers for OSV, Alpine secdb and the Debian security tracker,
and the database writer they feed."""
