"""vpn_request: the process's Python (forms helpers and service operators)."""
