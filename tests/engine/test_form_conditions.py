"""Conditional task forms: a choice decides which fields are required and which are kept."""

from __future__ import annotations

import pytest

from engine import form_conditions, forms
from engine.errors import ValidationError

# the three ways JSON Schema says "only in this case", in one form each
ONE_OF = {
    "type": "object",
    "required": ["action"],
    "properties": {"action": {"type": "string", "title": "İşlem"}, "note": {"type": "string"}},
    "oneOf": [
        {"title": "Yanıtla", "properties": {"action": {"const": "answer"},
                                            "answer": {"type": "string", "minLength": 1}},
         "required": ["answer"]},
        {"title": "Yönlendir", "properties": {"action": {"const": "route"},
                                              "unit": {"type": "string"},
                                              "unit_email": {"type": "string", "format": "email"}},
         "required": ["unit", "unit_email"]},
    ],
}
IF_THEN = {
    "type": "object",
    "required": ["registered"],
    "properties": {
        "registered": {"type": "boolean", "oneOf": [{"const": True}, {"const": False}]},
        "ip": {"type": "string", "maxLength": 15},
        "reason": {"type": "string"},
    },
    "if": {"properties": {"registered": {"const": False}}, "required": ["registered"]},
    "then": {"required": ["reason"]},
    "else": {"required": ["ip"]},
}
DEPENDENT = {
    "type": "object",
    "properties": {"notify": {"type": "boolean"}, "notify_email": {"type": "string", "format": "email"}},
    "dependentRequired": {"notify": ["notify_email"]},
}


def _problems(schema, data):
    with pytest.raises(ValidationError) as caught:
        forms.prepare(schema, data)
    return {(p.location, p.code) for p in caught.value.problems}


def test_one_of_branches_keep_only_the_chosen_branch():
    data = {"action": "answer", "answer": "Yapıldı", "unit": "Öğrenci İşleri", "unit_email": "bozuk", "note": "n"}
    assert forms.prepare(ONE_OF, data) == {"action": "answer", "answer": "Yapıldı", "note": "n"}
    # the chosen branch's missing field is named, the other branch's are not asked for
    assert _problems(ONE_OF, {"action": "route", "unit": "Öğrenci İşleri", "answer": "x"}) == {
        ("unit_email", "required")}
    assert _problems(ONE_OF, {"action": "route", "unit": "ÖİDB", "unit_email": "no"}) == {("unit_email", "format")}
    assert _problems(ONE_OF, {}) == {("action", "required")}
    assert _problems(ONE_OF, {"action": "dance"}) == {("action", "enum")}


def test_if_then_else_decides_by_the_choice_and_an_empty_choice_brings_in_nothing():
    assert forms.prepare(IF_THEN, {"registered": True, "ip": "10.0.0.1", "reason": "x"}) == {
        "registered": True, "ip": "10.0.0.1"}
    assert forms.prepare(IF_THEN, {"registered": False, "ip": "çok uzun bir ip notu yazdım", "reason": "x"}) == {
        "registered": False, "reason": "x"}
    assert _problems(IF_THEN, {"registered": False, "ip": "10.0.0.1"}) == {("reason", "required")}
    assert _problems(IF_THEN, {"registered": True}) == {("ip", "required")}
    # "else" does not apply while nothing is chosen: only the choice itself is missing
    assert _problems(IF_THEN, {"reason": "x"}) == {("registered", "required")}


def test_dependent_required_asks_for_the_field_once_its_trigger_is_filled_in():
    assert _problems(DEPENDENT, {"notify": True}) == {("notify_email", "required")}
    assert forms.prepare(DEPENDENT, {"notify": False, "notify_email": "x"}) == {"notify": False}
    assert forms.prepare(DEPENDENT, {"notify": True, "notify_email": "a@b.edu.tr"}) == {
        "notify": True, "notify_email": "a@b.edu.tr"}


def test_a_field_decided_by_a_hidden_field_is_hidden_too():
    nested = {
        "type": "object",
        "properties": {"kind": {"enum": ["a", "b"]}, "sub": {"enum": ["x", "y"]}, "detail": {"type": "string"}},
        "allOf": [
            {"if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["sub"]}},
            {"if": {"properties": {"sub": {"const": "x"}}}, "then": {"required": ["detail"]}},
        ],
    }
    assert form_conditions.conditional_fields(nested) == {"sub", "detail"}
    assert forms.prepare(nested, {"kind": "b", "sub": "x", "detail": "d"}) == {"kind": "b"}
    assert _problems(nested, {"kind": "a", "sub": "x"}) == {("detail", "required")}


def test_values_typed_before_any_choice_are_still_checked_but_not_required():
    # the CLI and the API name every field at fault, even before the choice is made
    assert _problems(IF_THEN, {"ip": "bu bir ip notu değil, çok uzun"}) == {
        ("registered", "required"), ("ip", "maxLength")}
