"""Member data: districts and libraries imported from CSV (and exported back).

CSV import
==========
``import_districts`` reads the columns ``code,name,population,lat,lon`` and optionally
``name_en``; ``import_libraries`` reads ``code,name,kind,district_code,address,lat,lon,
opening_hours`` and optionally ``name_en,address_en,is_pickup_point``. Columns may come in any
order; header names are matched case-insensitively. The text may start with a UTF-8 BOM
and use CRLF line endings; blank lines are skipped; surrounding spaces are trimmed.

* ``code``: 1-32 characters from ``A-Z a-z 0-9 _ . -``, starting with a letter or digit;
  the key of the import (a row whose code exists updates that row, others create one).
* ``population``: a whole number >= 0; ``lat`` -90..90 and ``lon`` -180..180 in decimal
  degrees; ``kind``: university, public, school or partner; ``district_code``: the code
  of a district already in the database; ``opening_hours``: the format below (empty
  means "not published"); ``is_pickup_point``: yes/no, true/false, 1/0 (empty: yes).
* An optional column left out of the file leaves that field of existing rows alone (a
  new row gets no English name or address and is a pickup point); present but empty, it
  clears it.

The import is all or nothing: every row is checked first, and if any row (or the header)
is bad nothing is written and the report lists every problem with its line number, an
English reason for the CLI, and a stable ``code`` with ``params`` for translation.

Opening hours follow the grammar of ``bot.services.opening_hours`` (its names are
re-exported here for the callers that read them from this module).

``export_districts`` and ``export_libraries`` write the same columns, so an exported file
imports back unchanged.
"""

from __future__ import annotations

from bot.services.members.csv_export import export_districts, export_libraries
from bot.services.members.csv_import import committed_import, import_districts, import_libraries
from bot.services.members.csv_rows import (
    CODE_MAX_LENGTH,
    DISTRICT_COLUMNS,
    DISTRICT_OPTIONAL_COLUMNS,
    LIBRARY_COLUMNS,
    LIBRARY_OPTIONAL_COLUMNS,
    Entity,
    ImportProblem,
    MemberImportReport,
)
from bot.services.opening_hours import (
    OpeningHoursError,
    describe_opening_hours,
    is_open_on,
    parse_opening_hours,
)

__all__ = [
    "CODE_MAX_LENGTH",
    "DISTRICT_COLUMNS",
    "DISTRICT_OPTIONAL_COLUMNS",
    "LIBRARY_COLUMNS",
    "LIBRARY_OPTIONAL_COLUMNS",
    "Entity",
    "ImportProblem",
    "MemberImportReport",
    "OpeningHoursError",
    "committed_import",
    "describe_opening_hours",
    "export_districts",
    "export_libraries",
    "import_districts",
    "import_libraries",
    "is_open_on",
    "parse_opening_hours",
]
