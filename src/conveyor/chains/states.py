"""The words of records and steps (ACR's): statuses and results."""

from typing import Final

# Record status and result.
RUNNING: Final = "RUNNING"
COMPLETE: Final = "COMPLETE"
CANCELING: Final = "CANCELING"
CANCELED: Final = "CANCELED"
SUCCESS: Final = "SUCCESS"
FAILED: Final = "FAILED"
DENIED: Final = "DENIED"

# Step status (RUNNING, SUCCESS, FAILED, CANCELED and DENIED as above).
PENDING: Final = "PENDING"
SKIPPED: Final = "SKIPPED"

NODE_ORDER: Final = ("BUILD", "SCAN", "SYNC", "DISTRIBUTE")
STEP_DONE: Final = frozenset({SUCCESS, SKIPPED})
STEP_FINAL: Final = frozenset({SUCCESS, SKIPPED, FAILED, CANCELED, DENIED})
