"""The HTTP edge: routing with validation and auth, error mapping, CSV responses and the OpenAPI document."""
