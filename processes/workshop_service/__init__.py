"""workshop_service: SEK 08-04-07 Bilgi İşlem Atölye Hizmeti Sunum Süreci.

A unit's device is handed in to the IT workshop for repair, received, diagnosed,
repaired (paid parts need the unit head's approval), handed back and confirmed; a device
nobody collects is recorded as abandoned; one beyond repair goes to disposal.

Sources and choices (seed 003 gives only the title and the workshop team):

- **Taşınır Mal Yönetmeliği** (Resmî Gazete 18.01.2007/26407, as amended): a
  university's devices are taşınır (inventory) of the unit that holds them, each with its
  registration number on a label. So the request names the device by that number, the
  workshop checks the label when it receives the device, and the device stays the unit's
  property throughout: paid parts are the unit's expense, a device nobody collects is
  reported to the unit (its head and taşınır kayıt yetkilisi), and a device beyond repair
  is not thrown away by the workshop but proposed for disposal (kayıttan düşme: a
  commission and a "kayıttan düşme teklif ve onay tutanağı", the technical report
  attached), which is SEK 08-04-24 Hurdaya Çıkarma.
- **Paid parts**: the parts are bought from the unit's budget, so the unit's head (its
  harcama yetkilisi under Law 5018) approves them; the approval goes to the head group of
  the requester's unit (``candidateGroups="unithead:unit"``, as in vpn_request). A
  rejection returns the device unrepaired. Three working days, then one reminder.
- **Hand-over and confirmation**: the requester (or someone from the unit) collects the
  device and signs the hand-over record after checking it with the technician; the
  technician records who collected it and that the record was signed. That signature is
  the requester's confirmation (a device is confirmed where it is collected, not on a
  web page).
- **Waiting for pickup**: the hand-over task has a daily timer cycle (``R/P1D``) on its
  border; every third working day of waiting the requester is mailed a reminder
  (weekends and holidays do not count). After 30 calendar days the device is recorded as
  abandoned, the requester and the unit's head are mailed (operator ``mail_unit_head``).
- **The asset registry** (C5) follows the device: the request names it with the registry
  widget (``"ui:widget": "asset"``, computers, printers, lab seats, other; every door refuses
  an unknown number), and service tasks (``asset_update``) set its status: ``in_repair``
  when received, ``in_use`` when handed back (repaired or not: it is the unit's again),
  ``in_stock`` when abandoned (in the workshop's store until the unit's taşınır kayıt
  yetkilisi collects it), ``retired`` when beyond repair (disposal then makes it
  ``disposed``). Each change names the request that made it.
- **Beyond repair** starts SEK 08-04-24 as a linked request (C3 ``start_request``) with the
  device, the technical report and the requester as its requester; while disposal is not
  deployed (``started: false``) the workshop records the device for disposal by hand
  ("Hurdaya ayırma için kayıt").
- **Due times** (the seeds give none): receive within five working days, diagnose within
  three (then the workshop's lead is mailed, ``lead:workshop``, the group directory's lead), parts within ten, repair
  within three, disposal record within five.
- **Data**: the requester states that their data is backed up; a repair may wipe or
  replace a disk (KVKK: the workshop does not keep copies of a user's data).
"""

# what staff read in the data panel beside the forms' fields (processes/data_panel.py)
STAFF_DATA = {"pickup_since": "Teslime hazır olduğu gün"}
