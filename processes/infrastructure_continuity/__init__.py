"""infrastructure_continuity: SEK 08-04-02 Bilgi İşlem Altyapısı Sürekliliğinin Sağlanması Süreci.

Sources: seed 003 gives only the title and the owner (Genel Süreçler). The checks and their
rhythm are what a Turkish public university's IT department runs to stay up through an
outage, as the Cumhurbaşkanlığı Dijital Dönüşüm Ofisi's Bilgi ve İletişim Güvenliği
Rehberi (business continuity and backup measures) and TS EN ISO/IEC 27001 (A.5.30 ICT
readiness for business continuity, A.8.13 backups tested, A.8.14 redundancy) ask for:

- *UPS and generator test, monthly* (general): the UPS on battery with its autonomy measured,
  the generator under load, the automatic transfer switch both ways. Manufacturers and
  facility practice test generators under load monthly.
- *System-room cooling, monthly* (general): the units, the standby unit taking over, the
  temperature, humidity and leak alarms.
- *Redundant links, quarterly* (network): the ULAKBİM uplink's backup line and the campus
  core's redundancy, failed over on purpose in a maintenance window.
- *Restore drill, quarterly* (systems): a chosen system restored from backup and its data
  checked (a backup is only as good as its last restore).

Schedules are timer start events with a cycle (the first working day at or after the
date, 10:00): the first Monday-ish of the month for power, the second for cooling, the
middle of the quarter's first month for links and restore; a staff member may start any
check ad hoc (after a power cut, after maintenance). Each item's result and evidence
(what was measured) go in the form; a failed item needs what failed. A check is due in
5 working days, after which the lead of the group that runs it is told. Every failed
item opens a fault in SEK 08-04-03 (a linked request: kind, urgency high, the item, what
failed, the evidence and the device's inventory number), so the repair has an owner and
a due time of its own.
"""
