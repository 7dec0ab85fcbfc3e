"""message_routing: the process's Python (forms helpers and service operators)."""
