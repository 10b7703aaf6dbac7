"""Session fixtures: the stage template is packaged, translated and linted once per test run.

`chalice package` is the slow step (it builds the code bundle; Linux wheels come from PyPI the first
time and are cached in .chalice/deployments/ afterwards), so it runs once per session and every
template test reads the same output.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.infra import templates

STAGE = "dev"


@dataclass(frozen=True)
class Packaged:
    sam_path: Path
    sam: dict[str, Any]
    translated_path: Path
    translated: dict[str, Any]


@pytest.fixture(scope="session")
def packaged(tmp_path_factory) -> Packaged:
    out = tmp_path_factory.mktemp(f"package-{STAGE}")
    sam_path = templates.package_script().package(STAGE, out)
    sam = templates.load_template(sam_path)
    translated = templates.sam_translate(sam)
    translated_path = templates.write_template(translated, out / "translated.json")
    return Packaged(sam_path, sam, translated_path, translated)


@pytest.fixture(scope="session")
def infra() -> dict[str, Any]:
    """infra/resources.yml as written (before the merge)."""
    return templates.load_template(templates.RESOURCES)
