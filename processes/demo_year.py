"""``sek demo --year 2023``: a believable year of help-desk requests with seed 000's totals.

Seed 000 (KTÜ's HESK report for 2023) gives: 3481 requests, 3464 of them resolved; staff
e-mail ("personel e-posta") first with 1311, students' internship requests ("staj")
second, VPN connection requests third with 302. Those are the only figures it gives; the
other categories' counts below are invented so that the order holds (Staj between 302 and
1311, every other category under 302) and the sum is 3481. Mapping onto ``CATEGORIES``:
"personel e-posta" -> "Personel E-posta", "staj" -> "Staj Yönetim Sistemi" (seed 001: the
internship system's questions go to the help desk), "VPN bağlantı" -> "VPN Bağlantısı".
Seed 004 (the call centre directive) gives no call figures, so no calls are generated.

Requests are spread over working hours and days (August and the Bayram weeks quiet, term
starts busy; Staj peaks before the summer internships), answered and resolved after
team-specific working hours, some reopened, about a quarter rated. The 3464 resolved
requests are completed instances with a minimal state (a cancelled workflow holding the
request's data, so staff pages can still show it) inserted in bulk; the 17 still open are
real running instances of ``user_support`` (started, then back-dated), so they sit in their
team's inbox. No per-request audit events are written: ``engine.audit.record`` stamps the
present time and a 2023 history would be fiction; one ``demo.year_loaded`` system event
records the run. Deterministic (``random.Random(year)``); a second run changes nothing.
"""

from __future__ import annotations

import copy
import random
import unicodedata
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from engine import audit, definitions, runtime, spiff, workdays
from engine.models import (
    HumanTask,
    ProcessInstance,
    RequestContact,
    RequestFact,
    RequestMessage,
    ServiceRating,
)

ACTOR = "demo-year"
RECEIVED, RESOLVED = 3481, 3464
# Category -> (requests in the year, who asks: staff/student/mixed). The first three are the seed's order.
TOTALS = {
    "Personel E-posta": (1311, "staff"), "Staj Yönetim Sistemi": (655, "student"),
    "VPN Bağlantısı": (302, "mixed"), "Öğrenci E-posta": (289, "student"),
    "Kablosuz Ağ (eduroam)": (241, "mixed"), "YurtNet": (176, "student"), "BYS / Yazılım": (158, "staff"),
    "Web Sayfaları": (97, "staff"), "Diğer": (90, "mixed"), "Lisanslı Yazılım": (88, "staff"),
    "Donanım / Arıza": (74, "staff"),
}
# bpmn/user_support.routing.dmn: category -> (team, due working days).
ROUTING = {
    "Personel E-posta": ("systems", 2), "Öğrenci E-posta": ("systems", 2), "Staj Yönetim Sistemi": ("software", 3),
    "VPN Bağlantısı": ("network", 2), "YurtNet": ("network", 2), "Kablosuz Ağ (eduroam)": ("network", 2),
    "BYS / Yazılım": ("software", 3), "Web Sayfaları": ("software", 3), "Lisanslı Yazılım": ("systems", 5),
    "Donanım / Arıza": ("systems", 3), "Diğer": ("helpdesk", 2),
}
# Median working hours to the first answer, and from it to the resolution, per team.
TEAM_HOURS = {"helpdesk": (1.5, 2.0), "systems": (2.5, 3.0), "network": (4.0, 6.0), "software": (7.0, 12.0)}
# Month weights (Jan..Dec): term starts (February, October) busy, August quiet.
MONTHS = (0.9, 1.2, 1.1, 1.0, 1.0, 0.9, 0.7, 0.45, 1.05, 1.35, 1.1, 0.85)
MONTHS_STAJ = (0.5, 0.6, 0.9, 1.4, 2.0, 2.2, 1.6, 0.8, 0.7, 0.5, 0.4, 0.4)   # before the summer internships
TERM_STARTS = ((date(2023, 2, 13), 14), (date(2023, 10, 2), 14))            # (first day, days of rush)
BAYRAM = {2023: ("2023-04-20", "2023-04-21", "2023-04-22", "2023-04-23", "2023-06-27", "2023-06-28",
                 "2023-06-29", "2023-06-30", "2023-07-01")}   # eves included: nobody writes then
HOURS = {8: 0.4, 9: 1.3, 10: 1.6, 11: 1.5, 12: 0.7, 13: 1.1, 14: 1.3, 15: 1.2, 16: 0.9, 17: 0.3}
FIRST = ("Ayşe", "Mehmet", "Fatma", "Mustafa", "Emine", "Ahmet", "Hatice", "Ali", "Zeynep", "Hüseyin", "Elif",
         "Hasan", "Merve", "İbrahim", "Esra", "Murat", "Büşra", "Emre", "Kübra", "Burak", "Selin", "Oğuz",
         "Gül", "Kerem", "Derya", "Serkan", "Özlem", "Onur", "Seda", "Yusuf", "Tuğba", "Cem", "Şule", "Barış")
LAST = ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir",
        "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek", "Polat",
        "Karadeniz", "Uzun", "Bayraktar", "Erdoğan", "Güneş", "Akın", "Tekin", "Sarı", "Bulut", "Keskin")
SUBJECTS = {
    "Personel E-posta": ("Personel e-posta şifremi unuttum", "E-posta kotam doldu", "Outlook'ta e-posta "
                         "hesabı kurulumu", "Gelen kutuma e-posta gelmiyor", "E-posta yönlendirme talebi"),
    "Staj Yönetim Sistemi": ("Staj başvurum onaylanmadı", "Staj defterini yükleyemiyorum", "Staj yönetim "
                             "sistemine giriş yapamıyorum", "Staj tarihleri hatalı görünüyor"),
    "VPN Bağlantısı": ("VPN bağlantısı kurulamıyor", "VPN erişim talebi", "VPN ile kütüphane veritabanlarına "
                       "erişemiyorum"),
    "Öğrenci E-posta": ("Öğrenci e-posta hesabım açılmadı", "Öğrenci e-posta şifremi unuttum"),
    "Kablosuz Ağ (eduroam)": ("eduroam profili yüklenmiyor", "Kablosuz ağa bağlanamıyorum"),
    "YurtNet": ("Yurtta internet yok", "YurtNet kaydım onaylanmadı"),
    "BYS / Yazılım": ("BYS not girişinde hata", "BYS'de ders programı görünmüyor"),
    "Web Sayfaları": ("Bölüm web sayfası açılmıyor", "Web sayfasına duyuru ekleyemiyorum"),
    "Lisanslı Yazılım": ("Office lisansı talebi", "MATLAB lisansı etkinleşmiyor"),
    "Donanım / Arıza": ("Laboratuvar bilgisayarı açılmıyor", "Yazıcı ağda görünmüyor"),
    "Diğer": ("Bilgi almak istiyorum", "Kampüs kartı sorunu"),
}
FACULTIES = ("Mühendislik Fakültesi", "Fen Fakültesi", "Tıp Fakültesi", "İktisadi ve İdari Bilimler Fakültesi",
             "Edebiyat Fakültesi", "Mimarlık Fakültesi", "Orman Fakültesi", "Teknoloji Fakültesi",
             "Sağlık Bilimleri Fakültesi", "Fatih Eğitim Fakültesi", "Öğrenci İşleri Daire Başkanlığı",
             "Personel Daire Başkanlığı", "Rektörlük")
ANSWER = "Merhaba,\n\nTalebiniz çözülmüştür. Sorun sürerse talebinizi yeniden açabilirsiniz.\n\nİyi çalışmalar."


def _days(year: int, category: str) -> tuple[list[date], list[float]]:
    """Every day of the year and how likely a request of ``category`` arrives on it."""
    months = MONTHS_STAJ if category == "Staj Yönetim Sistemi" else MONTHS
    bayram = {date.fromisoformat(d) for d in BAYRAM.get(year, ())}
    days, weights = [], []
    day = date(year, 1, 1)
    while day.year == year:
        weight = months[day.month - 1] * (1.15, 1.05, 1.0, 0.95, 0.85, 0.12, 0.08)[day.weekday()]
        if day in bayram or workdays.is_holiday(day):
            weight *= 0.05
        for first, length in TERM_STARTS:
            if 0 <= (day - first).days < length:
                weight *= 1.8
        days.append(day)
        weights.append(weight)
        day += timedelta(days=1)
    return days, weights


def _add_working_hours(start: datetime, hours: float) -> datetime:
    """``start`` plus ``hours`` of the help desk's working time (08:30-17:30 on working days)."""
    now, left = start, timedelta(hours=hours)
    while True:
        opens = datetime.combine(now.date(), time(8, 30), workdays.ZONE)
        closes = datetime.combine(now.date(), time(17, 30), workdays.ZONE)
        if not workdays.is_working_day(now.date()) or now >= closes:
            now = datetime.combine(now.date() + timedelta(days=1), time(8, 30), workdays.ZONE)
            continue
        now = max(now, opens)
        if now + left <= closes:
            return now + left
        left -= closes - now
        now = closes


def _person(rng: random.Random, who: str) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    student = who == "student" or (who == "mixed" and rng.random() < 0.5)

    def ascii_(text: str) -> str:
        text = text.lower().replace("ı", "i")
        return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()

    if student:
        email = f"{rng.randint(300000, 459999)}@ogr.example.edu.tr"
        return {"name": f"{first} {last}", "email": email, "unit": rng.choice(FACULTIES[:10]), "phone": None}
    email = f"{ascii_(first)}.{ascii_(last)}{rng.randint(1, 99) if rng.random() < 0.3 else ''}@example.edu.tr"
    return {"name": f"{first} {last}", "email": email, "unit": rng.choice(FACULTIES),
            "phone": str(rng.randint(1000, 4999))}


def generate(year: int = 2023) -> list[dict]:
    """The year's requests as plain dicts (received_at, category, team, times, rating, person), oldest first."""
    rng = random.Random(year)
    hours, hour_weights = list(HOURS), list(HOURS.values())
    last_moment = datetime(year, 12, 31, 20, 0, tzinfo=workdays.ZONE)
    requests = []
    for category, (count, who) in TOTALS.items():
        days, weights = _days(year, category)
        team, due_days = ROUTING[category]
        answer_median, resolve_median = TEAM_HOURS[team]
        for day in rng.choices(days, weights, k=count):
            moment = datetime.combine(day, time(rng.choices(hours, hour_weights)[0], rng.randrange(60)),
                                      workdays.ZONE)
            first = _add_working_hours(moment, answer_median * rng.lognormvariate(0, 0.9))
            resolved = first if rng.random() < 0.55 else _add_working_hours(
                first, resolve_median * rng.lognormvariate(0, 1.0))
            reopened = int(rng.random() < 0.035)
            if reopened:
                resolved = _add_working_hours(resolved, 9 + resolve_median * rng.lognormvariate(0, 0.8))
            due = workdays.add_working_days(moment, due_days)
            requests.append({
                "category": category, "team": team, "received_at": moment,
                "first_answer_at": min(first, last_moment), "resolved_at": min(resolved, last_moment),
                "due_at": due, "reopened": reopened, "subject": rng.choice(SUBJECTS[category]),
                "rating": rng.choices((5, 4, 3, 2, 1), (55, 25, 10, 5, 5) if resolved <= due else (25, 25, 20, 15, 15))[0]
                if rng.random() < 0.27 else None,
                "person": _person(rng, who),
            })
    requests.sort(key=lambda r: (r["received_at"], r["category"]))
    # The ones still open: received in the year's last weeks, whatever their category.
    late = [i for i, r in enumerate(requests) if r["received_at"].date() >= date(year, 12, 11)]
    for index in rng.sample(late, RECEIVED - RESOLVED):
        requests[index].update(first_answer_at=None, resolved_at=None, reopened=0, rating=None)
    for r in requests:   # clamped at the year's end: an answer never comes before its request
        for key in ("first_answer_at", "resolved_at"):
            if r[key] is not None and r[key] <= r["received_at"]:
                r[key] = r["received_at"] + timedelta(minutes=30)
    return requests


def _tracking_codes(rng: random.Random, session: Session, count: int) -> list[str]:
    alphabet, codes = runtime.TRACKING_ALPHABET, set()
    while len(codes) < count:
        batch = {"".join(rng.choices(alphabet, k=runtime.TRACKING_LENGTH)) for _ in range(count - len(codes))}
        taken = set(session.scalars(select(ProcessInstance.tracking_code)
                                    .where(ProcessInstance.tracking_code.in_(sorted(batch)))))
        codes |= batch - taken
    return sorted(codes, key=lambda c: rng.random())


def _start_data(r: dict) -> dict:
    p = r["person"]
    return {"category": r["category"], "subject": r["subject"], "requester": p["name"],
            "requester_email": p["email"], "unit": p["unit"], "phone": p["phone"] or "",
            "message": f"{r['subject']}. Yardımcı olabilir misiniz?"}


def load_year(session: Session, year: int = 2023) -> str:
    """Insert the year's requests once (the user_support definition must be deployed).

    :returns: one line saying what was done
    """
    begin = datetime(year, 1, 1, tzinfo=workdays.ZONE)
    end = datetime(year + 1, 1, 1, tzinfo=workdays.ZONE)
    done = session.scalar(select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.started_by == ACTOR, ProcessInstance.created_at >= begin, ProcessInstance.created_at < end))
    if done:
        return f"demo year {year}: already loaded ({done} requests), nothing changed"
    requests = generate(year)
    rng = random.Random(year * 7)
    definition = definitions.get_definition(session, "user_support")
    loaded = definitions.load_by_id(session, definition.id)
    workflow = spiff.new_workflow(loaded.spec, loaded.subprocess_specs, runtime.script_engine())
    workflow.cancel()   # a minimal state: no task open, the request's data on the workflow
    template = spiff.workflow_to_dict(workflow)
    closed = [r for r in requests if r["resolved_at"] is not None]
    codes = iter(_tracking_codes(rng, session, len(closed)))
    rows = []
    for r in closed:
        state = copy.copy(template)
        state["data"] = _start_data(r)
        rows.append({"definition_id": definition.id, "process_key": "user_support", "status": "completed",
                     "tracking_code": next(codes), "state": state, "revision": 1, "started_by": ACTOR,
                     "created_at": r["received_at"], "updated_at": r["resolved_at"],
                     "completed_at": r["resolved_at"]})
    ids = session.scalars(insert(ProcessInstance).returning(ProcessInstance.id, sort_by_parameter_order=True),
                          rows).all()
    for r, instance_id in zip(closed, ids, strict=True):
        r["id"] = instance_id
    for r in requests:
        if r["resolved_at"] is None:
            r["id"] = _start_open(session, r)
    _insert_details(session, requests)
    audit.record(session, "demo.year_loaded", actor=ACTOR, data={
        "year": year, "received": len(requests), "resolved": len(closed)})
    return f"demo year {year}: {len(requests)} requests loaded, {len(closed)} resolved, {len(requests) - len(closed)} open"


def _start_open(session: Session, r: dict) -> int:
    """A real running request, back-dated to when it arrived, in its team's inbox."""
    instance = runtime.start_instance(session, "user_support", data=_start_data(r), actor=ACTOR)
    session.execute(update(ProcessInstance).where(ProcessInstance.id == instance.id)
                    .values(created_at=r["received_at"]).execution_options(synchronize_session=False))
    session.execute(update(HumanTask).where(HumanTask.instance_id == instance.id).values(created_at=r["received_at"]))
    session.expire(instance)
    # The engine's own fact row (if its write path made one) gives way to the back-dated one.
    session.execute(delete(RequestFact).where(RequestFact.instance_id == instance.id))
    return instance.id


def _insert_details(session: Session, requests: list[dict]) -> None:
    """Contacts, the first message and the answer, ratings and report facts, in bulk."""
    contacts, messages, ratings, facts = [], [], [], []
    for r in requests:
        p, resolved = r["person"], r["resolved_at"]
        contacts.append({"instance_id": r["id"], "name": p["name"], "email": p["email"],
                         "email_key": p["email"].lower(), "unit": p["unit"], "phone": p["phone"],
                         "locale": "tr", "created_at": r["received_at"]})
        messages.append({"instance_id": r["id"], "author_kind": "requester", "author": p["email"], "public": True,
                         "body": _start_data(r)["message"], "created_at": r["received_at"]})
        if resolved is not None:
            messages.append({"instance_id": r["id"], "author_kind": "staff", "author": r["team"], "public": True,
                             "body": ANSWER, "created_at": resolved})
        if r["rating"] is not None:
            ratings.append({"instance_id": r["id"], "score": r["rating"], "comment": "",
                            "created_at": resolved, "updated_at": resolved})
        first = r["first_answer_at"]
        facts.append({
            "instance_id": r["id"], "process_key": "user_support", "category": r["category"], "team": r["team"],
            "status": "completed" if resolved else "running", "received_at": r["received_at"],
            "first_answer_at": first,
            "first_answer_seconds": int((first - r["received_at"]).total_seconds()) if first else None,
            "resolved_at": resolved,
            "resolution_seconds": int((resolved - r["received_at"]).total_seconds()) if resolved else None,
            "due_at": r["due_at"], "sla_met": (resolved <= r["due_at"]) if resolved else None,
            "reopened": r["reopened"], "rating": r["rating"], "call_outcome": None})
    for model, rows in ((RequestContact, contacts), (RequestMessage, messages), (ServiceRating, ratings),
                        (RequestFact, facts)):
        for offset in range(0, len(rows), 2000):
            session.execute(insert(model), rows[offset:offset + 2000])

