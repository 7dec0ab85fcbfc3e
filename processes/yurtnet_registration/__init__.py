"""yurtnet_registration: the process's Python (forms helpers and service operators)."""
