"""Domain knowledge: which SEK processes exist, their forms and service operators.

Imports go one way: ``webapp`` -> ``processes`` -> ``engine``. The engine never
imports this package; :func:`install` registers the processes' service operators
with it (the web app, the CLI and the tests call it once at start-up).
"""

from __future__ import annotations

import importlib

# One subpackage per executable process that has Python of its own; each may offer
# ``OPERATORS = {"name": function}`` in its ``operators`` module.
PROCESS_PACKAGES = (
    "user_support", "vpn_request", "yurtnet_registration", "message_routing", "call_record",
    "server_external_access", "backup_restore", "software_request", "notifications", "assets",
    "infrastructure_setup", "network_planning", "software_maintenance",
    "infrastructure_continuity", "infrastructure_maintenance",
    "network_os_update", "network_config_update", "lab_access_restriction",
    "lab_support", "workshop_service",
)


def install() -> None:
    """Register with the engine every process's service operators, which group owns each
    process (its process owners deploy it), which groups see every instance of which
    process (its owners and overseers), the requester's fields every request is
    started with, and each process's form rules. Safe to call again."""
    from engine.instances import register_watchers
    from engine.owners import register_owner
    from engine.services import register_operator
    from engine.start_forms import register_start_schema

    from . import notifications, requester, rules
    from .catalog import CATALOG

    notifications.install()   # staff notices (new task, digest, overdue)
    rules.install()   # form rules (processes/<key>/validate.py), checked on every door
    register_start_schema(requester.start_schema)

    for item in CATALOG:
        register_owner(item.key, item.group)
        for group in (item.group, *item.watchers):
            register_watchers(group, [item.key])

    for _name, module in process_modules("operators"):
        for operator_name, func in getattr(module, "OPERATORS", {}).items():
            register_operator(operator_name, func)


def process_modules(submodule: str):
    """``(package name, module)`` for each process package that has ``submodule`` (e.g.
    ``operators``, ``validate``); a package without it is passed over, but an import
    error inside the module is raised."""
    for name in PROCESS_PACKAGES:
        try:
            module = importlib.import_module(f"processes.{name}.{submodule}")
        except ModuleNotFoundError as exc:
            if exc.name != f"processes.{name}.{submodule}":
                raise
            continue
        yield name, module
