"""Catalogue search for readers, a module per step:

* ``query``: what a reader typed, made safe to search, and the filters;
* ``ranking``: asking the index for works in relevance order;
* ``origin`` and ``holdings``: distances, and result lines by work with the nearest copy;
* ``results``: a logged search and its pages (typed, by author, "did you mean", inline);
* ``search_log``: the log every search writes, which purchase suggestions start from;
* ``work_card``: a work with its holdings per library, nearest first;
* ``barcode``: an ISBN read from a photo of a barcode.

Import from the module that defines a name. The names below are re-exported because other
features (holds, purchase suggestions) used them from here before the split.
"""

from bot.services.search.origin import ReaderOrigin, reader_origin
from bot.services.search.query import clean_query
from bot.services.search.search_log import LoggedSearch, logged_search

__all__ = ["LoggedSearch", "ReaderOrigin", "clean_query", "logged_search", "reader_origin"]
