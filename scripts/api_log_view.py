"""`make run`'s terminal view of the API's log: one short readable line per JSON log line.

`chalice local` writes what Lambda would send to CloudWatch: JSON log lines and EMF metric lines. The
whole stream goes to `.run/api.log` unchanged; the terminal gets, for a request's line,

    02:14:02 INFO  GET /listings 503 625.9 ms  anonymous  c6af9ac6  cause: QueryError(...)

and for other lines `time LEVEL message  <request id prefix>`; business metrics appear as
`metrics OrdersPaid=1`; per-route latency metrics and `http.server`'s own access lines are left out
(the request line says the same).
"""
from __future__ import annotations

import json
import re
import threading
from typing import IO

_ACCESS = re.compile(r'^\S+ - - \[[^]]+\] "')


def _short(request_id: object) -> str:
    return str(request_id or "-")[:8]


def _metrics(line: dict) -> str | None:
    names = [m["Name"] for d in line["_aws"].get("CloudWatchMetrics", []) for m in d.get("Metrics", [])]
    shown = [f"{name}={_total(line.get(name))}" for name in names if name != "RouteLatency"]
    return f"         metrics {' '.join(shown)}" if shown else None


def _total(value: object) -> object:
    if isinstance(value, list):
        value = sum(value)
    return int(value) if isinstance(value, float) and value.is_integer() else value


def readable(raw: str) -> str | None:
    """The terminal's version of one line of the API's output (None: not shown)."""
    text = raw.rstrip("\n")
    if not text.strip() or _ACCESS.match(text):
        return None
    try:
        line = json.loads(text)
    except ValueError:
        return text  # the server's own output (startup, a traceback): as it is
    if not isinstance(line, dict):
        return text
    if "_aws" in line:
        return _metrics(line)
    clock = str(line.get("timestamp", ""))[11:19]
    level = str(line.get("level", "")).ljust(5)
    if "status" in line:
        shown = f"{clock} {level} {line.get('route', '?')} {line['status']} {line.get('latency_ms', '?')} ms  " \
                f"{line.get('principal', '-')}  {_short(line.get('request_id'))}"
    else:
        shown = f"{clock} {level} {line.get('message', '')}  {_short(line.get('request_id'))}"
    if line.get("cause"):
        shown += f"  cause: {line['cause']}"
    if line.get("exception"):
        shown += "\n" + str(line["exception"])
    return shown


def tee(source: IO[bytes], log_file: IO[str], terminal: IO[str]) -> threading.Thread:
    """Copy `source` to `log_file` as it is and to `terminal` readably, on a daemon thread."""

    def pump() -> None:
        for chunk in iter(source.readline, b""):
            text = chunk.decode("utf-8", errors="replace")
            log_file.write(text)
            log_file.flush()
            shown = readable(text)
            if shown is not None:
                terminal.write(shown + "\n")
                terminal.flush()

    thread = threading.Thread(target=pump, name="api-log-view", daemon=True)
    thread.start()
    return thread
