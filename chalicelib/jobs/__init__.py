"""Queued work: jobs sent to one SQS queue and run by a worker Lambda, so no request does unbounded work.

A job is a small JSON envelope (`envelope.py`) naming its kind and data; `queue.py` sends it, `worker.py`
receives a batch from Lambda's SQS event source and runs each job's handler (`registry.py` maps kinds to
handlers, registered by `chalicelib/bootstrap.py`). Handlers are idempotent by their business ids: SQS
delivers at least once, a worker may die at any step, and the message comes back.
"""
