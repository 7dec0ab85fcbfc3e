"""The maintenance window's rule (processes/network_change.py), on the start form and
on a new window chosen after a late approval."""

from __future__ import annotations

from ..network_change import window_rule

KEY = "network_config_update"

RULES = {"start": [window_rule(KEY)], "reschedule_window": [window_rule(KEY)]}
