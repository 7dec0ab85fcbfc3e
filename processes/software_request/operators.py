"""Service operators of SEK 08-04-04 (software_request).

``start_software_development`` starts SEK 08-04-05 as a separate instance once the
department head has approved a request; the request keeps its id and tracking code.
"""

from __future__ import annotations

from engine import runtime
from engine.jobs import ServiceContext
from engine.models import ProcessInstance

DEVELOPMENT_KEY = "software_development"

# What the development team needs from the request: the requester (the portal's
# fields), the need (the start form) and the software team's evaluation.
REQUESTER_FIELDS = ("requester", "requester_email", "unit", "phone", "subject")
REQUEST_FIELDS = ("software_name", "need_description", "user_group", "user_count", "desired_date",
                  "existing_system_could_serve")
EVALUATION_FIELDS = ("effort_days", "priority", "technical_note", "recommendation", "decision_note")


def development_data(data: dict, *, request_id: int, request_tracking_code: str) -> dict:
    """The start data of a development instance, from an approved request's data.

    :param data: the request's data after the department head's decision
    :param request_id: the request instance's id
    :param request_tracking_code: the request's tracking code
    """
    fields = (*REQUESTER_FIELDS, *REQUEST_FIELDS, *EVALUATION_FIELDS)
    started = {name: data[name] for name in fields if data.get(name) not in (None, "")}
    started.update(request_instance_id=request_id, request_tracking_code=request_tracking_code)
    return started


def start_software_development(ctx: ServiceContext) -> dict:
    """Start SEK 08-04-05 for the approved request of ``ctx``.

    :returns: the new instance's ``instance_id`` and ``tracking_code``
    """
    request = ctx.session.get(ProcessInstance, ctx.instance_id)
    data = development_data(ctx.data, request_id=request.id, request_tracking_code=request.tracking_code)
    instance = runtime.start_instance(ctx.session, DEVELOPMENT_KEY, data=data, actor=None)
    return {"instance_id": instance.id, "tracking_code": instance.tracking_code}


OPERATORS = {"start_software_development": start_software_development}
