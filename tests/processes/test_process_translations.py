"""Every word a process shows has its English (issue 13, item 7).

The strings are what :mod:`processes.i18n_sources` extracts from the BPMN, DMN, forms
and Python of each executable process; their English is the process's
``translations/en.po``. A new Turkish text without English, or an English entry whose
Turkish no file shows any more, fails here with the file and the text:
``python -m processes.i18n_sources`` appends the missing entries (to be filled in),
``--prune`` removes the stale ones.
"""

from __future__ import annotations

import warnings

import pytest

from processes import i18n, i18n_sources

KEYS = [*i18n_sources.executable_keys(), None]


def test_the_eight_request_processes_are_checked():
    assert {"user_support", "vpn_request", "yurtnet_registration", "server_external_access",
            "software_request", "backup_restore", "message_routing", "call_record"} <= set(KEYS)


@pytest.mark.parametrize("key", KEYS, ids=[k or "shared" for k in KEYS])
def test_every_process_string_has_its_english(key):
    missing = i18n_sources.missing(key)
    where = i18n.catalog_path(key, "en").relative_to(i18n.HERE.parent)
    assert not missing, f"{len(missing)} text(s) without English in {where}:\n" + "\n".join(
        f"  {file}: {text!r}" for file, text in missing)
    # English for a text no file shows any more is harmless (a rename left it behind):
    # said as a warning, so that helpers changing texts in parallel merge without a red test.
    stale = i18n_sources.obsolete(key)
    if stale:
        warnings.warn(f"{where} translates {len(stale)} text(s) no process file shows any more "
                      f"(python -m processes.i18n_sources --prune): " + "; ".join(map(repr, stale)), stacklevel=1)


def test_python_declared_texts_are_found(tmp_path):
    """Form rules' messages, STAFF_DATA labels and *_TEXT constants are process content too."""
    sample = tmp_path / "validate.py"
    sample.write_text(
        'KEY = "vpn_request"\nSTAFF_DATA = {"a": "Talep sahibinin notu"}\nLINKED_TEXT = "Birleştirildi."\n'
        'def rule(data):\n    return [problem(KEY, "end_date", "Bitiş başlangıçtan sonra olmalı.")]\n'
        'def shown(key, locale):\n    return text(key, "Değişken anahtar", locale) + text(key, locale, "en")\n',
        encoding="utf-8")
    assert set(i18n_sources._module_texts(sample)) == {
        (None, "Talep sahibinin notu"), (None, "Birleştirildi."), ("vpn_request", "Bitiş başlangıçtan sonra olmalı."),
        (None, "Değişken anahtar")}


def test_markdown_and_placeholders_survive_translation():
    """Bold words of an instruction and ``{name}`` placeholders are kept in the English."""
    for key in KEYS:
        for source, english in i18n.catalog_entries(key, "en").items():
            assert source.count("**") == english.count("**"), (key, source)
            assert sorted(_placeholders(source)) == sorted(_placeholders(english)), (key, source)


def _placeholders(text: str) -> list[str]:
    import re
    return re.findall(r"\{\{?\s*[\w.]+\s*\}?\}|%\(\w+\)s", text)


def test_a_reader_in_english_gets_english_and_turkish_stays_turkish():
    assert i18n.text("vpn_request", "Birim amiri onayı", "en") == "Unit head approval"
    assert i18n.text("vpn_request", "Birim amiri onayı", "tr") == "Birim amiri onayı"
    # shared requester fields answer for every process
    assert i18n.text("vpn_request", "Konu", "en") == "Subject"
    assert i18n.text("not_a_process", "Bilinmeyen", "en") == "Bilinmeyen"


def test_the_readmes_catalog_command_runs_and_finds_nothing_to_add(tmp_path):
    """``python -m processes.i18n_sources`` as the README shows it: on a tree where every
    text has its English it appends nothing, for every process and the shared catalog."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(i18n.HERE).parent
    copy = tmp_path / "tree"   # a copy: the command writes to the catalogs it checks
    for folder in ("processes", "bpmn"):
        shutil.copytree(root / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "processes.i18n_sources"], cwd=copy, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(copy)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert {line.split()[0] for line in lines} == {k or "shared" for k in KEYS}
    assert all(line.endswith("added 0 removed 0") for line in lines), done.stdout
