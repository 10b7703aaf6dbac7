"""Run localstripe bound to 127.0.0.1, with its store in a folder of ours (or nowhere).

localstripe itself listens on every interface and pickles its whole store to /tmp/localstripe.pickle
on each write. This wrapper binds loopback only and either keeps the store under `--store` (so the
project's run folder holds it next to nothing else) or, by default, keeps it in memory only: `make run`
starts both local stand-ins fresh, so DynamoDB and Stripe can never disagree by accident.

    python scripts/localstripe_local.py --port 8420 [--store .run/localstripe.pickle]
"""
from __future__ import annotations

import argparse
import logging
import pickle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--store", default=None, help="pickle file to keep the store in (default: memory only)")
    args = parser.parse_args()

    from aiohttp import web
    from localstripe import resources, server

    store = resources.store
    if args.store:
        def load() -> None:
            try:
                with open(args.store, "rb") as handle:
                    store.clear()
                    dict.update(store, pickle.load(handle))
            except FileNotFoundError:
                pass

        def dump() -> None:
            with open(args.store, "wb") as handle:
                pickle.dump(dict(store), handle, protocol=pickle.HIGHEST_PROTOCOL)

        load()
    else:
        def dump() -> None:
            return None

    # Every write goes through these; redirect them away from /tmp.
    type(store).dump_to_disk = lambda self: dump()
    type(store).try_load_from_disk = lambda self: None

    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    web.run_app(server.app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
