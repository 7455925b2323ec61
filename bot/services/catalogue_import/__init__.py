"""Catalogue import: stream a library's MARC 21, MARCXML or CSV file into works and copies.

Records are read by ``bot.catalogue`` in a worker thread, ``BATCH_SIZE`` at a time (fewer when
records are large, so memory stays flat), and each batch is written in one unit of work with
a handful of bulk queries (no per-record round trips). A record that cannot be read is
skipped and reported with its number; the good records around it are kept.

Matching a record to a work, first rule that applies:

1. a copy of the record (an item barcode, given or generated) already belongs to the
   importing library: that copy's work (so a corrected title still updates its work);
2. one of its normalised ISBNs is a ``WorkIsbn`` (the merge key across libraries);
3. its ``work_key`` (folded title and first author) is an existing work's;
4. otherwise a new work.

Who describes a work: ``Work.fingerprint`` is ``"<library id>:<hash>"``, the hash of the
bibliographic fields of the record that wrote the work and the library it came from. A
record from that library (or for a work without such a fingerprint) is the work's
description: when its hash differs, its non-empty fields replace the work's (an update
never blanks a field) and the fingerprint follows. A record from another library, or a
second record of the same work in one import, only fills the fields the work leaves
empty. So re-importing a file changes nothing, and two libraries holding one book never
overwrite each other back and forth. ISBNs not yet claimed by another work are added to
the matched work; ISBNs are never taken from another work or removed.

Copies: each holding of the record (852, 949/952) becomes an item of the importing
library; a holding with a barcode keeps it, one without gets generated barcodes. A holding
whose library code names a *different* member library is skipped with a warning (a file
imported for one library never changes another library's holdings); other codes are read
as the importing library's own branches or locations. A record without holdings gets
``copies`` generated copies (``copies=0``: bibliographic data only). Generated barcodes are
``<library code>-<record key>-<n>``, the record key being its control number (else its
first ISBN, else a hash of its work key), so re-imports find the same copies. A barcode
that belongs to another library's copy is reported and skipped. Copies missing from a
later file are not deleted: an import adds and updates, it never withdraws.

Modules: ``run`` (the import loop and the index sync), ``planning`` (a record's values,
keys and copies), ``matching`` (records to works: the rules above), ``writing`` (one batch's
bulk writes), ``report`` (what an import did) and ``libraries`` (the importing library).
"""
