"""infrastructure_setup: SEK 08-04-01 Bilgi İşlem Altyapı Kurulum Süreci (general processes).

Sources and choices. Seed 003 gives the title only; the steps follow how a Turkish public
university's Bilgi İşlem Daire Başkanlığı sets up infrastructure, and the rules it works under:

- The need (a new building or block, a computer lab, new network points, a server room)
  comes from a unit through the portal (``portal=True``), from staff, or from SEK 08-04-30
  (network planning), which hands over a project already surveyed, designed, costed and
  approved (``planned_project``): that request skips straight to the purchase.
- Site survey (keşif) before design: cabling, cabinets, power and earthing, cooling and
  cable trays decide what can be built; an impossible setup ends with the reason mailed.
- Design and cost (yaklaşık maliyet, as Kamu İhale Kanunu 4734 md. 9 requires before a
  purchase), then the Daire Başkanı's approval as the spending authority's delegate
  (harcama yetkilisi, 5018 sayılı Kanun md. 31): approve, send back for revision with a
  note, or refuse with a reason for the requester. A reminder to the management group's
  lead after three working days.
- Hardware is bought through SEK 08-04-16 (Donanım Alım), started as a linked child
  request with the hardware list (``start_request``); the setup waits for its
  ``linked_request_done`` and installs once it completed. Until 08-04-16 runs
  (``started: false``), or when the purchase was cancelled, the team follows the purchase
  as a task of its own and records the Taşınır İşlem Fişi.
- Installation (ten working days, then the team's lead is told), then an acceptance test
  with the requesting unit's representative (cable certification, port/VLAN, wireless
  coverage); a failed test goes to "fix the defects" and is tested again.
- The installed items go into the asset registry (Taşınır Mal Yönetmeliği: every item
  under its taşınır number) once the acceptance test passes: the installation form lists
  one number a line (with the serial after ";"), one kind and model for the lot
  (validate.py checks the lines as the registry takes numbers); a loop calls
  ``asset_register`` for each, in use, at the request's site and room, owned by the
  requesting unit. A number already in the registry fails that step (the request goes to
  error, visible to admins): the form cannot look the registry up, and registering an
  item twice must not pass silently.
- The requester is told at each end: infeasible, refused, installed.
"""

# what staff read in the data panel beside the forms' fields (processes/data_panel.py)
STAFF_DATA = {"decision_note": "Daire Başkanının notu", "planned_project": "Projelendirilen proje (08-04-30)",
              "defects": "Kabul testindeki eksikler"}
