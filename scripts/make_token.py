"""Print one HS256 bearer token for the local stage (`make token SUB=... [GROUPS=...] [EMAIL=...]`).

The signing secret, issuer and audience come from the `local` stage of `.chalice/config.json`, so the
token is exactly what `chalice local --stage local` accepts. No other stage accepts HS256.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def local_stage_env() -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}), **config["stages"]["local"]["environment_variables"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sub", required=True)
    parser.add_argument("--groups", default="")
    parser.add_argument("--email", default="")
    parser.add_argument("--ttl", type=int, default=12 * 3600)
    args = parser.parse_args()
    if not args.sub.strip():
        print("usage: make token SUB=<user> [GROUPS=admin,finance] [EMAIL=<addr>]", file=sys.stderr)
        return 2
    os.environ.update(local_stage_env())
    from chalicelib.config import load_settings
    from chalicelib.http.auth import issue_local_token

    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    print(issue_local_token(sub=args.sub.strip(), groups=groups, email=args.email or None,
                            ttl_seconds=args.ttl, settings=load_settings()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
