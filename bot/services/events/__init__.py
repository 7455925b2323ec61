"""Reading events: discovery, registration with a waitlist and timed offers, check-in, feedback.

Rules (after LibCal where the issue is silent):
* one registration per reader and event; confirmed while there is room, else waitlisted at
  the end of the list; registration opens when set (default: at once) and closes when set
  (default: at the start);
* a freed place (cancellation, declined or expired offer, capacity increase) goes to the
  first waitlisted reader: confirmed at once while the start is further away than
  ``waitlist_offer_within_hours``, else offered for ``waitlist_offer_hours`` (never past the
  start); a declined or expired offer leaves the waitlist and the place moves on;
* changes to places are made in a write unit with the event row locked (``FOR UPDATE`` on
  PostgreSQL, the write lock on SQLite), so concurrent registrations are exact.

Modules: ``discovery`` (lists, filters, the card), ``registration`` (places, the waitlist,
offers), ``checkin`` (check-in and feedback), ``drafts`` (what organisers type, checked),
``organising`` (publish, edit, reschedule, cancel), ``attendees`` (lists, CSV, messages),
``tick`` (reminders, expired offers, feedback prompts), ``calendar`` (.ics), ``notices``
(the typed notices events raise), ``records`` and ``times`` (shared queries and clocks).
"""
