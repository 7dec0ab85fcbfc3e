"""Safe XML parsing for uploaded BPMN and DMN files.

A diagram uploaded by a process owner must never be a way to read files, reach the
network or exhaust memory. So before lxml sees a single byte we refuse any DOCTYPE or
ENTITY declaration (XXE, billion laughs) and anything over :data:`MAX_XML_BYTES`;
then we parse with entity resolution, DTD loading and network access switched off,
and check once more that no document type slipped through.
"""

from __future__ import annotations

import re
from typing import NoReturn

from lxml import etree

from engine.errors import Problem, ValidationError

MAX_XML_BYTES = 5 * 1024 * 1024

_FORBIDDEN = (b"<!doctype", b"<!entity")
_UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}
_POSITION_SUFFIX = re.compile(r",\s*line \d+, column \d+\s*$")


def parse_xml(content: bytes, filename: str):
    """Parse untrusted XML and return its root element, refusing anything unsafe.

    :param content: the raw bytes of the file, as uploaded.
    :param filename: used as the location of the problem when the file is refused.
    :raises ValidationError: with one :class:`~engine.errors.Problem` at ``filename``
        when the file is too large, declares a DOCTYPE or entities, or is not
        well-formed XML.
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    if len(content) > MAX_XML_BYTES:
        _refuse(
            filename,
            f"file is too large ({len(content)} bytes; the limit is {MAX_XML_BYTES} bytes)",
        )
    if _declares_dtd(content):
        _refuse(filename, "DOCTYPE and ENTITY declarations are not allowed; the file was not parsed")

    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        message = _POSITION_SUFFIX.sub("", exc.msg or "syntax error")
        _refuse(filename, f"not well-formed XML: {message} (line {exc.lineno or 1})")
    except (ValueError, etree.LxmlError) as exc:
        _refuse(filename, f"not well-formed XML: {exc}")
    if root is None:
        _refuse(filename, "not well-formed XML: the document is empty")

    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        _refuse(filename, "DOCTYPE and ENTITY declarations are not allowed")
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        _refuse(filename, "entity references are not allowed")
    return root


def _declares_dtd(content: bytes) -> bool:
    """True when the raw bytes contain a DOCTYPE or ENTITY declaration.

    Dropping NUL bytes makes UTF-16 and UTF-32 text (with or without a byte order
    mark) comparable to ASCII; a UTF-16 file with a BOM is also decoded properly.
    """
    probes = [content.lower(), content.replace(b"\x00", b"").lower()]
    encoding = _UTF16_BOMS.get(content[:2])
    if encoding:
        text = content[2:].decode(encoding, errors="ignore").lower()
        probes.append(text.encode("utf-8", errors="ignore"))
    return any(marker in probe for probe in probes for marker in _FORBIDDEN)


def _refuse(filename: str, message: str) -> NoReturn:
    raise ValidationError(f"{filename}: {message}", [Problem(filename, message)])
