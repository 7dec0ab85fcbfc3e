"""call_record: the process's Python (forms helpers and service operators)."""
