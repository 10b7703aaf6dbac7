"""`make lock`: pin every dependency, transitively and with hashes, so each build installs the same files.

The requirements files say what we want (direct dependencies, pinned by hand); the lock files say exactly
what gets installed, down to each transitive dependency and the sha256 of every file pip may download:

    requirements-dev.txt (+ requirements.txt)  ->  requirements-dev.lock      `make test`, `make run`, `make check`
    requirements.txt                           ->  requirements.lock          `make package` (what Lambda gets)
    requirements-checkov.txt                   ->  requirements-checkov.lock  checkov's own venv
    requirements-uv.txt                        ->  requirements-uv.lock       the lock tool (uv), pinned too

The runtime lock is resolved under the dev lock's pins, so the code under test and the code deployed use the
same versions. Resolution is `uv pip compile --universal` for Python 3.11 (the lock holds for Linux, Lambda and
a laptop alike); uv prefers the pins already in a lock, so re-running `make lock` after a requirements file
changed adds or moves only what that change needs (about a second each). `--upgrade` re-resolves from scratch.

Each lock starts with a digest of the requirements files it was made from; `--check` (run before every install
by the Makefile) refuses a lock that is older than its inputs, so an edited requirements file cannot be
silently ignored. This script needs only the standard library and the `uv` binary it is given.
"""
from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_VERSION = "3.11"
DIGEST_PREFIX = "# inputs-sha256: "

# lock file -> (the requirements files it is made from, the first one is the one compiled; a constraints lock)
LOCKS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "requirements-dev.lock": (("requirements-dev.txt", "requirements.txt"), None),
    "requirements.lock": (("requirements.txt",), "requirements-dev.lock"),
    "requirements-checkov.lock": (("requirements-checkov.txt",), None),
    "requirements-uv.lock": (("requirements-uv.txt",), None),  # uv itself, for `make lock`
}


def inputs_digest(inputs: tuple[str, ...]) -> str:
    """A digest of the requirements files' contents (names included), independent of line endings."""
    h = hashlib.sha256()
    for name in inputs:
        text = (ROOT / name).read_text().replace("\r\n", "\n")
        h.update(f"{name}\n{text}\n".encode())
    return h.hexdigest()


def recorded_digest(lock: Path) -> str | None:
    if not lock.exists():
        return None
    first = lock.read_text().split("\n", 1)[0]
    return first[len(DIGEST_PREFIX):].strip() if first.startswith(DIGEST_PREFIX) else None


def stale_locks(names: list[str]) -> list[str]:
    """The locks (among `names`) missing or made from other contents of their requirements files."""
    return [name for name in names if recorded_digest(ROOT / name) != inputs_digest(LOCKS[name][0])]


def compile_lock(uv: str, name: str, *, upgrade: bool) -> None:
    inputs, constraint = LOCKS[name]
    command = [
        uv, "pip", "compile", inputs[0], "--generate-hashes", "--universal", "--python-version", PYTHON_VERSION,
        "--custom-compile-command", "make lock", "--quiet", "-o", name,
    ]
    if constraint:
        command += ["--constraint", constraint]
    if upgrade:
        command.append("--upgrade")
    subprocess.run(command, cwd=ROOT, check=True)
    lock = ROOT / name
    body = lock.read_text()
    if body.startswith(DIGEST_PREFIX):
        body = body.split("\n", 1)[1]
    lock.write_text(f"{DIGEST_PREFIX}{inputs_digest(inputs)}\n{body}")


def pins(lock: Path) -> dict[str, str]:
    """name -> version of every package a lock pins (names normalised as pip does)."""
    found: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#") and "==" in line:
            name, version = line.split(";", 1)[0].split("\\", 1)[0].strip().split("==", 1)
            found[normalise(name)] = version.strip()
    return found


def normalise(name: str) -> str:
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", default="uv", help="the uv binary (the Makefile installs a pinned one)")
    parser.add_argument("--check", nargs="*", metavar="LOCK",
                        help="only check that these locks (default: all) match their requirements files")
    parser.add_argument("--upgrade", action="store_true", help="re-resolve every pin to the newest allowed")
    args = parser.parse_args()
    if args.check is not None:
        stale = stale_locks(args.check or list(LOCKS))
        for name in stale:
            print(f"{name} does not match {', '.join(LOCKS[name][0])}: run `make lock` (see docs/operations.md)",
                  file=sys.stderr)
        return 1 if stale else 0
    for name in LOCKS:  # dev first: the runtime lock is resolved under its pins
        compile_lock(args.uv, name, upgrade=args.upgrade)
        print(f"locked {name}: {len(pins(ROOT / name))} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
