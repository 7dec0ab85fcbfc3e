"""network_planning (placeholder)."""
