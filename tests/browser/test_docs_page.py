"""`GET /docs` in a real browser: headless Chromium loads the reference from `make run`'s stack with no network.

The stack is the one `make run` starts (`tests/localstack.py`). Chromium is Debian's (`/usr/bin/chromium`,
installed by `make test` when missing), started headless with a fresh profile and with every host name but
127.0.0.1 unresolvable, so nothing outside the stack can be reached: the page must render from what the API
itself serves. `--dump-dom` prints the DOM once scripts ran; `--virtual-time-budget` lets Redoc finish.
The test then reads the DOM: every tag of the document is a section, every operation is rendered, and an
operation shows its example request and response.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.localstack import running_stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio",
         # No network: every name but the loopback address fails to resolve.
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install -y chromium)")
    with running_stack(tmp_path_factory.mktemp("stack") / "run_local.log") as running:
        yield running


def _render(url: str, profile: Path) -> str:
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=30000", "--dump-dom", url],
        capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _section(dom: str, operation_id: str) -> str:
    start = dom.index(f'data-section-id="operation/{operation_id}"')
    end = dom.find("data-section-id=", start + 20)
    return dom[start:end if end > 0 else None]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_docs_render_every_tag_and_an_operation_with_its_example(stack, tmp_path):
    with urllib.request.urlopen(f"{stack.api}/openapi.json", timeout=30) as response:
        document = json.loads(response.read())
    dom = _render(f"{stack.api}/docs", tmp_path / "profile")

    assert "Partner Marketplace API" in dom, dom[-2000:]
    tags = {tag["name"] for tag in document["tags"]}
    shown = set(re.findall(r'id="tag/([^"/]+)"', dom))
    assert tags <= shown, f"tags not rendered: {sorted(tags - shown)}"
    operations = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    rendered = set(re.findall(r'data-section-id="operation/([^"]+)"', dom))
    assert operations <= rendered, f"operations not rendered: {sorted(operations - rendered)}"

    # POST /orders: its hand-written example request and response are on the page, as Redoc shows them.
    order = document["paths"]["/orders"]["post"]
    request = order["requestBody"]["content"]["application/json"]["example"]
    answer = order["responses"]["201"]["content"]["application/json"]["example"]
    section = _text(_section(dom, "place_order"))
    assert "Request samples" in section and "Response samples" in section
    assert f'"listing_id" : "{request["items"][0]["listing_id"]}"' in section
    assert f'"client_secret" : "{answer["payment"]["client_secret"]}"' in section
    # The servers entry resolves to the local stack's own base URL: nothing points elsewhere.
    assert re.search(re.escape(stack.api) + r" ?/orders", section)


def test_the_page_needs_nothing_but_the_api(stack, tmp_path):
    """What the page loads, as Chromium's network log records it: only the API's own origin."""
    log = tmp_path / "netlog.json"
    _render(f"{stack.api}/docs", tmp_path / "profile")  # warm profile, then the recorded load
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--log-net-log={log}",
                    "--virtual-time-budget=30000", "--dump-dom", f"{stack.api}/docs"],
                   capture_output=True, text=True, timeout=240, check=True)
    requested = set(re.findall(r'"url":"(https?://[^"]+)"', log.read_text()))
    page = {url for url in requested if url.startswith(stack.api)}
    assert {f"{stack.api}/docs", f"{stack.api}/docs/redoc.standalone.js", f"{stack.api}/openapi.json"} <= page
    # Anything else in the log is the browser's own housekeeping (update checks, clock), which the
    # resolver rule sends nowhere; the page itself asked for nothing outside the API.
    hosts = {urllib.parse.urlsplit(url).hostname or "" for url in requested - page}
    housekeeping = (".google.com", ".googleapis.com", ".gvt1.com")
    assert all(host.endswith(housekeeping) and not host.startswith("fonts.") for host in hosts), hosts
