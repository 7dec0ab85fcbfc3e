"""server_external_access: the process's Python (forms helpers and service operators)."""
