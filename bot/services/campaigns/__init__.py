"""Campaigns: a message pushed to a targeted audience, with a random holdout that measures it.

Life cycle (``lifecycle``): a campaign is created ``scheduled`` (or ``draft`` when the weekly
automation, ``automatic``, prepared it for an admin's approval). At launch (``sending``) its
recipients are fixed: every reader of the audience (``targeting``) who has not turned
campaigns off, and a random ``holdout_share`` of them is held out — stored with
``holdout = true`` and never messaged. The others get the message through the outbox as a
promotional notice (topic ``campaigns``: quiet hours, frequency cap and opt-outs apply) with
a deep-link button ``cmp_<id>`` (``links``). A weekly campaign sends a new wave to the same
treated recipients every seven days until it is cancelled.

Pausing skips the campaign's pending outbox rows (reason ``paused:``); resuming puts them
back in the queue; cancelling skips them for good (reason ``cancelled:``).

Measurement (``metrics``): *opened* counts treated recipients who opened the deep link. A
recipient *converted* when they placed a hold or registered for an event within
``conversion_days`` (14) of the campaign reaching them: from their first message's
``sent_at``, or, for the holdout and for treated readers whose message was never sent,
from the launch. Every treated recipient counts (intent to treat), so::

    uplift = converted_treated / treated - converted_holdout / held_out

in percentage points; it is unknown while either group is empty.

What campaigns tell readers and admins are typed intents (``notices``), rendered in each
reader's language by ``bot.notices.campaigns``.
"""
