"""Mail templates: plain-text files ``templates/<name>.<lang>.txt`` rendered with Jinja.

A template's first line is ``Subject: ...``; the rest is the body. Mails are
text/plain, so nothing is HTML-escaped; the texts a person typed go in as they are.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("tr", "en")
DEFAULT_LANGUAGE = "tr"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
                              undefined=jinja2.Undefined)


def language_of(locale: str | None) -> str:
    """``tr`` or ``en`` for a stored locale (``en_US`` -> ``en``); Turkish when unknown."""
    lang = (locale or "").strip().lower()[:2]
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def template_names() -> list[str]:
    """Every template name (without language), sorted."""
    return sorted({p.name.split(".")[0] for p in TEMPLATES.glob("*.txt") if not p.name.startswith("_")})


def render(template: str, language: str, /, **context) -> tuple[str, str]:
    """Subject and body of ``template`` in ``language`` (Turkish if that file is missing).

    :raises jinja2.TemplateNotFound: no such template at all
    """
    language = language_of(language)
    env = _environment()
    try:
        loaded = env.get_template(f"{template}.{language}.txt")
    except jinja2.TemplateNotFound:
        loaded = env.get_template(f"{template}.{DEFAULT_LANGUAGE}.txt")
    text = loaded.render(lang=language, **context).strip("\n")
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"mail template {template}.{language}.txt must start with 'Subject: '")
    subject = " ".join(first.removeprefix("Subject:").split())
    return subject, body.strip("\n") + "\n"
