"""What people call a group: never its slug when anything better is known.

A unit's head group is "the heads of <unit>"; a catalog team has its Turkish and English
names (:func:`processes.catalog.group_names`); any other group the title an admin gave it.
Pages (``webapp.templating.group_title``) and staff mails use this one rule.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Group, OrgUnit

from . import catalog
from .i18n import text

HEADS_OF_TEXT = "{unit} birim amirleri"   # English in processes/translations/en.po


def directory(session: Session) -> dict[str, tuple[str, str | None]]:
    """Every group: slug -> (the title an admin gave it or "", the unit it heads or None).
    Two small queries; callers keep it for a page or a mail run."""
    heads = dict(session.execute(select(OrgUnit.head_group_id, OrgUnit.name)
                                 .where(OrgUnit.head_group_id.is_not(None)).order_by(OrgUnit.position)).all())
    return {slug: ("" if title == slug else title or "", heads.get(group_id))
            for group_id, slug, title in session.execute(select(Group.id, Group.slug, Group.title))}


def group_title(slug: str | None, language: str | None, groups: dict[str, tuple[str, str | None]]) -> str:
    """``slug``'s name in ``language`` ("tr" or "en"), from a :func:`directory`."""
    if not slug:
        return ""
    title, unit = groups.get(slug, ("", None))
    if unit:
        return text(None, HEADS_OF_TEXT, language).format(unit=text(None, unit, language))
    names = catalog.group_names(slug)
    if language == "en":
        return names[1] if names else text(None, title, "en") or slug
    return title or (names[0] if names else slug)
