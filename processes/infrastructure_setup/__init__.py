"""infrastructure_setup (placeholder, written below)."""
