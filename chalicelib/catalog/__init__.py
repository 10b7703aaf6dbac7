"""The catalog: listings (apps and bundles), their lifecycle and revisions, and the public catalog pages."""
