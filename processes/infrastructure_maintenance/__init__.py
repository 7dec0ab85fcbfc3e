"""infrastructure_maintenance: SEK 08-04-03 Bilgi İşlem Altyapısı Arıza ve Bakım Süreci.

Sources: seed 003 gives only the title and the owner (Genel Süreçler); the steps are what a
Turkish public university's Bilgi İşlem Daire Başkanlığı does with an infrastructure fault:

- *Who reports*: anyone from the portal (``portal=True``), staff from the process page,
  monitoring (SEK 08-04-26, message ``monitoring_alert``) and a failed continuity check
  (SEK 08-04-02, a linked request).
- *Triage by a table, not by a person*: ``bpmn/infrastructure_maintenance.triage.dmn``
  maps the kind of device to the team that owns it (network devices and cabling: network;
  servers and storage: systems; power and system-room cooling: general, the staff who
  also run the continuity checks; end-user devices: workshop) and the urgency to a time:
  critical 4 clock hours (a service is down; the 7/24 line works around the clock), high 1
  working day, normal 3, low 10, as ITIL-style priority matrices in university IT
  departments do. A team that finds the fault belongs elsewhere corrects its kind and the
  table triages it again.
- *Repair in-house or by the contractor*: devices under a maintenance or warranty contract
  (Kamu İhale Kanunu 4734 service contracts, manufacturers' warranties) are repaired by
  the contractor; the team records the contract number, the firm's ticket number and the
  time the firm promised, and a firm late on its promise is reported to the team's lead,
  because the contract's delay penalties need that date on record.
- *Asset registry*: the device is named by its taşınır (demirbaş) number (Taşınır Mal
  Yönetmeliği); its registry status follows the repair (in_repair, then in_use).
- *The reporter confirms*: like backup_restore (message ``repair_confirmed`` ``{ok, note}``
  from the portal); three working days without an answer count as a confirmation; a
  "not fixed" goes back to the team with a new due time. A fault without a reporter's
  address (monitoring) closes when repaired.
- *Escalation*: when the due time passes on the team's open step the team's lead is told
  (``lead:<team>``, the group directory); a critical fault also gets a task for the
  department management (Daire Başkanlığı).
"""

# what staff read in the data panel beside the forms' fields (processes/data_panel.py)
STAFF_DATA = {"requester_note": "Bildirenin notu"}
