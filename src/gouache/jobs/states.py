"""Operation states, as the Azure async image API names them.

    notRunning --claim (lease)--> running --done--> succeeded
         |                          |----fail----> failed
         |                          |--lease lapsed--> running again (another claim, attempts + 1)
         |                          `--lapsed at max_attempts--> failed
         `--sync request gave up--> canceled
    succeeded | failed | canceled --DELETE or expiry--> deleted

Every transition is one UPDATE guarded by the state it leaves (finishing also by the claim's
worker and attempt), so two workers can never both write an operation's result and a finished
one is never overwritten. See docs/architecture.md, "Leases".
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NOT_RUNNING = "notRunning"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    DELETED = "deleted"


UNFINISHED = frozenset({Status.NOT_RUNNING, Status.RUNNING})
FINISHED = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED})
