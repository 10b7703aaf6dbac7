"""The message body of a job: what to run (`kind`), with what (`data`), and not before when.

The body is JSON with a version so that a message written by an older deploy is still understood (or
refused clearly) by a newer worker. `not_before` lets a job wait longer than SQS's 15-minute delivery
delay: a worker that receives it early sends it back with the time still to wait (`worker.py`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core import clock
from chalicelib.core.ids import new_id

VERSION = 1
MAX_BODY_BYTES = 256 * 1024  # SQS's limit on one message


class BadEnvelope(ValueError):
    """A message body that is not a job this worker can run (it goes to the dead-letter queue)."""


@dataclass(frozen=True)
class Job:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    job_id: str = ""
    not_before: str | None = None  # ISO timestamp; None = as soon as delivered

    def encode(self) -> str:
        body = json.dumps({"v": VERSION, "kind": self.kind, "job_id": self.job_id or new_id("job"),
                           "data": self.data, "not_before": self.not_before},
                          separators=(",", ":"), sort_keys=True)
        if len(body.encode("utf-8")) > MAX_BODY_BYTES:
            raise ValueError(f"job {self.kind} is {len(body)} bytes; SQS takes at most {MAX_BODY_BYTES}")
        return body

    def seconds_to_wait(self) -> float:
        """How long until the job may run (0 when it may run now)."""
        if not self.not_before:
            return 0.0
        return max(0.0, (clock.parse_iso(self.not_before) - clock.now()).total_seconds())


def decode(body: str) -> Job:
    """The job in a message body, or BadEnvelope saying why not."""
    try:
        raw = json.loads(body)
    except (TypeError, ValueError) as exc:
        raise BadEnvelope(f"not JSON: {exc}") from None
    if not isinstance(raw, dict) or raw.get("v") != VERSION:
        raise BadEnvelope(f"not a version {VERSION} job envelope")
    kind, data, job_id = raw.get("kind"), raw.get("data"), raw.get("job_id")
    not_before = raw.get("not_before")
    if not isinstance(kind, str) or not kind or not isinstance(data, dict) or not isinstance(job_id, str):
        raise BadEnvelope("kind, job_id and data are required")
    if not_before is not None:
        if not isinstance(not_before, str):
            raise BadEnvelope("not_before must be a timestamp")
        try:
            clock.parse_iso(not_before)
        except ValueError:
            raise BadEnvelope("not_before must be a timestamp") from None
    return Job(kind=kind, data=data, job_id=job_id, not_before=not_before)
