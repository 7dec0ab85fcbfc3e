"""The project forms' date rules: the date needed by is not past, a survey is not dated ahead."""

from __future__ import annotations

from ..rules import date_not_ahead, date_not_past

KEY = "network_planning"

RULES = {
    "start": [date_not_past(KEY, "desired_date", "Bu tarih geçmiş bir gün olamaz.")],
    "survey": [date_not_ahead(KEY, "survey_date",
                              "Keşif tarihi ileride olamaz: keşif yapıldıktan sonra yazılır.")],
}
