"""backup_restore: the process's Python (forms helpers and service operators)."""
