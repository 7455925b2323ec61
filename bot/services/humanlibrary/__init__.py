"""The human library: living books at events, conversation slots readers book, waitlists.

Modules: ``shelves`` (adding living books, what readers browse, a living book's schedule),
``booking`` (taking and giving back slots, the waitlist), ``feedback`` (ratings after a
conversation), ``notices`` (what they tell readers and living books), ``errors``.
"""
