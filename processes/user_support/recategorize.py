"""The help desk moves a waiting request to another category (seed 000: "kategori
düzeltmeleri ... destek sistemi birimi tarafından gerçekleştirilmektedir").

The process catches message ``recategorize`` ({category, note, by}) on the team's work
task only: a request waiting for the requester's answer or for a reopening is not in a
team's queue and cannot be moved (:class:`engine.errors.NotFoundError`). The web app's
staff button (for members of ``helpdesk``) calls :func:`recategorize` in its request's
transaction.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine import runtime
from engine.errors import Problem, ValidationError

MESSAGE = "recategorize"

# The portal's categories (HESK's "konu başlıkları"), in the order the start form lists them.
CATEGORIES = (
    "Personel E-posta", "Öğrenci E-posta", "Staj Yönetim Sistemi", "VPN Bağlantısı", "YurtNet",
    "Kablosuz Ağ (eduroam)", "BYS / Yazılım", "Web Sayfaları", "Lisanslı Yazılım", "Donanım / Arıza", "Diğer",
)
NOTE_MAX = 4000


def recategorize(session: Session, instance_id: int, category: str, *, by: str, note: str = "") -> None:
    """Move a request waiting in a team's queue to ``category``; the DMN table picks the new team.

    The old team's task is cancelled, the new team's task appears, and the audit history
    keeps a ``message.delivered`` event with the payload and ``by`` as the actor.

    :raises ValidationError: unknown category or too long a note
    :raises NotFoundError: the request is not waiting in a team's queue
    """
    category = (category or "").strip()
    note = (note or "").strip()
    problems = []
    if category not in CATEGORIES:
        problems.append(Problem("category", f"bilinmeyen kategori: {category!r}"))
    if len(note) > NOTE_MAX:
        problems.append(Problem("note", f"not en fazla {NOTE_MAX} karakter olabilir"))
    if problems:
        raise ValidationError("the request cannot be recategorized", problems)
    runtime.deliver_message(session, MESSAGE, {"category": category, "note": note, "by": by},
                            instance_id=instance_id, actor=by)
