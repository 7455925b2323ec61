"""Notices: what services say happened, and how each notice reads.

Services build typed intents (``bot.notices.intents``: a kind, the reader, the ids it is
about, a dedup key and the data to show) and queue them with ``outbox.enqueue_notices``;
they take no translator and pack no buttons. The delivery worker renders each one in the
reader's language when it sends it (``bot.notices.render``), with buttons packed from the
real ``CallbackData`` classes of the feature modules beside this one.
"""
