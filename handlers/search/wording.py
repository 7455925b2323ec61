"""How works, libraries, copies and availability read in the reader's language."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from bot.i18n import N_
from bot.models import ItemStatus, LibraryKind
from bot.services.search.holdings import LibraryPlace, WorkFacts, WorkSummary
from bot.services.search.origin import OriginKind, ReaderOrigin
from handlers.common import distance_text

LIBRARY_NAME_CHARS = 60
TITLE_CHARS = 100


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _has_original(work: WorkFacts) -> bool:
    return bool(work.original_title) and (work.original_title or "").strip() != work.title.strip()


def title_plain(work: WorkFacts, limit: int = TITLE_CHARS) -> str:
    """Original-script title with the romanised one, as plain text."""
    if _has_original(work):
        return clip(f"{work.original_title} · {work.title}", limit)
    return clip(work.title, limit)


def title_html(work: WorkFacts) -> str:
    """Original-script title in bold with the romanised one beside it."""
    if _has_original(work):
        return (
            f"<b>{escape(clip(work.original_title or '', TITLE_CHARS))}</b> · "
            f"{escape(clip(work.title, TITLE_CHARS))}"
        )
    return f"<b>{escape(clip(work.title, TITLE_CHARS))}</b>"


def authors_plain(work: WorkFacts) -> str:
    """The first author or two, in the original script with the romanised name."""
    names = list(work.original_authors or work.authors)
    if not names:
        return ""
    first = names[0]
    if work.original_authors and work.authors and work.authors[0] != first:
        first = f"{first} ({work.authors[0]})"
    text = ", ".join([first, *names[1:2]]) + (", …" if len(names) > 2 else "")
    return clip(text, TITLE_CHARS)


def byline(work: WorkFacts) -> str:
    """Author · year, as plain text."""
    parts = [authors_plain(work), str(work.year) if work.year else ""]
    return " · ".join(part for part in parts if part)


def library_name(place: LibraryPlace, language: str) -> str:
    """A library's name in the reader's language (plain text)."""
    if language == "en" and place.name_en:
        return clip(place.name_en, LIBRARY_NAME_CHARS)
    return clip(place.name, LIBRARY_NAME_CHARS)


def kind_label(kind: LibraryKind) -> str:
    """A kind of library in words."""
    labels = {
        LibraryKind.UNIVERSITY: _("university library"),
        LibraryKind.PUBLIC: _("public library"),
        LibraryKind.SCHOOL: _("school library"),
        LibraryKind.PARTNER: _("partner venue"),
    }
    return labels[kind]


def status_label(status: ItemStatus) -> str:
    """A copy's status in words."""
    labels = {
        ItemStatus.AVAILABLE: _("available"),
        ItemStatus.ON_LOAN: _("on loan"),
        ItemStatus.HELD: _("held for a reader"),
        ItemStatus.IN_TRANSIT: _("in transit"),
        ItemStatus.MISSING: _("missing"),
        ItemStatus.NOT_FOR_LOAN: _("for use in the library only"),
    }
    return labels[status]


def availability_plain(summary: WorkSummary, language: str) -> str:
    """Where copies are on the shelf, the nearest first (plain text)."""
    if summary.copies == 0:
        return _("No library in the alliance has a copy yet")
    nearest = summary.nearest_available
    if nearest is None:
        if summary.copies == 1:
            return _("The only copy is out at the moment")
        return _("All {count} copies are out at the moment").format(count=summary.copies)
    name = library_name(nearest, language)
    if summary.available_libraries == 1:
        if nearest.distance_km is None:
            return _("On the shelf at {library}").format(library=name)
        return _("On the shelf at 1 library — {distance}, {library}").format(
            distance=distance_text(nearest.distance_km), library=name
        )
    if nearest.distance_km is None:
        return _("On the shelf at {count} libraries, including {library}").format(
            count=summary.available_libraries, library=name
        )
    return _("On the shelf at {count} libraries — nearest {distance}, {library}").format(
        count=summary.available_libraries,
        distance=distance_text(nearest.distance_km),
        library=name,
    )


def availability_icon(summary: WorkSummary) -> str:
    """✅ on the shelf somewhere, ⏳ all copies out, ▫️ no copies."""
    if summary.available_libraries:
        return "✅"
    return "⏳" if summary.copies else "▫️"


def origin_note(origin: ReaderOrigin, language: str) -> str:
    """Where distances are measured from."""
    if origin.kind is OriginKind.LOCATION:
        return _("Distances are from the location you shared.")
    if origin.kind is OriginKind.DISTRICT:
        district = (origin.district_name_en if language == "en" else None) or origin.district_name
        return _(
            "Distances are from the centre of {district}; share your location in /settings "
            "for better ones."
        ).format(district=escape(district or ""))
    return _("Share your location or choose your district in /settings to see distances.")


def not_ready_text() -> str:
    """The index is being (re)built."""
    return _("The catalogue is being prepared. Please try again in a minute.")


def gone_text() -> str:
    """The work a button or link names is not in the catalogue any more."""
    return _("Sorry, that book is not in the catalogue any more.")


def expired_text() -> str:
    """The search a button names is not the reader's, or not logged any more."""
    return _("This search has expired. Please type it again.")


# MARC language codes (bibliographic) of the languages a union catalogue meets most.
_LANGUAGE_NAMES = {
    "chi": N_("Chinese"),
    "eng": N_("English"),
    "jpn": N_("Japanese"),
    "kor": N_("Korean"),
    "fre": N_("French"),
    "ger": N_("German"),
    "rus": N_("Russian"),
    "spa": N_("Spanish"),
    "ita": N_("Italian"),
    "lat": N_("Latin"),
}


def language_label(code: str | None) -> str:
    """A work's language as the reader reads it ("Chinese"), else its MARC code ("swe")."""
    if not code:
        return ""
    name = _LANGUAGE_NAMES.get(code)
    return _(name) if name else code
