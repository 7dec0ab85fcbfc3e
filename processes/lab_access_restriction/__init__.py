"""lab_access_restriction: SEK 08-04-31 Bilgisayar Laboratuvarlarında Erişim Kısıtlama.

Seed 003 names the process only (network team). Turkish universities hold exams in their
computer labs (programming courses, the online exams of the distance education centres,
UZEM) and ask the IT department to cut the lab's internet access for the exam, leaving
only what the exam needs; the department's network group applies an access list (ACL) or
a firewall profile on the lab's VLAN before the exam and removes it afterwards.

Choices:

- The instructor asks from the portal (``portal=True`` in the catalog): course, lab, exam
  day, start and end time, and what stays reachable: nothing, listed sites (domain names,
  e.g. a language's documentation), or the university's exam system only.
- At least one working day's notice (``validate.py``): the network team needs it to decide
  and prepare the rule; a restriction lasts at most six hours (the longest exam session).
- The network team approves (it knows the labs' networks); the lab coordinators are
  university staff who ask through the same portal. A decision is due in a working day;
  when the apply time comes with no decision the request ends and the instructor and the
  network lead are told: a rule prepared in a hurry could cut an exam off.
- Applied before the exam: a task for the network team 30 minutes before the start (time
  to apply and try the rule from a lab computer), due at the start; the network lead is
  told at once if the exam starts with the task still open.
- Lifted at the end: a task at the end time, due an hour later.
- The instructor is told when it is approved or rejected, applied, and lifted; the
  tracking page shows each state.
"""
