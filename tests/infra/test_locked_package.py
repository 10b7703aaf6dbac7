"""Reproducible builds: what `make package` bundles for Lambda is exactly the runtime lock, every time.

`scripts/package_locked.py` packages a staged copy of the project whose requirements.txt is
requirements.lock (hash-checked). Packaged twice, once with chalice's dependency cache and once from an
empty one (as a fresh clone builds), both bundles hold the same files and the same distributions, and those
are exactly the lock's pins. The locks themselves must match the requirements files they were made from.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from scripts import lock, package_locked

STAGE = "dev"


def _dependency_files(deployment: Path) -> set[str]:
    """Every file of the bundle but our own code (app.py, chalicelib/: the working tree may move meanwhile)."""
    with zipfile.ZipFile(deployment) as archive:
        return {n for n in archive.namelist() if n != "app.py" and not n.startswith("chalicelib/")}


def test_every_lock_matches_its_requirements_files():
    assert lock.stale_locks(list(lock.LOCKS)) == [], "a requirements file changed without `make lock`"


def test_the_lock_check_notices_an_edited_requirements_file(tmp_path, monkeypatch):
    """Not vacuous: append a dependency to a copy of requirements.txt and its locks are reported stale."""
    for name in ("requirements.txt", "requirements-dev.txt", "requirements.lock", "requirements-dev.lock"):
        (tmp_path / name).write_text((lock.ROOT / name).read_text())
    monkeypatch.setattr(lock, "ROOT", tmp_path)
    assert lock.stale_locks(["requirements.lock", "requirements-dev.lock"]) == []
    with open(tmp_path / "requirements.txt", "a") as requirements:
        requirements.write("requests==2.34.2\n")
    assert lock.stale_locks(["requirements.lock", "requirements-dev.lock"]) == [
        "requirements.lock", "requirements-dev.lock"]


def test_runtime_lock_agrees_with_the_dev_lock():
    runtime, dev = lock.pins(lock.ROOT / "requirements.lock"), lock.pins(lock.ROOT / "requirements-dev.lock")
    assert runtime and {name: dev.get(name) for name in runtime} == runtime


def test_two_packages_bundle_the_same_locked_dependencies(tmp_path):
    first = tmp_path / "first"
    second = tmp_path / "second"
    package_locked.package_locked(STAGE, first)
    package_locked.package_locked(STAGE, second, share_cache=False, stage_dir=tmp_path / "clean-project")

    locked = lock.pins(lock.ROOT / "requirements.lock")
    bundled_first = package_locked.packaged_dependencies(first / "deployment.zip")
    bundled_second = package_locked.packaged_dependencies(second / "deployment.zip")
    assert bundled_first == locked, set(bundled_first.items()) ^ set(locked.items())
    assert bundled_second == locked, set(bundled_second.items()) ^ set(locked.items())
    files = _dependency_files(first / "deployment.zip")
    assert files and files == _dependency_files(second / "deployment.zip")
