"""Staff download a request's files: only as attachments, never rendered by the browser."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine import attachments, runtime
from engine.attachments import Upload
from engine.models import HumanTask

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _request_with_file(app, db, deploy, content=PDF, filename="fatura.pdf"):
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    folder = Path(app.config["SEK_DATA_DIR"]) / "attachments"
    with db.tx() as session:
        instance = runtime.start_instance(session, "user_support", actor="portal", data={
            "category": "Kablosuz Ağ (eduroam)", "subject": "eduroam", "requester": "Elif",
            "requester_email": "elif@ogr.example.edu.tr"})
        row = attachments.store(session, folder, instance.id, [Upload(filename, content)],
                                uploaded_by="elif@ogr.example.edu.tr")[0]
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
        return instance.id, task_id, row.id


def test_a_file_is_served_as_a_download_with_strict_headers(app, client, auth, make_user, db, deploy):
    make_user("ag", groups=("network",))
    instance_id, task_id, attachment_id = _request_with_file(app, db, deploy, filename="Fatura Ocak.pdf")
    auth.login("ag")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f'href="/attachments/{attachment_id}"' in page and "Fatura Ocak.pdf" in page
    response = client.get(f"/attachments/{attachment_id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="Fatura Ocak.pdf"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"] == "sandbox"


def test_a_turkish_file_name_survives_the_download(app, client, auth, make_user, db, deploy):
    make_user("destek", groups=("helpdesk",))
    _, _, attachment_id = _request_with_file(app, db, deploy, content="Günlük kaydı\n".encode(),
                                             filename="hata günlüğü.txt")
    auth.login("destek")
    response = client.get(f"/attachments/{attachment_id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''hata%20g%C3%BCnl%C3%BC%C4%9F%C3%BC.txt" in disposition


def test_staff_who_may_not_see_the_request_get_nothing(app, client, auth, make_user, db, deploy):
    make_user("yazilim", groups=("software",))
    _, _, attachment_id = _request_with_file(app, db, deploy)
    auth.login("yazilim")
    response = client.get(f"/attachments/{attachment_id}")
    assert response.status_code == 403
    assert PDF not in response.data


def test_unknown_files_and_signed_out_visitors(app, client, auth, make_user, db, deploy):
    make_user("ag", groups=("network",))
    _, _, attachment_id = _request_with_file(app, db, deploy)
    signed_out = client.get(f"/attachments/{attachment_id}")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    auth.login("ag")
    assert client.get(f"/attachments/{attachment_id + 100}").status_code == 404
