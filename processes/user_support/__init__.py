"""user_support: the process's Python (forms helpers and service operators)."""
