"""Which function runs a job of each kind.

The kinds and their handlers are registered by `chalicelib/bootstrap.py` as dotted names
(`"chalicelib.payouts.worker:pay_batch"`) and imported on first use, so this package imports no
aggregate and a worker that never sees a kind never imports its code. A handler takes the job's data and
a `JobContext`, returns nothing, and must be safe to run twice with the same data.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from chalicelib.core.deadlines import UNLIMITED, TimeLeft

_paths: dict[str, str] = {}
_loaded: dict[str, Callable[..., None]] = {}


@dataclass(frozen=True)
class JobContext:
    """What a handler may want to know about the delivery it runs in."""

    job_id: str
    message_id: str = ""
    receive_count: int = 1
    time_left: TimeLeft = UNLIMITED


class UnknownJob(LookupError):
    """A kind nobody registered (a message from a newer deploy, or a typo)."""


def register(kind: str, target: str) -> None:
    """Run jobs of `kind` with the function at `target` ("package.module:function")."""
    if ":" not in target:
        raise ValueError(f"handler {target!r} must be 'module:function'")
    _paths[kind] = target
    _loaded.pop(kind, None)


def kinds() -> list[str]:
    return sorted(_paths)


def handler_for(kind: str) -> Callable[[dict[str, Any], JobContext], None]:
    """The handler of `kind`, imported on first use."""
    found = _loaded.get(kind)
    if found is not None:
        return found
    target = _paths.get(kind)
    if target is None:
        raise UnknownJob(f"no handler registered for job kind {kind!r}")
    module_name, _, attr = target.partition(":")
    found = _loaded[kind] = getattr(importlib.import_module(module_name), attr)
    return found
