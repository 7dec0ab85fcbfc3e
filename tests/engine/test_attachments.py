"""Attachments are judged by their bytes, not their names; refused files store nothing;
accepted ones land on disk under random names with their metadata in the database."""

from __future__ import annotations

import hashlib
import io
import struct
import tracemalloc
import zipfile
import zlib
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


# -- archives: judged by their central directory, never inflated -----------------------------------

GIB = 1024 * MB


def _raw_zip(*members: tuple[str, bytes, int, int, int], zip64: bool = False) -> bytes:
    """A ZIP written byte by byte, so that what its directory declares is up to the test.

    :param members: ``(name, packed bytes, method, crc, declared unpacked size)``; a
        repeated ``packed`` object is written once, every entry pointing at it
    """
    body, directory, offsets = b"", b"", {}
    for name, packed, method, crc, size in members:
        raw = name.encode()
        if id(packed) not in offsets:
            offsets[id(packed)] = len(body)
            body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, len(packed), size,
                                len(raw), 0) + raw + packed
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc, len(packed), size,
                                 len(raw), 0, 0, 0, 0, 0, offsets[id(packed)]) + raw
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(body) + len(directory), 1) if zip64 else b""
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(body), 0)
    return body + directory + locator + end


def zip_bomb(gib: int = 1, name: str = "mimetype") -> bytes:
    """The probe's bomb: about 1 MB whose one member really inflates to ``gib`` GiB of zeros
    (a deflate block of 1 MiB of zeros, flushed so that copies of it chain)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    mib = b"\0" * MB
    block = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(gib * 1024):
        crc = zlib.crc32(mib, crc)
    return _raw_zip((name, block * (gib * 1024) + compressor.flush(), zipfile.ZIP_DEFLATED, crc, gib * GIB))


def _lying(content: bytes, **declared: int) -> bytes:
    """``content`` with its (only) central directory entry declaring other sizes."""
    start = content.rindex(b"PK\x01\x02")
    fields = {"compress_size": 20, "file_size": 24}
    for field, value in declared.items():
        content = content[:start + fields[field]] + struct.pack("<L", value) + content[start + fields[field] + 4:]
    return content


def _refusal(content: bytes, name: str = "arsiv.zip") -> tuple[str, dict]:
    with pytest.raises(ValidationError) as refused:
        check_uploads([Upload(name, content)])
    [problem] = refused.value.problems
    return problem.code, problem.params


def _peak(work) -> int:
    """The most memory Python held at once while ``work()`` ran, in bytes."""
    tracemalloc.start()
    try:
        result = work()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def test_the_probes_zip_bomb_is_refused_by_its_directory_in_bounded_memory():
    bomb = zip_bomb()
    assert len(bomb) < 1.1 * MB
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:   # a real archive: it does inflate to 1 GiB
        assert archive.getinfo("mimetype").file_size == GIB
        assert archive.open("mimetype").read(MB) == b"\0" * MB
    peak, found = _peak(lambda: detect_type(bomb))
    assert peak < 2 * MB, f"{peak / MB:.1f} MB held while judging a 1 MB file"
    assert found is None
    code, params = _refusal(bomb)
    assert (code, params["limit"]) == ("archive_size", attachments.ZIP_MAX_INFLATED // MB)


def test_a_member_packed_like_a_bomb_is_refused_even_when_small_in_total():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notlar.txt", "kısa not")
        archive.writestr("bos.bin", b"\0" * (2 * MB))        # 2 MB in about 2 KB
    code, params = _refusal(buffer.getvalue())
    assert (code, params["limit"]) == ("archive_ratio", attachments.ZIP_MAX_RATIO)


def test_an_archive_of_too_many_files_is_refused_before_its_directory_is_read():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for n in range(attachments.ZIP_MAX_MEMBERS + 1):
            archive.writestr(f"{n}.txt", b"")
    content = buffer.getvalue()
    assert _refusal(content) == ("archive_members", {"name": "arsiv.zip", "limit": attachments.ZIP_MAX_MEMBERS})
    # an end record that undercounts does not help: the entries themselves are counted
    end = content.rindex(b"PK\x05\x06")
    undercounted = content[:end + 8] + struct.pack("<2H", 3, 3) + content[end + 12:]
    assert _refusal(undercounted)[0] == "archive_members"


def test_a_directory_that_lies_about_sizes_is_refused_or_costs_nothing():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", b"\0" * (4 * MB))
    honest = buffer.getvalue()
    assert _refusal(honest)[0] == "archive_ratio"
    # claims 100 bytes: more packed than unpacked, which no compression does
    assert _refusal(_lying(honest, file_size=100))[0] == "archive_broken"
    # entries sharing one packed stream (an overlapping bomb) claim more than the file holds
    packed = b"\x01" * (MB // 2)
    crc = zlib.crc32(packed)
    shared = _raw_zip(*((f"kopya{n}.bin", packed, zipfile.ZIP_STORED, crc, len(packed)) for n in range(3)))
    assert _refusal(shared)[0] == "archive_broken"
    # a stored member whose sizes differ, and a ZIP64 end record that could say otherwise
    assert _refusal(_raw_zip(("a.txt", b"abc", zipfile.ZIP_STORED, zlib.crc32(b"abc"), 900)))[0] == "archive_broken"
    assert _refusal(_raw_zip(("a.txt", b"a", zipfile.ZIP_STORED, zlib.crc32(b"a"), 1), zip64=True))[0] \
        == "archive_broken"
    # a bomb that claims to unpack to just what it packs to passes the limits, but nothing
    # inflates it here: judging it costs the same as any 1 MB file
    liar = _lying(zip_bomb(), file_size=1_100_000)
    peak, found = _peak(lambda: detect_type(liar))
    assert found == ("application/zip", "zip") and peak < 2 * MB


def test_archives_inside_archives_are_not_opened():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("ic.zip", zip_bomb())
    outer = buffer.getvalue()
    peak, found = _peak(lambda: detect_type(outer))
    assert found == ("application/zip", "zip") and peak < 2 * MB
    assert len(check_uploads([Upload("dis.zip", outer)])) == 1


def test_documents_and_folders_of_ordinary_size_are_still_accepted():
    rows = "\n".join(f"{n};Öğrenci {n};{n * 7919 % 10007};İstanbul" for n in range(60_000)).encode()
    folder = _zip({"liste.csv": rows, "notlar/oku.txt": "Merhaba", "ek/tablo.xlsx": xlsx()})
    big_docx = _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:p>metin</w:p>" * 50_000,
                     "word/media/image1.png": ALLOWED[1][1]})
    assert len(rows) > MB   # large enough for the ratio limit to look at it
    accepted = check_uploads([Upload("liste.zip", folder), Upload("rapor.docx", big_docx), Upload("yazi.odt", odt())])
    assert [found[1:] for found in accepted] == [
        ("application/zip", "zip"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
        ("application/vnd.oasis.opendocument.text", "odt")]
