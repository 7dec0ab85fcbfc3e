"""Demo data for ``sek demo``: groups, users with documented passwords, sample requests.

The passwords are printed in the README; never run this on a production database.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import (
    assets,
    canned,
    conversation,
    definitions,
    directory,
    hooks,
    runtime,
    services,
    tasks,
    users,
    validation,
)
from engine.errors import NotFoundError
from engine.models import AuthorKind, HumanTask, ProcessInstance, utcnow

from . import install
from .catalog import BPMN_DIR
from .portal import ensure_units, list_units, set_unit_head_group
from .user_support.recategorize import CATEGORIES, recategorize

GROUPS = {
    "helpdesk": "Destek Masası",
    "network": "Ağ Hizmetleri",
    "systems": "Sistem Destek",
    "software": "Yazılım Geliştirme",
    "callcenter": "Çağrı Merkezi",
    "management": "Daire Başkanlığı",
    "unitheads": "Birim Amirleri",
    "unithead-muhendislik": "Mühendislik Fakültesi Dekanlığı",
    "unithead-fen": "Fen Fakültesi Dekanlığı",
    "general": "Genel Süreçler",
    "parttime": "Yarı Zamanlı Çalışan Koordinatörlüğü",
    "workshop": "Atölye Hizmetleri",
}

DEMO_PASSWORD = "sek-demo-2026"
# The monitoring system's webhook (08-04-26 reports a fault, 08-04-03 catches message
# monitoring_alert): POST /api/v1/hooks/izleme with a flat JSON alert.
MONITORING_HOOK = "izleme"
MONITORING_MAPPING = {"host": "/host", "service": "/service", "severity": "/severity", "summary": "/summary",
                      "detected_at": "/detected_at", "subject": "/summary"}

USERS = (
    ("admin", ["admin"], []),
    ("destek", ["staff"], ["helpdesk"]),
    ("ag", ["staff"], ["network"]),
    ("sistem", ["staff"], ["systems"]),
    ("yazilim", ["staff"], ["software"]),
    ("cagri", ["staff"], ["callcenter"]),
    ("sahip", ["staff", "process_owner"], ["systems"]),
    ("mudur", ["staff"], ["management"]),
    ("birim", ["staff"], ["unitheads"]),
    ("amir.muhendislik", ["staff"], ["unithead-muhendislik"]),
    ("amir.fen", ["staff"], ["unithead-fen"]),
    ("denetci", ["auditor"], []),
    ("yonetici", ["manager"], []),
    ("genel", ["staff"], ["general"]),
    ("yarizamanli", ["staff"], ["parttime"]),
    ("atolye", ["staff"], ["workshop"]),
)

# Each group's address and lead (a member above): BPMN names mail recipients as
# group:<slug> / lead:<slug> (engine.directory), never as an address.
GROUP_DIRECTORY = {
    "helpdesk": ("destek@bidb.example.edu.tr", "destek"),
    "network": ("ag@bidb.example.edu.tr", "ag"),
    "systems": ("sistem@bidb.example.edu.tr", "sahip"),
    "software": ("yazilim@bidb.example.edu.tr", "yazilim"),
    "callcenter": ("cagri@bidb.example.edu.tr", "cagri"),
    "management": ("baskanlik@bidb.example.edu.tr", "mudur"),
    "unitheads": ("birim-amirleri@example.edu.tr", "birim"),
    "unithead-muhendislik": ("muhendislik-dekanlik@example.edu.tr", "amir.muhendislik"),
    "unithead-fen": ("fen-dekanlik@example.edu.tr", "amir.fen"),
    "general": ("genel@bidb.example.edu.tr", "genel"),
    "parttime": ("yarizamanli@bidb.example.edu.tr", "yarizamanli"),
    "workshop": ("atolye@bidb.example.edu.tr", "atolye"),
}

SAMPLE_REQUESTS = (
    {"subject": "Personel e-posta şifremi unuttum", "requester": "Ayşe Yılmaz",
     "requester_email": "ayse.yilmaz@example.edu.tr", "category": "Personel E-posta"},
    {"subject": "VPN bağlantısı kurulamıyor", "requester": "Mehmet Demir",
     "requester_email": "mehmet.demir@example.edu.tr", "category": "VPN Bağlantısı"},
    {"subject": "Staj yönetim sistemine giriş yapamıyorum", "requester": "Zeynep Kaya",
     "requester_email": "zeynep.kaya@ogr.example.edu.tr", "category": "Staj Yönetim Sistemi"},
    {"subject": "Yurtta internet yok", "requester": "Ali Çelik",
     "requester_email": "ali.celik@ogr.example.edu.tr", "category": "YurtNet"},
    {"subject": "eduroam profili yüklenmiyor", "requester": "Elif Şahin",
     "requester_email": "elif.sahin@ogr.example.edu.tr", "category": "Kablosuz Ağ (eduroam)"},
    {"subject": "Bölüm web sayfası açılmıyor", "requester": "Hasan Öztürk",
     "requester_email": "hasan.ozturk@example.edu.tr", "category": "Web Sayfaları"},
    {"subject": "BYS not girişinde hata", "requester": "Fatma Arslan",
     "requester_email": "fatma.arslan@example.edu.tr", "category": "BYS / Yazılım"},
    {"subject": "Laboratuvar bilgisayarı açılmıyor", "requester": "Emre Doğan",
     "requester_email": "emre.dogan@example.edu.tr", "category": "Donanım / Arıza"},
)

# The portal's "Biriminiz" list: KTÜ's faculties, institutes and administrative units.
UNITS = (
    "Mühendislik Fakültesi", "Tıp Fakültesi", "Fen Fakültesi", "Orman Fakültesi",
    "İktisadi ve İdari Bilimler Fakültesi", "Edebiyat Fakültesi", "Mimarlık Fakültesi",
    "Diş Hekimliği Fakültesi", "Eczacılık Fakültesi", "Sağlık Bilimleri Fakültesi", "Teknoloji Fakültesi",
    "Deniz Bilimleri Fakültesi", "İletişim Fakültesi", "Hukuk Fakültesi", "Spor Bilimleri Fakültesi",
    "Fatih Eğitim Fakültesi", "Of Teknoloji Fakültesi", "Devlet Konservatuvarı", "Fen Bilimleri Enstitüsü",
    "Sosyal Bilimler Enstitüsü", "Sağlık Bilimleri Enstitüsü", "Bilgi İşlem Daire Başkanlığı",
    "Öğrenci İşleri Daire Başkanlığı", "Personel Daire Başkanlığı", "Kütüphane ve Dokümantasyon Daire Başkanlığı",
    "Sağlık Kültür ve Spor Daire Başkanlığı", "Yapı İşleri ve Teknik Daire Başkanlığı", "Rektörlük", "Diğer",
)

# Units with heads of their own: their approvals (a VPN request) go to that group only;
# the other units' go to every unit head (``unitheads``).
UNIT_HEADS = {"Mühendislik Fakültesi": "unithead-muhendislik", "Fen Fakültesi": "unithead-fen"}

# Canned answers the help desk starts from: (category, title, text); "" = every request.
CANNED = (
    ("Personel E-posta", "Personel e-posta şifresini yenileme",
     "Merhaba,\n\nPersonel e-posta şifrenizi şu adımlarla yenileyebilirsiniz:\n"
     "1. https://sifre.example.edu.tr adresinde \"Şifremi unuttum\" bağlantısını seçin.\n"
     "2. Kurumsal e-posta adresinizi ve TC kimlik numaranızı yazın.\n"
     "3. Sistemde kayıtlı cep telefonunuza gelen doğrulama kodunu girin.\n"
     "4. En az 8 karakterli; büyük harf, küçük harf ve rakam içeren yeni bir şifre belirleyin.\n\n"
     "Cep telefonu numaranız sistemde kayıtlı değilse kimliğinizle Destek Masası'na başvurabilirsiniz.\n\n"
     "İyi çalışmalar dileriz."),
    ("Kablosuz Ağ (eduroam)", "eduroam kurulumu",
     "Merhaba,\n\neduroam kablosuz ağına bağlanmak için:\n"
     "1. Cihazınızda https://cat.eduroam.org adresini açın ve kurum olarak üniversitemizi seçin.\n"
     "2. İşletim sisteminize uygun kurulum aracını indirip çalıştırın.\n"
     "3. Kullanıcı adı olarak e-posta adresinizin tamamını (ör. ad.soyad@example.edu.tr), şifre olarak "
     "e-posta şifrenizi girin.\n"
     "4. Cihazda eski bir eduroam profili kayıtlıysa önce onu silin (\"ağı unut\").\n\n"
     "Sorun sürerse cihazınızın modelini ve gördüğünüz hata mesajını bu talebe yanıt olarak yazabilirsiniz."),
    ("", "Ek bilgi isteği",
     "Merhaba,\n\nTalebinizi inceleyebilmemiz için sorunun ne zamandan beri sürdüğünü, kullandığınız cihazı "
     "ve gördüğünüz hata mesajını (mümkünse ekran görüntüsüyle) yazar mısınız?\n\nTeşekkür ederiz."),
    ("", "Teşekkür ve kapanış",
     "Merhaba,\n\nTalebiniz çözülmüştür; bildiriminiz için teşekkür ederiz. Sorun yeniden ortaya çıkarsa "
     "takip sayfasından talebinizi yeniden açabilirsiniz.\n\n"
     "Saygılarımızla,\nBilgi İşlem Daire Başkanlığı Destek Masası"),
)

# Requests go straight to their category's team (user_support's DMN); some samples are
# then moved by the help desk or claimed, so every team's inbox has work and the history
# shows a recategorization: subject -> (team the sample ends with, who claims it or None).
ROUTED = {
    "eduroam profili yüklenmiyor": ("network", "ag"),
    "Yurtta internet yok": ("network", None),
    "Bölüm web sayfası açılmıyor": ("software", None),
    "Laboratuvar bilgisayarı açılmıyor": ("systems", None),
    "Staj yönetim sistemine giriş yapamıyorum": ("systems", "sistem"),   # the help desk moves it
}
TEAM_CATEGORY = {"network": "Kablosuz Ağ (eduroam)", "software": "BYS / Yazılım",
                 "systems": "Öğrenci E-posta", "helpdesk": "Diğer"}


def _route(session: Session, instance_id: int, team: str, claimer: str | None) -> None:
    """Move a sample to ``team`` as the help desk would, and let a team member claim it."""
    def work() -> HumanTask:
        return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                      HumanTask.bpmn_id == "resolve",
                                                      HumanTask.state == "ready"))

    if work().group_name != team:
        recategorize(session, instance_id, TEAM_CATEGORY[team], by="destek",
                     note="Öğrenci e-posta şifresi sorunu; sistem ekibine aktarıldı.")
    if claimer:
        tasks.claim_task(session, work().id, users.get_user(session, claimer))


def _other_samples() -> list[tuple[str, dict]]:
    """One waiting request of every other executable process, so each team has its kind of work."""
    today = utcnow().date()
    later = (today + timedelta(days=60)).isoformat()
    return [
        ("vpn_request", {"requester": "Dr. Canan Aydın", "requester_email": "canan.aydin@example.edu.tr",
                         "unit": "Mühendislik Fakültesi", "subject": "Evden laboratuvar sunucusuna erişim",
                         "purpose": "Proje verilerine kampüs dışından erişmek", "target_systems": ["lab-sunucu-1"],
                         "start_date": today.isoformat(), "end_date": later}),
        ("vpn_request", {"requester": "Doç. Dr. Burak Şen", "requester_email": "burak.sen@example.edu.tr",
                         "unit": "Fen Fakültesi", "subject": "Evden deney verilerine erişim",
                         "purpose": "Gözlem verilerini hafta sonu evden işlemek", "target_systems": ["fen-veri-1"],
                         "start_date": today.isoformat(), "end_date": later}),
        ("server_external_access", {
            "requester": "Murat Koç", "requester_email": "murat.koc@example.edu.tr", "unit": "Kütüphane",
            "subject": "Kütüphane katalog sunucusu dışarıdan erişim", "server": "katalog.example.edu.tr",
            "ports": ["443/tcp"], "purpose": "Uzaktan katalog taraması", "responsible_person": "Murat Koç",
            "end_date": later}),
        ("yurtnet_registration", {
            "requester": "Deniz Yıldız", "requester_email": "deniz.yildiz@ogr.example.edu.tr",
            "subject": "YurtNet kaydı", "student_number": "202612345", "dorm": "Kanuni Erkek Öğrenci Yurdu",
            "block": "B", "room": "214", "device_type": "Dizüstü bilgisayar", "mac_address": "3c-22-fb-10-2a-9e"}),
        ("backup_restore", {
            "requester": "Selin Acar", "requester_email": "selin.acar@example.edu.tr", "unit": "Öğrenci İşleri",
            "subject": "Silinen klasörün geri yüklenmesi", "system": "Dosya sunucusu", "item_type": "Dosya / klasör",
            "item": "\\\\dosya\\ogrenci-isleri\\2026-kayit", "restore_date": (today - timedelta(days=2)).isoformat(),
            "reason": "Klasör yanlışlıkla silindi", "destination": "original"}),
        ("software_request", {
            "requester": "Prof. Dr. Kemal Eren", "requester_email": "kemal.eren@example.edu.tr",
            "unit": "Fen Fakültesi", "subject": "Laboratuvar randevu sistemi", "software_name": "Lab randevu",
            "need_description": "Öğrencilerin laboratuvar saatlerini çevrim içi ayırabilmesi",
            "user_group": "öğrenci", "user_count": 800, "desired_date": later}),
        ("message_routing", {
            "requester": "Gülay Tan", "requester_email": "gulay.tan@example.com", "subject": "Otopark",
            "message": "Hafta sonları kampüs otoparkı neden kapalı?", "message_type": "bilgi talebi"}),
        ("call_record", {
            "requester": "Arayan (isim vermedi)", "phone": "0532 000 00 00",
            "subject": "Kayıt yenileme", "topic": "Kayıt yenileme ücreti", "outcome": "lost"}),
    ]


def _as_sent_from_portal(session: Session, instance_id: int, data: dict) -> None:
    """Give a sample what a portal request has: its requester's contact and first message,
    so that it can be followed at /takip and its conversation shows on the staff pages."""
    if not data.get("requester_email"):
        return   # an anonymous call: nobody to follow it
    conversation.record_contact(session, instance_id, name=data["requester"], email=data["requester_email"],
                                unit=data.get("unit"), phone=data.get("phone"))
    if data.get("message"):
        conversation.add_message(session, instance_id, data["message"], author_kind=AuthorKind.REQUESTER,
                                 author=data["requester_email"], actor="demo")


# The asset registry's demo: the data centre's racks, the campus network, power and cooling, a lab
# (numbers as on taşınır labels: account code, year, sequence).
_DC = {"site": "Merkez Kampüs", "room": "Bilgi İşlem Veri Merkezi (B-012)"}
DEMO_ASSETS = (
    {"inventory_no": "253.02.03-2022-0001", "kind": "network_device", "model": "Cisco Catalyst 9500-24Y4C (omurga)",
     "serial": "FDO2533Q1AB", **_DC, "rack": "A1", "rack_unit": 40, "status": "in_use", "owner_unit": "Ağ Hizmetleri"},
    {"inventory_no": "253.02.03-2022-0002", "kind": "network_device", "model": "Cisco Catalyst 9500-24Y4C (omurga)",
     "serial": "FDO2533Q1AC", **_DC, "rack": "A2", "rack_unit": 40, "status": "in_use", "owner_unit": "Ağ Hizmetleri"},
    {"inventory_no": "253.02.03-2021-0014", "kind": "network_device", "model": "Cisco ASR 1001-X (sınır yönlendirici)",
     "serial": "SSI2118024K", **_DC, "rack": "A1", "rack_unit": 36, "status": "in_use", "owner_unit": "Ağ Hizmetleri"},
    {"inventory_no": "253.02.03-2023-0007", "kind": "network_device", "model": "Fortinet FortiGate 600F (güvenlik duvarı)",
     "serial": "FG6H0FTB23900412", **_DC, "rack": "A1", "rack_unit": 32, "status": "in_use",
     "owner_unit": "Ağ Hizmetleri"},
    {"inventory_no": "253.02.03-2020-0031", "kind": "network_device", "model": "HPE Aruba 2930F-48G (kenar anahtar)",
     "serial": "CN09KP21X7", "site": "Mühendislik Fakültesi", "room": "Zemin kat kabin odası", "rack": "M-Z1",
     "rack_unit": 20, "status": "in_use", "owner_unit": "Ağ Hizmetleri"},
    {"inventory_no": "253.02.03-2020-0032", "kind": "network_device", "model": "HPE Aruba 2930F-48G (kenar anahtar)",
     "serial": "CN09KP21Y2", "site": "Fen Fakültesi", "room": "1. kat kabin odası", "rack": "F-1",
     "rack_unit": 18, "status": "in_repair", "owner_unit": "Ağ Hizmetleri",
     "note": "Güç kaynağı arızalı; garanti kapsamında üreticide."},
    {"inventory_no": "253.02.03-2016-0009", "kind": "network_device", "model": "Cisco Catalyst 3750X-48P",
     "serial": "FDO1634R0ZT", "site": "Merkez Kampüs", "room": "Ağ deposu", "status": "retired",
     "owner_unit": "Ağ Hizmetleri", "note": "Destek süresi bitti; yerine Aruba 2930F takıldı."},
    {"inventory_no": "253.02.02-2023-0003", "kind": "server", "model": "Dell PowerEdge R750 (sanallaştırma düğümü 1)",
     "serial": "7XK2LM3", **_DC, "rack": "B1", "rack_unit": 10, "status": "in_use", "owner_unit": "Sistem Destek"},
    {"inventory_no": "253.02.02-2023-0004", "kind": "server", "model": "Dell PowerEdge R750 (sanallaştırma düğümü 2)",
     "serial": "7XK2LM4", **_DC, "rack": "B1", "rack_unit": 12, "status": "in_use", "owner_unit": "Sistem Destek"},
    {"inventory_no": "253.02.02-2021-0011", "kind": "server", "model": "HPE ProLiant DL380 Gen10 (yedekleme)",
     "serial": "CZJ1120B7Q", **_DC, "rack": "B2", "rack_unit": 6, "status": "in_repair", "owner_unit": "Sistem Destek",
     "note": "Disk denetleyicisi değişiyor."},
    {"inventory_no": "253.02.02-2024-0002", "kind": "server", "model": "Dell PowerEdge R660 (e-posta)",
     "serial": "9QW4RT2", **_DC, "rack": "B2", "rack_unit": 14, "status": "in_use", "owner_unit": "Sistem Destek"},
    {"inventory_no": "253.03.01-2022-0001", "kind": "ups", "model": "APC Symmetra PX 40kW", "serial": "PX40-22A0117",
     **_DC, "status": "in_use", "owner_unit": "Genel Süreçler"},
    {"inventory_no": "253.03.01-2019-0004", "kind": "ups", "model": "APC Smart-UPS SRT 10kVA", "serial": "AS1917220034",
     "site": "Mühendislik Fakültesi", "room": "Zemin kat kabin odası", "rack": "M-Z1", "rack_unit": 1,
     "status": "in_use", "owner_unit": "Genel Süreçler"},
    {"inventory_no": "253.03.02-2018-0001", "kind": "generator", "model": "Aksa AC 275 (275 kVA dizel jeneratör)",
     "serial": "AKS-18-27531", "site": "Merkez Kampüs", "room": "Jeneratör binası", "status": "in_use",
     "owner_unit": "Genel Süreçler"},
    {"inventory_no": "253.03.04-2022-0001", "kind": "cooling", "model": "Vertiv Liebert PDX 35 kW (hassas klima)",
     "serial": "VRT2207PDX0091", **_DC, "status": "in_use", "owner_unit": "Genel Süreçler"},
    {"inventory_no": "253.03.04-2022-0002", "kind": "cooling", "model": "Vertiv Liebert PDX 35 kW (hassas klima)",
     "serial": "VRT2207PDX0092", **_DC, "status": "in_repair", "owner_unit": "Genel Süreçler",
     "note": "Kompresör bakımı; yedek ünite devrede."},
    {"inventory_no": "253.02.01-2024-0101", "kind": "computer", "model": "Dell OptiPlex 7010 SFF",
     "serial": "5HJ8KL3", "site": "Mühendislik Fakültesi", "room": "Bilgisayar Laboratuvarı 3", "status": "in_use",
     "owner_unit": "Atölye Hizmetleri", "note": "Masa 1"},
    {"inventory_no": "253.02.01-2024-0102", "kind": "computer", "model": "Dell OptiPlex 7010 SFF",
     "serial": "5HJ8KL4", "site": "Mühendislik Fakültesi", "room": "Bilgisayar Laboratuvarı 3", "status": "in_use",
     "owner_unit": "Atölye Hizmetleri", "note": "Masa 2"},
    {"inventory_no": "253.02.01-2024-0103", "kind": "computer", "model": "Dell OptiPlex 7010 SFF",
     "serial": "5HJ8KL5", "site": "Mühendislik Fakültesi", "room": "Atölye", "status": "in_stock",
     "owner_unit": "Atölye Hizmetleri", "note": "Yedek; laboratuvara arıza olursa takılır."},
    {"inventory_no": "253.02.05-2021-0006", "kind": "printer", "model": "HP LaserJet Enterprise M611dn",
     "serial": "PHBQL12345", "site": "Merkez Kampüs", "room": "Bilgi İşlem Destek Masası", "status": "in_use",
     "owner_unit": "Destek Masası"},
)


def load_assets(session: Session) -> int:
    """Register the demo assets once (an empty registry only); a few with a history."""
    if assets.search(session, per_page=1).total:
        return 0
    for values in DEMO_ASSETS:
        assets.register(session, values, actor="demo")
    assets.update(session, "253.02.02-2023-0004", {"rack_unit": 16}, actor="sistem",
                  note="Kabin düzenlemesi")
    assets.update(session, "253.02.03-2020-0032", {"note": DEMO_ASSETS[5]["note"]}, actor="ag",
                  note="Arıza kaydı açıldı")
    return len(DEMO_ASSETS)


def load_demo(session: Session, *, hook_key: str | None = None) -> str:
    """Deploy the BPMN folder, create groups and users, and start sample requests once.

    :param hook_key: the app's secret key: the monitoring webhook ``izleme`` is added
        (once) and its secret, derived from this key, is named in the summary
    """
    install()
    files = validation.load_paths([str(BPMN_DIR)])
    results = definitions.deploy(session, files, actor="demo", note="demo data",
                                 known_operators=services.operator_names())
    for slug, title in GROUPS.items():
        users.ensure_group(session, slug, title)
    for username, roles, groups in USERS:
        users.add_user(session, username, roles=roles, groups=groups, password=DEMO_PASSWORD,
                       email=f"{username}@example.edu.tr", actor="demo")
    for slug, (email, lead) in GROUP_DIRECTORY.items():
        directory.set_contact(session, slug, email, lead, actor="demo")
    ensure_units(session, UNITS, actor="demo")
    for unit in list_units(session):
        if unit.name in UNIT_HEADS and unit.head_group is None:
            set_unit_head_group(session, unit.id, UNIT_HEADS[unit.name], actor="demo")
    if not canned.list_all(session):
        for category, title, body in CANNED:
            canned.save(session, category=category, title=title, body=body, by="demo", allowed_categories=CATEGORIES)
    registered = load_assets(session)
    started = 0
    if not session.scalar(select(func.count()).select_from(ProcessInstance)):
        for data in SAMPLE_REQUESTS:
            instance = runtime.start_instance(session, "user_support", data=data, actor="demo")
            _as_sent_from_portal(session, instance.id, data)
            started += 1
            if data["subject"] in ROUTED:
                _route(session, instance.id, *ROUTED[data["subject"]])
        for key, data in _other_samples():
            instance = runtime.start_instance(session, key, data=data, actor="demo")
            _as_sent_from_portal(session, instance.id, data)
            started += 1
    deployed = ", ".join(str(r) for r in results)
    summary = (f"demo loaded: {deployed}; {len(USERS)} users (password {DEMO_PASSWORD!r}); "
               f"{started} sample requests started; {registered} assets registered")
    if hook_key is not None:
        summary += f"; webhook {MONITORING_HOOK} secret {_monitoring_hook_secret(session, hook_key)}"
    return summary


def _monitoring_hook_secret(session: Session, hook_key: str) -> str:
    try:
        return hooks.secret_of(hooks.hook_by_name(session, MONITORING_HOOK), hook_key)
    except NotFoundError:
        _hook, secret = hooks.create_hook(session, MONITORING_HOOK, "monitoring_alert", mapping=MONITORING_MAPPING,
                                          actor="demo", master_key=hook_key)
        return secret
