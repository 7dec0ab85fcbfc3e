"""Following a request: tracking code + e-mail, the conversation, reply, reopen, rate."""

from . import bp  # noqa: F401
