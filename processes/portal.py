"""What the public portal offers: the "Yeni talep" choices, grouped, with a one-line help
each, and the university's units ("Biriminiz") kept by admins.

A choice is either a help-desk category (it starts ``user_support`` with that
``category``) or a catalog process requesters may start themselves (``portal=True``).
Which of them the portal shows depends on what is deployed: the web app passes the
keys that can start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit, textinput
from engine.errors import NotFoundError, Problem, ValidationError
from engine.models import Group, OrgUnit, ProcessDefinition

from . import catalog

SUPPORT = "user_support"


@dataclass(frozen=True)
class Choice:
    """One thing a requester can ask for: a process, and for ``user_support`` its category."""

    key: str
    category: str | None
    title_tr: str
    title_en: str
    help_tr: str
    help_en: str

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_tr

    def help(self, locale: str) -> str:
        return self.help_en if locale == "en" else self.help_tr


def _c(category: str, help_tr: str, help_en: str, title_en: str) -> Choice:
    return Choice(SUPPORT, category, category, title_en, help_tr, help_en)


def _p(key: str, title_tr: str, title_en: str, help_tr: str, help_en: str) -> Choice:
    catalog.entry(key)   # a typo in a key fails at import, not on the page
    return Choice(key, None, title_tr, title_en, help_tr, help_en)


# (slug, Turkish title, English title, choices): help-desk categories first, then the
# processes that belong beside them.
GROUPS = (
    ("accounts", "E-posta ve hesaplar", "E-mail and accounts", (
        _c("Personel E-posta", "Personel e-posta hesabı: şifre, kota, giriş sorunları.",
           "Staff e-mail account: password, quota, sign-in problems.", "Staff e-mail"),
        _c("Öğrenci E-posta", "Öğrenci e-posta hesabı: şifre, etkinleştirme, giriş sorunları.",
           "Student e-mail account: password, activation, sign-in problems.", "Student e-mail"),
    )),
    ("network", "Ağ ve bağlantı", "Network and connection", (
        _c("Kablosuz Ağ (eduroam)", "Kampüste kablosuz ağa (eduroam) bağlanamıyorsanız.",
           "You cannot connect to the campus wireless network (eduroam).", "Wireless network (eduroam)"),
        _c("VPN Bağlantısı", "VPN hesabınız var ama bağlantı kurulamıyorsa.",
           "You have VPN access but the connection fails.", "VPN connection"),
        _c("YurtNet", "Yurtta internet bağlantısı çalışmıyorsa.",
           "The internet connection in your dormitory does not work.", "Dormitory network (YurtNet)"),
        _p("vpn_request", "VPN erişimi başvurusu", "Apply for VPN access",
           "Kampüs dışından üniversite sistemlerine erişmek için yeni VPN erişimi isteyin.",
           "Ask for new VPN access to reach university systems from off campus."),
        _p("yurtnet_registration", "YurtNet cihaz kaydı", "Register a device on YurtNet",
           "Yurtta internete bağlanacak cihazınızı kaydettirin.",
           "Register the device you will use on the dormitory network."),
        _p("server_external_access", "Sunucuya dışarıdan erişim izni", "Access to a server from outside",
           "Bir sunucunun kampüs dışından erişilebilir olmasını isteyin.",
           "Ask for a server to be reachable from outside the campus."),
        _p("lab_access_restriction", "Sınav için laboratuvar erişim kısıtlaması", "Lab access restriction for an exam",
           "Bilgisayar laboratuvarındaki sınavınız süresince internet erişiminin kısıtlanmasını isteyin.",
           "Ask for a computer lab's internet access to be restricted during your exam."),
    )),
    ("software", "Yazılım ve web", "Software and web", (
        _c("Staj Yönetim Sistemi", "BYS üzerindeki Staj Yönetim Sistemi ile ilgili sorular ve sorunlar.",
           "Questions and problems about the internship system in BYS.", "Internship management system"),
        _c("BYS / Yazılım", "Bilgi Yönetim Sistemi (BYS) ve diğer üniversite yazılımlarında hata veya soru.",
           "An error or a question in BYS and other university software.", "BYS / software"),
        _c("Web Sayfaları", "Üniversite ve birim web sayfalarındaki sorunlar.",
           "Problems with the university's and units' web pages.", "Web pages"),
        _c("Lisanslı Yazılım", "Üniversitenin lisansladığı yazılımların kurulumu ve etkinleştirilmesi.",
           "Installing and activating software the university licenses.", "Licensed software"),
        _p("software_request", "Yeni yazılım talebi", "Request new software",
           "Yeni bir yazılım ya da mevcut bir sisteme yeni bir özellik isteyin.",
           "Ask for new software or a new feature in an existing system."),
    )),
    ("hardware", "Donanım ve veri", "Hardware and data", (
        _c("Donanım / Arıza", "Bilgisayar, yazıcı ya da ağ cihazı arızası.",
           "A broken computer, printer or network device.", "Hardware / fault"),
        _p("infrastructure_maintenance", "Altyapı arıza bildirimi", "Report an infrastructure fault",
           "Ağ cihazı, sunucu, UPS, sistem odası soğutması ya da kablolama arızası: aciliyetine göre ilgili "
           "ekibe gider.",
           "A fault of a network device, a server, a UPS, system-room cooling or cabling: it goes to the team "
           "that owns it, by urgency."),
        _p("backup_restore", "Yedekten geri yükleme", "Restore from backup",
           "Silinen ya da bozulan bir dosyanın, e-postanın veya veritabanının yedekten "
                             "geri yüklenmesini isteyin.",
           "Ask for a deleted or damaged file, mailbox or database to be restored from backup."),
        _p("workshop_service", "Cihaz onarımı (atölye)", "Device repair (workshop)",
           "Biriminizin demirbaş bir bilgisayarını, monitörünü ya da yazıcısını atölyede onartın.",
           "Have your unit's inventory computer, monitor or printer repaired at the workshop."),
        _p("lab_support", "Öğrenci laboratuvarı desteği", "Student lab support",
           "Laboratuvar koordinatörleri için: ders yazılımı kurulumu, arızalı bilgisayar, imajın yeniden yüklenmesi.",
           "For lab coordinators: course software, a faulty seat, an image redeploy."),
    )),
    ("other", "Diğer", "Other", (
        _c("Diğer", "Yukarıdakilere uymayan her konu: destek masası doğru ekibe aktarır.",
           "Anything that fits nowhere above: the help desk passes it to the right team.", "Other"),
        _p("message_routing", "7/24 Hat'a mesaj", "A message to the 24/7 line",
           "7/24 hatta şikâyet, öneri, teşekkür ya da bilgi talebi iletin.",
           "Send the 24/7 line a complaint, a suggestion, thanks or a question."),
    )),
)


def choices() -> list[Choice]:
    """Every choice the portal knows, in the order shown."""
    return [choice for *_head, items in GROUPS for choice in items]


def startable_keys(session: Session) -> set[str]:
    """The processes requesters can start now: ``portal`` in the catalog and deployed."""
    deployed = set(session.scalars(select(ProcessDefinition.key).distinct()))
    return {item.key for item in catalog.CATALOG if item.portal and item.key in deployed}


def startable_groups(session: Session) -> list[tuple[str, str, str, list[Choice]]]:
    """The groups with only the choices whose process can start (see :func:`startable_keys`)."""
    startable = startable_keys(session)
    result = []
    for slug, title_tr, title_en, items in GROUPS:
        shown = [c for c in items if c.key in startable]
        if shown:
            result.append((slug, title_tr, title_en, shown))
    return result


def choice_for(key: str, category: str | None = None) -> Choice | None:
    """The choice of ``key`` (and, for ``user_support``, ``category``); None if the portal has none.

    ``user_support`` without a category is a choice too: its form asks for the category.
    """
    if key == SUPPORT and not category:
        return Choice(SUPPORT, None, "Destek talebi", "Support request",
                      "Konu başlığını seçin; talebiniz doğrudan ilgili ekibe ulaşır.",
                      "Choose the topic; your request goes straight to the right team.")
    for choice in choices():
        if choice.key == key and (key != SUPPORT or choice.category == category):
            return choice
    return None


# --- units ("Biriminiz") -------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def list_units(session: Session, *, active_only: bool = False) -> list[OrgUnit]:
    """The units in the order admins gave them (``position``, then name)."""
    query = select(OrgUnit).order_by(OrgUnit.position, OrgUnit.name)
    if active_only:
        query = query.where(OrgUnit.active.is_(True))
    return list(session.scalars(query))


def _checked(session: Session, name: str, email: str | None, unit_id: int | None = None) -> tuple[str, str | None]:
    name, email = " ".join((name or "").split()), (email or "").strip() or None
    problems = []
    if not name:
        problems.append(Problem("name", "enter the unit's name", "required"))
    elif bad := textinput.text_problems(name, "name", max_length=200):
        problems += bad
    else:
        same = session.scalar(select(OrgUnit).where(func.lower(OrgUnit.name) == name.lower()))
        if same is not None and same.id != unit_id:
            problems.append(Problem("name", "a unit with this name exists", "unique"))
    if email and (len(email) > 320 or not _EMAIL.match(email)):
        problems.append(Problem("email", "enter a valid e-mail address", "format", {"limit": "email"}))
    if problems:
        raise ValidationError("the unit was not saved", problems)
    return name, email


def get_unit(session: Session, unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise NotFoundError(f"no unit {unit_id}")
    return unit


def add_unit(session: Session, name: str, email: str | None = None, *, actor: str | None) -> OrgUnit:
    """Add a unit at the end of the list.

    :raises ValidationError: no name, a name in use, or a malformed e-mail
    """
    name, email = _checked(session, name, email)
    last = session.scalar(select(func.max(OrgUnit.position))) or 0
    unit = OrgUnit(name=name, email=email, active=True, position=last + 1)
    session.add(unit)
    session.flush()
    audit.record(session, "unit.added", actor=actor, data={"unit_id": unit.id, "name": name, "email": email})
    return unit


def update_unit(session: Session, unit_id: int, name: str, email: str | None = None, *,
                actor: str | None) -> OrgUnit:
    """Rename a unit or change its e-mail.

    :raises ValidationError: see :func:`add_unit`
    :raises NotFoundError: no such unit
    """
    unit = get_unit(session, unit_id)
    name, email = _checked(session, name, email, unit_id)
    before = {"name": unit.name, "email": unit.email}
    unit.name, unit.email = name, email
    session.flush()
    audit.record(session, "unit.changed", actor=actor,
                 data={"unit_id": unit.id, "before": before, "after": {"name": name, "email": email}})
    return unit


def move_unit(session: Session, unit_id: int, step: int, *, actor: str | None) -> OrgUnit:
    """Move a unit ``step`` places up (negative) or down the list; positions are renumbered 1..n."""
    unit = get_unit(session, unit_id)
    units = list_units(session)
    index = units.index(unit)
    target = max(0, min(len(units) - 1, index + step))
    units.insert(target, units.pop(index))
    for position, item in enumerate(units, start=1):
        item.position = position
    session.flush()
    audit.record(session, "unit.moved", actor=actor, data={"unit_id": unit.id, "position": unit.position})
    return unit


def set_unit_active(session: Session, unit_id: int, active: bool, *, actor: str | None) -> OrgUnit:
    """Hide a unit from the portal's list (requests that named it keep the name) or show it again."""
    unit = get_unit(session, unit_id)
    unit.active = bool(active)
    session.flush()
    audit.record(session, "unit.activated" if active else "unit.deactivated", actor=actor,
                 data={"unit_id": unit.id, "name": unit.name})
    return unit


def set_unit_head_group(session: Session, unit_id: int, slug: str | None, *, actor: str | None) -> OrgUnit:
    """Make the group ``slug`` the unit's heads (empty: none): the approvals that processes give
    to the head of the requester's unit (``candidateGroups="unithead:unit"``) go to its members;
    a unit without one sends them to every unit head (``unitheads``).

    :raises ValidationError: ``slug`` names no existing group (location ``head_group``)
    :raises NotFoundError: no such unit
    """
    unit = get_unit(session, unit_id)
    slug = (slug or "").strip()
    group = None
    if slug:
        textinput.check(slug, "head_group", max_length=100)
        group = session.scalar(select(Group).where(Group.slug == slug))
        if group is None:
            raise ValidationError("the unit was not saved", [
                Problem("head_group", f"there is no group {slug!r}", "unknown_group", {"group": slug})])
    before = unit.head_group.slug if unit.head_group is not None else None
    if before != (group.slug if group else None):
        unit.head_group = group
        session.flush()
        audit.record(session, "unit.head_group_changed", actor=actor, data={
            "unit_id": unit.id, "name": unit.name, "before": before, "after": group.slug if group else None})
    return unit


def ensure_units(session: Session, names, *, actor: str | None = None) -> int:
    """Add the units of ``names`` that are missing, in that order; returns how many were added."""
    known = {name.lower() for name in session.scalars(select(OrgUnit.name))}
    added = 0
    for name in names:
        if name.lower() not in known:
            add_unit(session, name, actor=actor)
            known.add(name.lower())
            added += 1
    return added
