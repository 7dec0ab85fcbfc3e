"""A question CAPTCHA asked on the server: small arithmetic in words ("yedi artı dört kaç eder?").

The page carries the question and a token; the token is signed and expires, and holds
only a random nonce and an HMAC of the nonce with the answer, keyed by the app's
secret. Neither the page nor the token tells the answer; checking it needs the secret.
A token is good for one try: its nonce is counted with :mod:`engine.throttle` when the
form comes back, right or wrong, so a guessed-at token cannot be tried again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from engine import throttle

SALT = "sek.portal.captcha"
MAX_AGE = timedelta(hours=1)
WORDS = {
    "tr": ("sıfır", "bir", "iki", "üç", "dört", "beş", "altı", "yedi", "sekiz", "dokuz", "on",
           "on bir", "on iki", "on üç", "on dört", "on beş", "on altı", "on yedi", "on sekiz"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
           "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen"),
}
OPERATORS = {"tr": {"+": "artı", "-": "eksi"}, "en": {"+": "plus", "-": "minus"}}

# Why a captcha answer was refused (the form words it).
MISSING, WRONG, EXPIRED, USED = "missing", "wrong", "expired", "used"


@dataclass(frozen=True)
class Challenge:
    question: str
    token: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _digest(nonce: str, answer: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{SALT}\n{nonce}\n{answer}".encode(), hashlib.sha256).hexdigest()


def new_challenge(locale: str) -> Challenge:
    """A fresh question in ``locale`` (tr or en) and its token."""
    words = WORDS.get(locale, WORDS["tr"])
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    op = "+" if secrets.randbelow(2) else "-"
    if op == "-" and a < b:
        a, b = b, a
    answer = a + b if op == "+" else a - b
    said = f"{words[a]} {OPERATORS.get(locale, OPERATORS['tr'])[op]} {words[b]}"
    question = f"What is {said}?" if locale == "en" else f"{said} kaç eder?"
    nonce = secrets.token_hex(12)
    return Challenge(question, _serializer().dumps({"n": nonce, "h": _digest(nonce, answer)}))


def parse_answer(text: str | None) -> int | None:
    """The number a person typed, as digits or in words of either language ("11", "on bir", "eleven")."""
    text = _fold(text or "")
    if text.isascii() and text.lstrip("-").isdigit():
        return int(text)
    for words in WORDS.values():
        spelled = [_fold(word) for word in words]
        if text in spelled:
            return spelled.index(text)
    return None


def _fold(text: str) -> str:
    """Lower case without spaces, dotted and dotless i alike ("ON ALTI", "on altı", "onaltı")."""
    text = text.replace("İ", "i").replace("I", "i").lower().replace("ı", "i").replace("i\u0307", "i")
    return "".join(text.split())


def _nonce_key(nonce: str) -> str:
    return throttle.key("captcha", "nonce", nonce)


def check(session: Session, token: str | None, answer: str | None) -> tuple[str | None, str | None]:
    """Check an answer without spending the token.

    :returns: ``(problem, nonce)``: the problem is None when the answer is right; the
        nonce is that of a genuine token (to :func:`spend`), else None
    """
    try:
        payload = _serializer().loads(token or "", max_age=int(MAX_AGE.total_seconds()))
        nonce, digest = str(payload["n"]), str(payload["h"])
    except (BadSignature, KeyError, TypeError):
        return (EXPIRED if token else MISSING), None
    if throttle.count(session, _nonce_key(nonce), throttle.KEEP) > 0:
        return USED, nonce
    number = parse_answer(answer)
    if not (answer or "").strip():
        return MISSING, nonce
    if number is None or not hmac.compare_digest(_digest(nonce, number), digest):
        return WRONG, nonce
    return None, nonce


def spend(session: Session, nonce: str | None) -> None:
    """Mark a token used, in the caller's transaction: a token is good for one try."""
    if nonce:
        throttle.record(session, [_nonce_key(nonce)])
