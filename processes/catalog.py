"""The SEK process catalog (seed 003): an explicit list, not discovery by magic.

Only the processes that are executable so far are listed; the catalog issue adds
the rest of the 31 SEK 08-04-xx entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    sek_code: str
    title_tr: str
    title_en: str
    group: str
    bpmn_file: str
    portal: bool


CATALOG = (
    CatalogEntry("user_support", "SEK 08-04-27", "Kullanıcı Desteği Süreci", "User Support",
                 "systems", "user_support.bpmn", True),
)


def entry(key: str) -> CatalogEntry:
    for item in CATALOG:
        if item.key == key:
            return item
    raise LookupError(f"no catalog entry {key!r}")
