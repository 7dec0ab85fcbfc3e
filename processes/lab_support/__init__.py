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
- **A faulty seat's inventory number** is picked from the asset registry (C5,
  ``"ui:widget": "asset"``, lab seats and computers); it is optional, since a coordinator may
  not have it at hand.
- **Pre-semester preparation** (C1 recurring starts): two timer start events, 25 January and
  1 September at 09:00 every year (``workingDay=next``), about three weeks before the
  spring and fall semesters' classes (a university's academic calendar puts them in
  mid-February and late September; the process owner moves the dates in the diagram).
  The start gives only a subject (nobody requests it, so no requester mails); the three
  teams get their checklist at once (parallel gateway): the lab staff update the images,
  the systems team renews the licences, the workshop checks every seat; ten working days,
  due at 17:00. Then the lab staff approve the preparation or write down the open issues.
  A start after downtime is one preparation (``missed_periods`` needs no handling).
"""
