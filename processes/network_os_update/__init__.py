"""network_os_update: SEK 08-04-28 Ağ Cihazları OS Güncelleme.

Seed 003 names the process only (network team). An operating system (firmware) update of
network devices is a network change like SEK 08-04-29 and runs the same way (see
:mod:`processes.network_config_update` for the change management it follows: approval by
risk and impact with the shared ``bpmn/network_change.approval.dmn``, maintenance window,
backup, apply, verify, rollback, users told); this process adds what an update needs:

- the devices' model, current and target version, why (a vendor security advisory, a bug,
  a feature, the end of support), the vendor's release notes and the image's SHA-256
  checksum as the vendor publishes it, compared before installing (an image altered on its
  way is a known attack on network devices; the vendors' hardening guides and USOM's
  advisories ask for the check);
- the verification records the version the devices run afterwards, and each device's
  record in the asset registry gets it as a note (from and to which version), linked to
  the request (the registry has no version field: the note's history is the device's
  software history);
- the rollback is the previous image and the configuration backup.

The window rule and the forms after the start are shared with SEK 08-04-29
(``processes/network_change.py``, ``bpmn/network_change.*.json``).
"""
