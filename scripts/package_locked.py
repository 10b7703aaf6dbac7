"""`make package`: package a stage whose Lambda dependencies are exactly the runtime lock's, file hashes checked.

`chalice package` bundles whatever `pip download -r requirements.txt` resolves in the project directory on the
day it runs: our direct dependencies are pinned there, their own dependencies are not, so two packages of the
same commit could differ. This script stages a copy of the project (app.py, chalicelib/, .chalice/config.json)
whose requirements.txt *is* requirements.lock (every package pinned, every file's sha256 listed, so pip's
hash-checking mode refuses anything else), and runs the usual packaging (`scripts/package.py`: the chalice
merge and the template finishing) on that copy. The staged copy lives under out/ and is rebuilt each time.

    python scripts/package_locked.py --stage dev [--out out/dev]

`packaged_dependencies(zip)` lists the name and version of every distribution in a deployment.zip, which
tests/infra/test_locked_package.py holds equal to the lock.
"""
from __future__ import annotations

import re
import shutil
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import package as packaging  # noqa: E402
from scripts.lock import normalise, stale_locks  # noqa: E402

LOCK = "requirements.lock"
# What chalice reads from a project: the app, its library, its config (and vendor/, if there ever is one).
PROJECT_FILES = ("app.py",)
PROJECT_DIRS = ("chalicelib", "vendor")
DIST_INFO = re.compile(r"^([^/]+)-([^-/]+)\.dist-info/METADATA$")


def stage_project(stage_dir: Path, *, share_cache: bool = True) -> Path:
    """A copy of the project whose requirements.txt is the runtime lock; returns its directory.

    `share_cache=False` gives the copy an empty dependency cache, as a fresh clone has (a clean rebuild).
    """
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    stage_dir.mkdir(parents=True)
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, stage_dir / name)
    for name in PROJECT_DIRS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, stage_dir / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (stage_dir / ".chalice").mkdir()
    shutil.copy2(ROOT / ".chalice" / "config.json", stage_dir / ".chalice" / "config.json")
    # chalice caches the built dependencies by the requirements' contents: share the project's cache
    if share_cache:
        cache = ROOT / ".chalice" / "deployments"
        cache.mkdir(parents=True, exist_ok=True)
        (stage_dir / ".chalice" / "deployments").symlink_to(cache, target_is_directory=True)
    shutil.copy2(ROOT / LOCK, stage_dir / "requirements.txt")
    return stage_dir


def package_locked(stage: str, out_dir: Path, *, share_cache: bool = True, stage_dir: Path | None = None) -> Path:
    """Package `stage` into `out_dir` from the lock; returns the finished template's path."""
    stale = stale_locks([LOCK])
    if stale:
        raise packaging.PackageError(f"{LOCK} does not match requirements.txt: run `make lock`")
    staged = stage_project(stage_dir or ROOT / "out" / f".project-{stage}", share_cache=share_cache)
    # scripts/package.py runs chalice in (and reads the stage config from) its ROOT: point it at the copy.
    original = packaging.ROOT
    packaging.ROOT = staged
    try:
        return packaging.package(stage, out_dir)
    finally:
        packaging.ROOT = original


def packaged_dependencies(deployment_zip: Path) -> dict[str, str]:
    """Normalised name -> version of every distribution bundled in a deployment.zip."""
    found: dict[str, str] = {}
    with zipfile.ZipFile(deployment_zip) as archive:
        for name in archive.namelist():
            match = DIST_INFO.match(name)
            if match:
                found[normalise(match.group(1))] = match.group(2)
    return found


def _build(stage: str, out_dir: Path) -> Path:
    path = package_locked(stage, out_dir)
    print(f"{len(packaged_dependencies(out_dir / 'deployment.zip'))} locked distributions bundled")
    return path


def main() -> int:
    return packaging.main(build=_build, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
