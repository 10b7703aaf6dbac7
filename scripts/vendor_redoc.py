"""Refresh the Redoc bundle that `GET /docs` serves: `python scripts/vendor_redoc.py [VERSION INTEGRITY]`.

Why vendored: the reference must work with no network, in Lambda and on a laptop, and must not change
under us; so the pinned bundle lives in `chalicelib/docs_page/` with its licence and a manifest
(`redoc.json`: npm version, the tarball's sha512 integrity as the registry publishes it, the file's sha256).
This script fetches the pinned tarball with `npm pack` (the ordinary npm client), refuses it unless its
sha512 matches the pinned integrity, and writes the bundle, its licences and the manifest.
`tests/api/test_docs_page.py` checks the vendored file against the manifest.

To upgrade: `npm view redoc@<version> dist.integrity`, then run this script with the version and integrity,
then `make test` (the browser test renders the page with the new bundle).
"""
from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "chalicelib" / "docs_page"
MANIFEST = TARGET / "redoc.json"
FILES = {"package/bundles/redoc.standalone.js": "redoc.standalone.js",
         "package/bundles/redoc.standalone.js.LICENSE.txt": "redoc.standalone.js.LICENSE.txt",
         "package/LICENSE": "LICENSE.redoc"}


def main(argv: list[str]) -> int:
    pinned = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    version, integrity = (argv[0], argv[1]) if len(argv) == 2 else (pinned["version"], pinned["integrity"])
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(["npm", "pack", f"redoc@{version}", "--json", "--pack-destination", tmp],
                             cwd=tmp, check=True, capture_output=True, text=True).stdout
        tarball = Path(tmp) / json.loads(out)[0]["filename"]
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if digest != integrity:
            print(f"refused: redoc@{version} has integrity {digest}, pinned {integrity}", file=sys.stderr)
            return 1
        with tarfile.open(tarball) as archive:
            for member, name in FILES.items():
                extracted = archive.extractfile(member)
                assert extracted is not None, member
                (TARGET / name).write_bytes(extracted.read())
    bundle = (TARGET / "redoc.standalone.js").read_bytes()
    MANIFEST.write_text(json.dumps({
        "package": "redoc", "version": version, "integrity": integrity,
        "file": "redoc.standalone.js", "sha256": hashlib.sha256(bundle).hexdigest(),
    }, indent=2) + "\n")
    print(f"redoc {version}: {len(bundle)} bytes into {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
