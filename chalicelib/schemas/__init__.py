"""JSON Schemas (draft 2020-12) of request bodies, queries and responses.

The same dicts validate requests at the edge and appear in `/openapi.json`, so the document is the
validator. `common` holds fragments shared across aggregates.
"""
