"""network_config_update: SEK 08-04-29 Ağ Cihazları Yapılandırma Güncelleme.

Seed 003 names the process only (network team). The design follows how a Turkish public
university's Bilgi İşlem Daire Başkanlığı runs changes on its campus network, in the
spirit of ITIL change management (and of ISO/IEC 27001 A.8.32 "change management", which
the universities' information security policies under the Cumhurbaşkanlığı Bilgi ve
İletişim Güvenliği Rehberi follow): every change is planned with its devices, risk,
impact, maintenance window and rollback plan, approved at a level that fits its risk,
done in the announced window after a configuration backup, verified, and rolled back
when verification fails.

Choices:

- The change owner is a network engineer who starts the change from the staff start page;
  they are the "requester" and get the requester mails (scheduled, rejected, done, failed).
- Devices are named by their taşınır (demirbaş) numbers (Taşınır Mal Yönetmeliği) from the
  asset registry, several devices a change: the field searches the registry and every door
  refuses a number that is not a registered network device. When the change is verified
  each device's record gets a note of it (``asset_update``, one device after the other), so
  the device's history links to the request; a change rolled back leaves no note.
- Approval by ``bpmn/network_change.approval.dmn`` (shared with SEK 08-04-28): standard
  changes (low risk, not campus-wide) by the network group in one working day; normal
  changes (medium risk, or low risk campus-wide) by the network group's change review in
  two; major changes (high risk, or medium risk campus-wide) by the department management
  (Daire Başkanlığı) in three, since a campus-wide interruption is announced in the
  department's name. A university IT department has no separate change advisory board: the
  group's lead (şube müdürü) chairs the review. The approver group's lead is reminded when
  the approval is late.
- The window (Istanbul time) must start in the future, end after it starts and last at most
  twelve hours (``processes/network_change.py``); an approval that comes after the window's
  start sends the change back for a new window.
- The help desk is always told before and after the window (it takes the calls); the owner
  may add staff groups (``group:<slug>``) and the affected units' addresses.
- The backup's location (and checksum) is the evidence the rollback relies on; backup,
  apply, verify and rollback are due by the window's end, the network lead is told when the
  window ends with the change not applied, and at once when a rollback does not restore
  the devices.
- The steps after the start share their forms with SEK 08-04-28
  (``bpmn/network_change.*.json``).
"""
