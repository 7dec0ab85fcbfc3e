"""The data rule behind the masking: which "who" names a requester, and how contact values
read masked wherever they are in process or event data."""

from __future__ import annotations

import pytest

from engine.personal import mask_data, mask_who, requester_address


@pytest.mark.parametrize(("who", "address"), [
    ("requester:ayse@example.edu.tr", "ayse@example.edu.tr"),   # an audit actor, started_by, a reply's uploader
    ("ayse@example.edu.tr", "ayse@example.edu.tr"),             # a requester's message author, the portal's uploader
    ("requester:[redacted]", "[redacted]"),                      # after KVKK retention
    ("ag.uzman", None),                                          # staff
    ("Ayşe Kaya <bilgi@birim.example.edu.tr>", None),            # a unit's answer through a reply link
    ("portal", None),
    (None, None),
])
def test_who_names_a_requester(who, address):
    assert requester_address(who) == address


def test_a_requester_is_masked_unless_the_e_mail_is_shown_and_staff_never():
    assert mask_who("requester:gizli.kisi@example.org") == "requester:g***@example.org"
    assert mask_who("gizli.kisi@example.org") == "g***@example.org"
    assert mask_who("requester:gizli.kisi@example.org", clear={"email"}) == "requester:gizli.kisi@example.org"
    assert mask_who("requester:gizli.kisi@example.org", clear={"phone"}) == "requester:g***@example.org"
    assert mask_who("ag.uzman") == "ag.uzman" and mask_who(None) is None


def test_contact_values_are_masked_however_deep_and_nothing_else():
    data = {"requester": "Gizli Kişi", "requester_email": "gizli.kisi@example.org", "lead_email": "lider@example.edu.tr",
            "data": {"phone": "0532 987 65 43", "national_id": "12345678950", "list": [{"email": "x.y@example.org"}]}}
    assert mask_data(data) == {
        "requester": "Gizli Kişi", "requester_email": "g***@example.org", "lead_email": "lider@example.edu.tr",
        "data": {"phone": "0532 *** ** 43", "national_id": "123******50", "list": [{"email": "x***@example.org"}]}}
    shown = mask_data(data, clear={"email", "phone"})
    assert shown["requester_email"] == "gizli.kisi@example.org" and shown["data"]["phone"] == "0532 987 65 43"
    assert shown["data"]["national_id"] == "123******50"
    assert data["requester_email"] == "gizli.kisi@example.org"   # the caller's data is not changed
