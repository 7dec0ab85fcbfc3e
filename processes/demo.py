"""Demo data for ``sek demo``: groups, users with documented passwords, sample requests.

The passwords are printed in the README; never run this on a production database.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import definitions, runtime, services, tasks, users, validation
from engine.models import HumanTask, ProcessInstance

from . import install
from .catalog import BPMN_DIR

GROUPS = {
    "helpdesk": "Destek Masası",
    "network": "Ağ Hizmetleri",
    "systems": "Sistem Destek",
    "software": "Yazılım Geliştirme",
    "callcenter": "Çağrı Merkezi",
}

DEMO_PASSWORD = "sek-demo-2026"

USERS = (
    ("admin", ["admin"], []),
    ("destek", ["staff"], ["helpdesk"]),
    ("ag", ["staff"], ["network"]),
    ("sistem", ["staff"], ["systems"]),
    ("yazilim", ["staff"], ["software"]),
    ("cagri", ["staff"], ["callcenter"]),
    ("sahip", ["staff", "process_owner"], ["systems"]),
    ("denetci", ["auditor"], []),
    ("yonetici", ["manager"], []),
)

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

# The help desk has already routed some samples, so every team's inbox has work:
# subject -> (team, who claims the team task or None).
ROUTED = {
    "eduroam profili yüklenmiyor": ("network", "ag"),
    "Yurtta internet yok": ("network", None),
    "Bölüm web sayfası açılmıyor": ("software", None),
    "Laboratuvar bilgisayarı açılmıyor": ("systems", None),
}


def _route(session: Session, instance_id: int, data: dict, team: str, claimer: str | None) -> None:
    """Triage a sample as the help desk would, and let a team member claim it."""
    helpdesk = users.get_user(session, "destek")
    triage = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                    HumanTask.bpmn_id == "triage"))
    tasks.complete_task(session, triage.id, helpdesk, {"category": data["category"], "team": team})
    if claimer:
        work = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                      HumanTask.state == "ready"))
        tasks.claim_task(session, work.id, users.get_user(session, claimer))


def load_demo(session: Session) -> str:
    """Deploy the BPMN folder, create groups and users, and start sample requests once."""
    install()
    files = validation.load_paths([str(BPMN_DIR)])
    results = definitions.deploy(session, files, actor="demo", note="demo data",
                                 known_operators=services.operator_names())
    for slug, title in GROUPS.items():
        users.ensure_group(session, slug, title)
    for username, roles, groups in USERS:
        users.add_user(session, username, roles=roles, groups=groups, password=DEMO_PASSWORD,
                       email=f"{username}@example.edu.tr", actor="demo")
    started = 0
    if not session.scalar(select(func.count()).select_from(ProcessInstance)):
        for data in SAMPLE_REQUESTS:
            instance = runtime.start_instance(session, "user_support", data=data, actor="demo")
            started += 1
            if data["subject"] in ROUTED:
                _route(session, instance.id, data, *ROUTED[data["subject"]])
    deployed = ", ".join(str(r) for r in results)
    return (f"demo loaded: {deployed}; {len(USERS)} users (password {DEMO_PASSWORD!r}); "
            f"{started} sample requests started")
