"""Run moto_server (the local DynamoDB) with our patches: transactions isolated, tables copied once.

Same command line as `moto_server` (`-H 127.0.0.1 -p PORT`). moto_server serves requests on threads; the
patches make each DynamoDB request, and each TransactWriteItems as a whole, atomic and isolated as in AWS.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import moto_speedups  # noqa: E402

if __name__ == "__main__":
    moto_speedups.apply()
    from moto.server import main

    sys.exit(main())
