"""network_planning: SEK 08-04-30 Ağ Hizmetleri Planlama ve Destek Altyapı Projelendirme (network team).

Sources and choices. Seed 003 gives the title only; the steps follow how a Turkish public
university's network team designs infrastructure for a unit:

- Intake: a unit (a faculty, the Yapı İşleri ve Teknik Daire Başkanlığı for a new building)
  asks by official letter (EBYS); the network team records it (staff start, no portal:
  ``portal=False``), with the letter's number, the project's kind and, for construction,
  the building work's schedule (cabling is laid before the walls are closed).
- Site survey (keşif), then the network design (topology, VLANs, cabling and wireless
  points, fibre route: the "proje" of the title), then the bill of materials and the
  approximate cost (yaklaşık maliyet, Kamu İhale Kanunu 4734 md. 9) with its funding
  (the department's budget, the construction tender, the unit's budget, a BAP or
  development-agency project).
- The Daire Başkanı approves (harcama yetkilisi's delegate, 5018 md. 31), sends the
  project back for revision with a note, or refuses with a reason for the unit; a
  reminder to the management group's lead after five working days.
- An approved project is handed over to SEK 08-04-01 (infrastructure setup), started as a
  linked child request (``start_request``) with the unit's contact as its requester and
  the project's name (``planned_project``), design, cost and hardware list, which skip
  08-04-01's own survey, design and approval; the requester is mailed the setup's tracking
  code. The date needed by is not passed on (08-04-01 refuses a past date, and a project
  may take longer than the unit hoped). Where 08-04-01 cannot be started, the team opens
  it by hand and records its tracking code.
- Due times: survey and design ten working days each (site visits follow the building
  works), cost five; an overdue survey is mailed to the group's lead (``lead:network``).
"""

# what staff read in the data panel beside the forms' fields (processes/data_panel.py)
STAFF_DATA = {"decision_note": "Daire Başkanının notu"}
