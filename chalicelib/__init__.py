"""Partner marketplace backend: the code behind app.py."""
