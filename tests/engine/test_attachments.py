"""Attachments are judged by their bytes, not their names; refused files store nothing;
accepted ones land on disk under random names with their metadata in the database."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import attachments, runtime
from engine.attachments import MB, Limits, Upload, check_uploads, clean_filename, detect_type
from engine.errors import NotFoundError, ValidationError
from engine.models import Attachment

SUPPORT = Path(__file__).resolve().parents[1] / "data" / "support"


def _zip(members: dict[str, bytes | str], *, stored_first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first:   # ODF wants "mimetype" first and uncompressed
            archive.writestr(zipfile.ZipInfo(stored_first), members.pop(stored_first), zipfile.ZIP_STORED)
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def docx() -> bytes:
    return _zip({"[Content_Types].xml": "<Types/>", "_rels/.rels": "<Relationships/>",
                 "word/document.xml": "<w:document/>"})


def xlsx() -> bytes:
    return _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>",
                 "xl/worksheets/sheet1.xml": "<worksheet/>"})


def odt() -> bytes:
    return _zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<office:document/>",
                 "META-INF/manifest.xml": "<manifest/>"}, stored_first="mimetype")


ALLOWED = [
    ("pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF", "application/pdf"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20, "image/png"),
    ("jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20, "image/jpeg"),
    ("txt", "Merhaba, VPN bağlanmıyor.\nTeşekkürler".encode(), "text/plain; charset=utf-8"),
    ("docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xlsx", xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("odt", odt(), "application/vnd.oasis.opendocument.text"),
    ("zip", _zip({"notlar/a.txt": "a", "b.csv": "1,2"}), "application/zip"),
]

REFUSED = [
    ("html", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
    ("html without doctype", b"  <html><body>hi</body></html>"),
    ("svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("xml svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
    ("script", b"<script>alert(1)</script>"),
    ("windows executable", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64),
    ("elf executable", b"\x7fELF\x02\x01\x01" + b"\x00" * 64),
    ("gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00"),
    ("latin-1 text", "ağ".encode("iso-8859-9")),
    ("broken zip", b"PK\x03\x04" + b"\x00" * 10),
]


@pytest.mark.parametrize(("extension", "content", "content_type"), ALLOWED, ids=[a[0] for a in ALLOWED])
def test_allowed_types_are_recognised_by_content(extension, content, content_type):
    assert detect_type(content) == (content_type, extension)


@pytest.mark.parametrize(("kind", "content"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_types_are_refused_whatever_their_name(kind, content):
    assert detect_type(content) is None
    with pytest.raises(ValidationError) as refused:
        check_uploads([Upload("belge.pdf", content)])
    assert [p.code for p in refused.value.problems] == ["file_type"]
    assert "belge.pdf" in refused.value.problems[0].message


def test_a_file_named_exe_with_pdf_content_is_a_pdf_and_gets_its_extension():
    (upload, content_type, extension), = check_uploads([Upload("rapor.exe", ALLOWED[0][1])])
    assert (content_type, extension) == ("application/pdf", "pdf")
    assert clean_filename(upload.filename, extension) == "rapor.pdf"


def test_counts_and_sizes_are_limited():
    limits = Limits(max_files=3, file_bytes=1 * MB, request_bytes=2 * MB)
    text = b"a" * 100
    with pytest.raises(ValidationError) as many:
        check_uploads([Upload(f"{n}.txt", text) for n in range(4)], limits)
    assert "max_files" in [p.code for p in many.value.problems]
    with pytest.raises(ValidationError) as big:
        check_uploads([Upload("big.txt", b"a" * (MB + 1))], limits)
    assert [p.code for p in big.value.problems] == ["file_size"]
    with pytest.raises(ValidationError) as together:
        check_uploads([Upload(f"{n}.txt", b"a" * (MB - 10)) for n in range(3)], limits)
    assert [p.code for p in together.value.problems] == ["request_size"]
    with pytest.raises(ValidationError) as empty:
        check_uploads([Upload("bos.txt", b"")], limits)
    assert [p.code for p in empty.value.problems] == ["empty"]
    with pytest.raises(ValidationError) as with_earlier:
        check_uploads([Upload("a.txt", text)], limits, already=3)
    assert [p.code for p in with_earlier.value.problems] == ["max_files"]
    assert len(check_uploads([Upload(f"{n}.txt", text) for n in range(3)], limits)) == 3


@pytest.mark.parametrize(("given", "expected"), [
    ("../../etc/passwd", "passwd.txt"),
    ("C:\\Users\\ali\\rapor.pdf", "rapor.txt"),
    ('<script>alert("x")</script>.txt', "script.txt"),
    ("şikâyet dilekçesi.txt", "şikâyet dilekçesi.txt"),
    ("", "dosya.txt"),
    ("...", "dosya.txt"),
])
def test_file_names_are_cleaned(given, expected):
    name = clean_filename(given, "txt")
    assert name == expected
    assert "/" not in name and "\\" not in name and "<" not in name and '"' not in name


def test_store_writes_random_names_and_rows(db, deploy, tmp_path):
    deploy(SUPPORT)
    folder = tmp_path / "attachments"
    pdf, png = ALLOWED[0][1], ALLOWED[1][1]
    with db.tx() as session:
        instance = runtime.start_instance(session, "support_ticket", data={"subject": "dosya"}, actor="portal")
        rows = attachments.store(session, folder, instance.id, [Upload("fatura.pdf", pdf), Upload("ekran", png)],
                                 uploaded_by="ali@example.edu.tr")
        instance_id = instance.id
    assert [r.filename for r in rows] == ["fatura.pdf", "ekran.png"]
    with db.tx() as session:
        stored = session.scalars(select(Attachment).order_by(Attachment.id)).all()
        assert [(a.content_type, a.size, a.sha256) for a in stored] == [
            ("application/pdf", len(pdf), hashlib.sha256(pdf).hexdigest()),
            ("image/png", len(png), hashlib.sha256(png).hexdigest())]
        assert all(a.stored_name != a.filename and len(a.stored_name) == 32 for a in stored)
        row, path = attachments.path_of(folder, stored[0].id, session)
        assert path.read_bytes() == pdf and path.parent == folder
        assert [a.id for a in attachments.list_for(session, instance_id)] == [a.id for a in stored]
        with pytest.raises(ValidationError):   # the instance has 2; two more make 4
            attachments.store(session, folder, instance_id, [Upload("a.txt", b"a"), Upload("b.txt", b"b")])
        with pytest.raises(NotFoundError):
            attachments.path_of(folder, 9999, session)
    assert len(list(folder.iterdir())) == 2


def test_a_refused_file_stores_nothing(db, deploy, tmp_path):
    deploy(SUPPORT)
    folder = tmp_path / "attachments"
    with db.tx() as session:
        instance = runtime.start_instance(session, "support_ticket", data={"subject": "dosya"}, actor="portal")
        with pytest.raises(ValidationError):
            attachments.store(session, folder, instance.id, [Upload("ok.txt", b"ok"), Upload("x.svg", REFUSED[2][1])])
        assert session.scalars(select(Attachment)).all() == []
    assert not folder.exists() or not any(folder.iterdir())
