"""The HTTP edge: routing with validation and auth, error mapping, cursors and the OpenAPI document."""
