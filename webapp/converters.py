"""URL converters: ``<int:...>`` in a route only matches an id the database can hold."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

# Ids are PostgreSQL ``integer`` columns; a larger number names no row. Without this bound a
# path like /tasks/99999999999999999999 reached SQLite's driver and overflowed (a 500).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` from 0 to :data:`MAX_ID`: any larger number is not found (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
