"""API fuzzing: schemathesis against `chalice local` serving the app's own `/openapi.json`.

The whole local stack runs as `make run` starts it (moto_server, localstripe, chalice local, seeded
with demo data), each process on a free 127.0.0.1 port (`tests/localstack.py`). schemathesis then
generates requests from the document for every operation, with a token whose subject owns a demo partner
and holds the admin and finance groups, so partner, admin and finance routes are reached as well as the
public ones. Two runs share the stack: the examples, coverage and fuzzing phases (`FUZZ_SECONDS`, default
150 s), then the stateful phase (`FUZZ_STATEFUL_SECONDS`, default 120 s), which chains calls along the
document's OpenAPI links: a create, then the operations that take the id it returned. Any server error,
undocumented status or content type, response that breaks its schema, accepted invalid input, or a
created resource its link target cannot find fails the test.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.localstack import running_stack

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("stack") / "run_local.log") as stack:
        yield stack


def _schemathesis(stack, cwd: Path, phases: str, seconds: int) -> str:
    """Run schemathesis's `phases` against the stack for at most `seconds`; its report, asserting success."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(CONFIG), "--no-color", "run",
        f"{stack.api}/openapi.json", "--phases", phases, "--max-time", str(seconds), "--max-examples", "10",
        # One worker: CPython 3.11 can trip over concurrent AST parsing inside hypothesis ("AST
        # constructor recursion depth mismatch"), which would fail the run for nothing the API did.
        "--workers", "1",
        "--header", f"Authorization: Bearer {stack.token('acme-owner', 'admin,finance')}",
        "--generation-database", "none", "--request-timeout", "30", "--max-failures", "20",
    ]
    if os.environ.get("FUZZ_SEED"):
        command += ["--seed", os.environ["FUZZ_SEED"]]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=seconds + 240)
    report = result.stdout[-20000:] + result.stderr[-5000:]
    assert result.returncode == 0, report
    return report


def test_schemathesis_finds_no_failures(local_stack, tmp_path):
    """Examples, coverage and fuzzing: every operation, each from its documented example too."""
    seconds = int(os.environ.get("FUZZ_SECONDS", "150"))
    report = _schemathesis(local_stack, tmp_path, "examples,coverage,fuzzing", seconds)
    # Every operation of the document was exercised, not just loaded.
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    tested = re.search(r"Tested: (\d+)", report)
    assert selected and tested, report
    assert int(tested.group(1)) == int(selected.group(2)), report


def test_stateful_phase_follows_the_links_and_finds_no_failures(local_stack, tmp_path):
    """Chains of calls along the document's links (create, then what takes its id), with their own time."""
    with urllib.request.urlopen(f"{local_stack.api}/openapi.json", timeout=30) as answer:
        document = json.loads(answer.read())
    links = sum(len(response.get("links", {})) for item in document["paths"].values()
                for operation in item.values() for response in operation["responses"].values())
    seconds = int(os.environ.get("FUZZ_STATEFUL_SECONDS", "120"))
    report = _schemathesis(local_stack, tmp_path, "stateful", seconds)
    found = re.search(r"API Links:\s+(\d+) covered / (\d+) selected / (\d+) total", report)
    assert found, report
    covered, selected, total = map(int, found.groups())
    assert selected == total == links, report  # schemathesis reads every link the document declares
    assert covered >= 2, report  # and the phase followed some (how many varies with the seed and time)
