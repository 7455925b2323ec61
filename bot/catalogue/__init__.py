"""Reading library catalogue files (MARC 21, MARCXML, CSV; xz and gzip too) into BibRecords.

One module per concern: ``records`` (what reading gives, its errors and limits), ``files``
(opening, unpacking, telling the format), ``marc21``, ``marcxml`` and ``csv_rows`` (the
readers), ``fields`` (what is read from a MARC record), ``keys`` (the work key), ``text``
(clean-up), and ``reading`` (``read_records``, ``count_records``, ``detect_format``).
"""
