"""software_maintenance: SEK 08-04-06 Yazılım Bakım Süreci (software team).

Sources and choices. Seed 003 gives the title only; the steps are those of a university's
in-house software team and of the common maintenance practice it follows:

- ISO/IEC/IEEE 14764 (software maintenance): a modification request is identified and
  classified (corrective: a bug; adaptive/perfective: a change), analysed, implemented,
  accepted by its requester and released. Here: triage, priority, fix, the requester's
  acceptance test, release.
- The university's own in-house applications (the start form lists those a Turkish
  university's Bilgi İşlem typically builds: OBS, the staff system, the web sites' CMS,
  the dining-hall/card system, surveys); a bought product's fault is a user-support
  request (08-04-27), a new feature worth a project is a software request (08-04-04):
  triage refuses both with that advice rather than silently converting them.
- The requester reports from the portal (``portal=True``): which application, a bug (what
  happens, the steps, what was expected) or a change (what and why: e.g. a regulation),
  who is affected, any deadline tied to the academic calendar; screenshots are the
  portal's attachments. A deadline in the past is refused (validate.py).
- Priority is the group lead's call (ITIL-style impact x urgency, in four levels); it sets
  the fix's due time: critical 1, high 3, normal 10, low 20 working days. An overdue
  triage (1 working day) or fix is mailed to the group's lead (``lead:software``, the
  group directory), the task staying with the team.
- The acceptance test is the requester's, on the test system: the tracking page's
  confirmation sends message ``acceptance_confirmed`` {ok, note}; not ok goes back to the
  fix with the note; five working days of silence count as acceptance (as in
  backup_restore), and the release mail says so.
"""

# what staff read in the data panel beside the forms' fields (processes/data_panel.py)
STAFF_DATA = {"acceptance_note": "Talep sahibinin kabul notu"}
