"""Service operators of the YurtNet registration (SEK 08-04-35)."""

from __future__ import annotations

from sqlalchemy import select

from engine.jobs import ServiceContext
from engine.models import AuditEvent, InstanceStatus, ProcessInstance

from .mac import MacError, normalize_mac

PROCESS_KEY = "yurtnet_registration"
CHECK_BPMN_ID = "check_mac"
REGISTER_BPMN_ID = "register_device"


def check_mac(ctx: ServiceContext, mac: str) -> dict:
    """Service operator ``yurtnet_check_mac``: may this MAC address be registered?

    The registry is the history of this process itself, read from the audit trail
    (append-only, hash-chained, and written in the same transaction as each step):

    * every ``service.completed`` event of this operator that said ``ok`` names the
      normalized address an instance went on with;
    * the ``task.completed`` event of that instance's ``register_device`` task tells
      whether the network team registered it (``registered``: true or false).

    Another instance (not cancelled, not in error) holds the address when the team
    registered it, or when it is still waiting for the team's decision: two requests
    for one device must not both reach the DHCP table. An address the team refused,
    or whose request was cancelled, is free again. Removing a registration (a
    student leaving the dorm) is not part of SEK yet: until it is, such an address
    stays registered, and the network team cancels the old request to free it.
    Two workers checking two requests for one address in the same instant could both
    pass it; the network team's DHCP table, which refuses a second reservation for a
    MAC, is the last guard (a registry table with a unique key would close this, but
    belongs to the engine).

    :param mac: the address as the student typed it
    :returns: ``{"status": "ok" | "invalid" | "duplicate", "mac": ..., "reason": ...}``;
        ``mac`` is the normalized address when it could be read, ``reason`` is a
        Turkish sentence for the student (empty when ``ok``)
    """
    try:
        normal = normalize_mac(mac)
    except MacError as exc:
        return {"status": "invalid", "mac": str(mac or "").strip(), "reason": str(exc)}
    holder = _holder(ctx, normal)
    if holder == "registered":
        return {"status": "duplicate", "mac": normal,
                "reason": f"{normal} adresi YurtNet'e zaten kayıtlı. Cihazınızı değiştirdiyseniz yeni "
                          "cihazın MAC adresiyle başvurun; adres size ait değilse Bilgi İşlem Yardım "
                          "Masası'na başvurun."}
    if holder == "pending":
        return {"status": "duplicate", "mac": normal,
                "reason": f"{normal} adresi için sonuçlanmamış bir YurtNet başvurusu zaten var. "
                          "O başvurunun sonucunu bekleyin."}
    return {"status": "ok", "mac": normal, "reason": ""}


def _holder(ctx: ServiceContext, normal: str) -> str | None:
    """``"registered"``, ``"pending"`` or None: how another live instance holds ``normal``."""
    rows = ctx.session.execute(
        select(AuditEvent.instance_id, AuditEvent.action, AuditEvent.data)
        .join(ProcessInstance, ProcessInstance.id == AuditEvent.instance_id)
        .where(
            ProcessInstance.process_key == PROCESS_KEY,
            ProcessInstance.id != ctx.instance_id,
            ProcessInstance.status.not_in([InstanceStatus.CANCELLED, InstanceStatus.ERROR]),
            AuditEvent.action.in_(["service.completed", "task.completed"]),
        )
        .order_by(AuditEvent.id)
    )
    claimed: set[int] = set()
    decided: dict[int, bool] = {}
    for instance_id, action, data in rows:
        data = data or {}
        if action == "service.completed":
            result = data.get("result") or {}
            if (data.get("bpmn_id") == CHECK_BPMN_ID and result.get("status") == "ok"
                    and result.get("mac") == normal):
                claimed.add(instance_id)
        elif data.get("bpmn_id") == REGISTER_BPMN_ID:
            decided[instance_id] = (data.get("data") or {}).get("registered") is True
    if any(decided.get(i) for i in claimed):
        return "registered"
    if any(i not in decided for i in claimed):
        return "pending"
    return None


OPERATORS = {"yurtnet_check_mac": check_mac}
