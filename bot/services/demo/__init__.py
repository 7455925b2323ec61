"""The demo alliance of Haibin (海滨市), a fictional coastal city, seeded from packaged data.

The data files live in the package ``bot.demo`` (read by ``data``):

* ``districts.csv`` and ``libraries.csv``: member data in the import format of
  ``bot.services.members`` (9 districts, from the dense harbour district to rural
  Taoyuan County and the fishing villages of Yuwan; 16 libraries of all four kinds).
* ``catalogue.csv``: real, well-known works in the catalogue CSV format of
  ``bot.catalogue``, about half Chinese. Chinese rows: ``original_title`` and
  ``original_authors`` in Chinese characters; ``title`` is the Hanyu Pinyin
  romanisation in Library of Congress style (syllables separated, proper names joined
  and capitalised), followed by a published or customary English title in brackets when
  one exists, e.g. ``Hong lou meng (Dream of the Red Chamber)``; ``authors`` are
  romanised "Surname, Given" (``Cao, Xueqin``). English-language rows (originals and
  English translations) have no original-script fields. ``year`` is the year of first
  publication, empty for ancient texts; ``isbn`` is the ISBN-13 of one real edition
  where one was found (English-language works: the edition in goodbooks-10k; Chinese
  works: the best-known mainland edition, e.g. 三体, 重庆出版社 2008, 9787536692930),
  empty otherwise; ``subjects`` come in English/Chinese pairs. Barcode, call number and
  copies are empty: copies are placed by ``holdings.demo_holdings``.
* ``events.json``: upcoming reading events, with day offsets from "today" and local
  times, at member libraries (by code) or at named places with coordinates.

Seeding (``seeding.seed_demo``) adds the four personas (``accounts``: a reader, an
organiser and a librarian of the central library, an admin), the catalogue and its copies
(``catalogue``), the events (``events``), readers in every district (``activity``) and who
follows which library (``follows``), so every persona's main job works at once.

``seed_demo`` and the data's public names are re-exported here for the callers (the demo
command, benchmarks) that use them.
"""

from bot.services.demo.accounts import DEMO_ACCOUNTS, DemoAccount
from bot.services.demo.data import (
    CENTRAL_LIBRARY,
    DemoDataError,
    demo_catalogue_path,
    demo_records,
)
from bot.services.demo.holdings import DemoHolding, demo_holdings
from bot.services.demo.seeding import seed_demo
from bot.services.demo.summary import DemoSummary

__all__ = [
    "CENTRAL_LIBRARY",
    "DEMO_ACCOUNTS",
    "DemoAccount",
    "DemoDataError",
    "DemoHolding",
    "DemoSummary",
    "demo_catalogue_path",
    "demo_holdings",
    "demo_records",
    "seed_demo",
]
