"""Holds: a reader's requests for works, their place in the queue, and what staff do to copies.

The rules follow Evergreen and Koha: title-level holds; at most ``max_active_holds`` active
holds per reader and one per work; a new hold takes an available copy at the pickup library
first, else the nearest available copy elsewhere (the hold goes ``in_transit``), else it
queues first come, first served. A copy checked in, released or expired goes to the oldest
queued hold that is not suspended (preferring readers whose pickup library is where the copy
is, when ``hold_prefer_local_pickup`` says so). Ready holds wait ``hold_shelf_days`` opening
days of the pickup library.

Concurrency: every unit of work that changes holds is an ``async with write(session):``
block, and inside it every change to the holds of a work first locks that work's row
(``FOR UPDATE`` on PostgreSQL; on SQLite the write block holds the database's write lock
from its start), so two readers racing for the last copy are served one after the other;
the partial unique indexes on ``holds`` are the last line: no copy is ever assigned to two
active holds.

The modules, by what they do:

- ``placing``: pickup choices for a work and placing a hold;
- ``queue``: queue positions and which copy goes to which hold (assignment, release);
- ``reader_actions``: what a reader does to their own holds (cancel, pass on, extend...);
- ``desk``: what librarians do at the desk (check in, arrived, collected, missing, pull list);
- ``shelf``: the periodic tick (expire, remind, warn, reactivate);
- ``watching``: "tell me when it arrives" for works without copies;
- ``notices``: the notice intents holds raise (rendered in ``bot.notices.holds``);
- ``rules``: rules that need no database (opening days, shelf deadlines, estimates);
- ``access``: finding and locking holds, works and copies; ``refusals``: the domain errors.
"""
