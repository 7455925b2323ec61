"""Harvest: member catalogues kept in step over OAI-PMH.

A library is connected to its repository once (``sources.connect``: URL, metadata prefix,
optional set). Each harvest asks Identify for the repository's granularity and clock, then
ListRecords ``from`` the moment the last complete harvest began (everything with ``full``),
following resumption tokens page by page (``protocol``, on oaipmh-scythe, every answer
parsed strictly and safely). Records are read by the prefix's reader (``formats``: one small
table) and stored through the catalogue import (``bot.services.catalogue_import``), so the
same ISBN and work-key merge applies and the index catches up from the same changes.

Each page is one unit of work: its records, the copies that deleted or changed records no
longer bring (withdrawn through the holds rules: ``bot.services.holds.withdrawal``), what
each OAI identifier brought (``HarvestRecord``) and the resumption token for the next page.
A harvest that stops part way (unreachable, an HTTP or OAI error, bad or unsafe XML) keeps
the pages before it; the next one resumes from the stored token, or, when the repository
refuses it, starts again from the last complete harvest (re-storing a record changes
nothing). ``run`` is the loop; ``harvest_all`` is what the scheduled job runs.
"""
