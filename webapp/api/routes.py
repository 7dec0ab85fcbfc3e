"""API views (filled in by the API work)."""
