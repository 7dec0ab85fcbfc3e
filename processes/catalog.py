"""The SEK process catalog (seed 003), plus the hotline and call-centre processes of
seeds 002 and 004: an explicit list, not discovery by magic.

Each entry names its owning group (the seed's team headings), its BPMN file in
``bpmn/`` and whether requesters may start it from the portal. Whether it can run is
not written here: a process is executable once its BPMN is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"

# The seed's team headings, in its order, with the group slug that owns them.
TEAMS = (
    ("general", "Genel Süreçler", "General processes"),
    ("network", "Ağ Hizmetleri Planlama Destek Grubu", "Network Services Planning and Support"),
    ("systems", "Sistem Destek Grubu", "System Support"),
    ("software", "Yazılım Geliştirme Grubu", "Software Development"),
    ("parttime", "Yarı Zamanlı Çalışan Koordinatörlüğü", "Part-time Staff Coordination"),
    ("workshop", "Atölye Hizmetleri Birimi", "Workshop Services"),
    ("helpdesk", "Destek Masası ve 7/24 Hat", "Help Desk and 24/7 Hotline"),
    ("callcenter", "Çağrı ve İletişim Merkezi", "Call and Contact Centre"),
)
# Groups that own no process but take tasks or read reports: named like the teams.
OTHER_GROUPS = (
    ("management", "Daire Başkanlığı", "Department Management"),
    ("unitheads", "Birim Amirleri", "Unit Heads"),
)


def group_names(slug: str | None) -> tuple[str, str] | None:
    """A known group's Turkish and English names (a team's or one of :data:`OTHER_GROUPS`)."""
    for team, title_tr, title_en in (*TEAMS, *OTHER_GROUPS):
        if team == slug:
            return title_tr, title_en
    return None


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    sek_code: str | None
    title_tr: str
    title_en: str
    group: str
    bpmn_file: str
    portal: bool = False
    # Groups besides the owner that oversee every instance (the help desk follows every
    # support request to correct its category, seed 000).
    watchers: tuple[str, ...] = ()
    # Requester fields (processes/requester.py) this process can start without: a caller
    # on the phone may give no e-mail address (the call's topic is its subject); the
    # software team starts developments of its own, with no requester at all.
    requester_optional: tuple[str, ...] = ()

    @property
    def bpmn_path(self) -> Path:
        return BPMN_DIR / self.bpmn_file


def _e(code: str | None, key: str, title_tr: str, title_en: str, group: str, portal: bool = False,
       watchers: tuple[str, ...] = (), requester_optional: tuple[str, ...] = ()):
    return CatalogEntry(key, f"SEK 08-04-{code}" if code else None, title_tr, title_en, group,
                        f"{key}.bpmn", portal, watchers, requester_optional)


CATALOG = (
    _e("01", "infrastructure_setup", "Bilgi İşlem Altyapı Kurulum Süreci", "IT Infrastructure Setup", "general",
       portal=True),
    _e("02", "infrastructure_continuity", "Bilgi İşlem Altyapısı Sürekliliğinin Sağlanması Süreci",
       "IT Infrastructure Continuity", "general", requester_optional=("requester", "requester_email", "subject")),
    _e("03", "infrastructure_maintenance", "Bilgi İşlem Altyapısı Arıza ve Bakım Süreci",
       "IT Infrastructure Faults and Maintenance", "general", portal=True,
       requester_optional=("requester", "requester_email", "subject")),
    _e("08", "lab_support", "Öğrenci Bilgisayar Laboratuvarları Destek Hizmetleri Sunum Süreci",
       "Student Computer Lab Support", "general", portal=True),
    _e("28", "network_os_update", "Ağ Cihazları OS Güncelleme", "Network Device OS Update", "network"),
    _e("29", "network_config_update", "Bilgi İşlem Ağ Cihazları Yapılandırma Güncelleme",
       "Network Device Configuration Update", "network"),
    _e("30", "network_planning", "Ağ Hizmetleri Planlama ve Destek Altyapı Projelendirme",
       "Network Planning and Infrastructure Design", "network"),
    _e("31", "lab_access_restriction", "Bilgisayar Laboratuvarlarında Erişim Kısıtlama",
       "Computer Lab Access Restriction", "network", portal=True),
    _e("33", "server_external_access", "Sunuculara Dışarıdan Erişim", "External Access to Servers", "network",
       portal=True),
    _e("34", "vpn_request", "Bilgi İşlem Ağ Hizmetleri Planlama ve Destek VPN Hizmeti Alma", "VPN Service Request",
       "network", portal=True),
    _e("35", "yurtnet_registration", "YurtNet Kayıt Süreci", "Dormitory Network (YurtNet) Registration", "network",
       portal=True),
    _e("15", "software_procurement", "Yazılım Alım Süreci", "Software Procurement", "systems"),
    _e("16", "hardware_procurement", "Donanım Alım Süreci", "Hardware Procurement", "systems"),
    _e("17", "backup", "Yedekleme Süreci", "Backup", "systems"),
    _e("18", "backup_restore", "Yedekten Veri Kurtarma Süreci", "Data Restore from Backup", "systems", portal=True),
    _e("19", "service_launch", "Yeni Servis Sunulma Süreci", "New Service Launch", "systems"),
    _e("20", "service_shutdown", "Servis Kapatılma Süreci", "Service Shutdown", "systems"),
    _e("21", "service_update", "Servis Güncelleme Süreci", "Service Update", "systems"),
    _e("22", "server_mounting", "Sunucu Montaj Süreci", "Server Mounting", "systems"),
    _e("23", "server_removal", "Sunucu Sökülme Süreci", "Server Removal", "systems"),
    _e("24", "disposal", "Hurdaya Çıkarma Süreci", "Equipment Disposal", "systems"),
    _e("25", "parttime_training", "Yarı Zamanlı Yetiştirme Süreci", "Part-time Staff Training", "systems"),
    _e("26", "system_monitoring", "Sistem İzleme Süreci", "System Monitoring", "systems"),
    _e("27", "user_support", "Kullanıcı Desteği Süreci", "User Support", "systems", portal=True,
       watchers=("helpdesk",)),
    _e("04", "software_request", "Yazılım Talebi Değerlendirme Süreci", "Software Request Evaluation", "software",
       portal=True),
    _e("05", "software_development", "Yazılım Geliştirme Süreci", "Software Development", "software",
       requester_optional=("requester", "requester_email", "subject")),
    _e("06", "software_maintenance", "Yazılım Bakım Süreci", "Software Maintenance", "software", portal=True),
    _e("09", "parttime_recruitment", "Yarı Zamanlı Öğrenci İşe Alım Süreci", "Part-time Student Recruitment",
       "parttime"),
    _e("10", "assistant_work", "Asistan Öğrenci Çalışma Süreci", "Student Assistant Work", "parttime"),
    _e("11", "duty_assistant_work", "Nöbetçi Asistan Öğrenci Çalışma Süreci", "On-duty Student Assistant Work",
       "parttime"),
    _e("07", "workshop_service", "Bilgi İşlem Atölye Hizmeti Sunum Süreci", "IT Workshop Service", "workshop",
       portal=True),
    _e(None, "message_routing", "7/24 Hat Mesaj Yönlendirme", "24/7 Hotline Message Routing", "helpdesk",
       portal=True),
    _e(None, "call_record", "Çağrı Merkezi Görüşme Kaydı", "Call Centre Call Record", "callcenter",
       requester_optional=("requester_email", "subject")),
)

_BY_KEY = {item.key: item for item in CATALOG}


def entry(key: str) -> CatalogEntry:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise LookupError(f"no catalog entry {key!r}") from None


def by_team() -> list[tuple[tuple[str, str, str], list[CatalogEntry]]]:
    """The catalog grouped by team, in the seed's order, codes ascending within a team."""
    return [(team, sorted((e for e in CATALOG if e.group == team[0]), key=lambda e: e.sek_code or "~"))
            for team in TEAMS]
