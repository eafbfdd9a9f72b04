"""Operation states, as the Azure async image API names them.

    notRunning --claim--> running --done--> succeeded
         |                   |----fail----> failed
         |                   `--crash-----> notRunning   (re-queued at restart, attempts + 1)
         `--(too many attempts)-----------> failed
    succeeded | failed | canceled --DELETE or expiry--> deleted

Every transition is one UPDATE guarded by the state it leaves, so two workers can never both run
an operation and a finished one is never overwritten.
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
