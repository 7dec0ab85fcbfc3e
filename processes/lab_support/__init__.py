"""lab_support: SEK 08-04-08 Öğrenci Bilgisayar Laboratuvarları Destek Hizmetleri Sunum Süreci.

The student computer labs' coordinators ask for course software before the semester, a
faulty seat to be fixed, or a lab's image to be redeployed; each goes to the team that
does it, and the coordinator is told when it is done. Before every semester a
preparation round checks the labs.

Sources and choices (seed 003 gives only the title; the process is the general group's):

- **Who asks**: a lab coordinator (a lecturer or technician the faculty names for its
  labs), from the portal (``portal=True``) or through the help desk's staff start. One
  form, three kinds, each with its own section (JSON Schema ``if``/``then``).
- **Course software** is requested with its course code, version and licence, and the
  day it is needed; since it goes into the lab image and is tested there, at least ten
  working days ahead (``validate.py``; a university's lab calendar usually asks for a
  semester's software two to four weeks before classes). Licences are the systems team's
  (it runs licence servers and software procurement, SEK 08-04-15): a software without a
  licence is not installed (Fikir ve Sanat Eserleri Kanunu; the coordinator is told to
  procure one). Due on the last working day before the day needed, 17:00; the systems
  lead (``lead:systems``) is warned three working days before that if it is not done.
- **A faulty seat** goes to the workshop team (hardware), two working days, its lead told
  when they pass; the seat's inventory (taşınır) number is asked for when known.
- **An image redeploy** is done by the general group's lab staff, outside class hours:
  due at 17:00 on the working day before the day asked for (tomorrow at the earliest).
- **The coordinator confirms by silence**: the done mail says what was done; the request
  can be reopened from the tracking page for five working days (message ``reopen``, the
  same as user_support's), and goes back to the same team, due in two working days.
- **Pre-semester preparation** (a recurring start): a few weeks before the fall and
  spring semesters the labs are prepared: images updated, licences renewed, seats checked.
"""
