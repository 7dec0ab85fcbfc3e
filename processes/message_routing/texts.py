"""What a unit is shown and mailed: the public part of a routed message, in Turkish.

Only what the officer forwards goes to the unit: the message (or call topic) and the
officer's note; never the sender's name, e-mail address or phone number.
"""

from __future__ import annotations

from processes.notifications.render import render

KINDS = {"hotline": "7/24 KLU Hat", "call": "Çağrı Merkezi"}


def unit_purpose(data: dict, kind: str) -> str:
    """The text the unit must answer, built from the instance data."""
    parts = []
    if kind == "call":
        parts.append(f"Çağrı konusu: {data.get('topic') or '-'}")
        if data.get("call_summary"):
            parts.append(str(data["call_summary"]))
    else:
        if data.get("message_type"):
            parts.append(f"Mesaj türü: {data['message_type']}")
        parts.append(str(data.get("message") or data.get("subject") or "-"))
    note = data.get("unit_note")
    if note:
        parts.append(f"Bilgi İşlem Daire Başkanlığının notu: {note}")
    return "\n\n".join(parts)


def link_mail(unit_name: str, purpose: str, url: str, *, kind: str, reminder: bool,
              language: str = "tr", days: int = 14) -> tuple[str, str]:
    """Subject and body of the mail that carries a reply link (template ``unit_link``).

    :param days: how long the link works (:func:`engine.links.create_link`'s ``expires_in``)
    """
    channel = KINDS.get(kind, KINDS["hotline"])
    return render("unit_link", language, unit_name=unit_name, purpose=purpose, url=url, channel=channel,
                  reminder=reminder, days=days)
