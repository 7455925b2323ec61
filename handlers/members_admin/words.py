"""The member console's words: why a value or a CSV line was refused, kinds, yes and no."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from bot.models import LibraryKind
from bot.services.member_admin import MemberInputError
from bot.services.members import ImportProblem


def _param(value: object) -> str:
    return escape(f"{value:g}" if isinstance(value, float) else str(value))


def opening_hours_detail(params: dict[str, str]) -> str:
    """Where opening hours went wrong, in the admin's language (escaped params in)."""
    reasons = {
        "unknown_day": _("“{rule}”: “{part}” is not a day (use Mo Tu We Th Fr Sa Su)"),
        "not_a_time": _("“{rule}”: {part} is not a time of day"),
        "not_a_span": _("“{rule}”: “{part}” is not HH:MM-HH:MM"),
        "closes_before_opens": _("“{rule}”: {part} closes before it opens"),
        "overlap": _("“{rule}”: the opening times overlap"),
        "empty_rule": _("“{rule}”: an empty rule between semicolons"),
        "no_days": _("“{rule}”: first the days, then the hours"),
        "never_open": _("“{rule}”: no day is open"),
    }
    reason = reasons.get(params.get("fault", ""))
    if reason is None:
        return params.get("detail", "")
    return reason.format(rule=params.get("rule", ""), part=params.get("part", ""))


def input_refusal(error: MemberInputError) -> str:
    """Why a wizard value was refused."""
    params = {key: _param(value) for key, value in error.params.items()}
    if error.code == "bad_opening_hours":
        params["detail"] = opening_hours_detail(params)
    reasons = {
        "code_too_long": _("A code has at most {limit} characters."),
        "bad_code": _(
            "A code uses only letters, digits, “_”, “.” and “-”, and starts with a letter "
            "or digit, e.g. HD-01."
        ),
        "duplicate_code": _("The code {value} is taken already: choose another one."),
        "empty": _("Please send some text."),
        "too_long": _("That is too long: at most {limit} characters."),
        "bad_population": _("The population is a whole number, e.g. 350000."),
        "population_too_large": _("That is more people than any district has: at most {limit}."),
        "negative_population": _("The population cannot be negative."),
        "bad_coordinates": _(
            "Send the coordinates as “latitude, longitude” in decimal degrees, "
            "e.g. 39.9042, 116.4074."
        ),
        "latitude_out_of_range": _("The latitude {value} is outside -90..90."),
        "longitude_out_of_range": _("The longitude {value} is outside -180..180."),
        "unknown_kind": _(
            "Choose the kind with the buttons: university, public, school or partner."
        ),
        "unknown_district": _("There is no district with the code {value}."),
        "bad_opening_hours": _(
            "I can't read these opening hours ({detail}). Example: Tu-Su 09:00-21:00; Mo off"
        ),
    }
    return reasons.get(error.code, _("That value is not valid.")).format(**params)


def problem_text(problem: ImportProblem) -> str:
    """One refused line of a CSV file, translated."""
    params = {key: _param(value) for key, value in problem.params.items()}
    if problem.code == "bad_opening_hours":
        params["detail"] = opening_hours_detail(params)
    reasons = {
        "empty_file": _("the file is empty (no header row)"),
        "unknown_columns": _("unknown column(s) {columns}; known columns: {known}"),
        "duplicate_columns": _("column(s) {columns} appear more than once in the header"),
        "missing_columns": _("missing column(s) {columns}; required: {required}"),
        "extra_values": _("{found} values but the header names {expected} columns"),
        "csv_error": _("the CSV cannot be read ({detail}); reading stopped"),
        "missing_value": _("no value in column {column}"),
        "too_long": _("{column} is longer than {limit} characters"),
        "code_too_long": _("{column} “{value}” is longer than {limit} characters"),
        "bad_code": _("{column} “{value}” may only use letters, digits, “_”, “.” and “-”"),
        "bad_number": _("{column} “{value}” is not a number"),
        "latitude_out_of_range": _("{column} {value} is outside -90..90"),
        "longitude_out_of_range": _("{column} {value} is outside -180..180"),
        "negative_population": _("population {value} is negative"),
        "bad_boolean": _("{column} “{value}” is not yes or no"),
        "duplicate_code": _("code “{value}” already appears on line {first_line}"),
        "unknown_kind": _("kind “{value}” is not one of {known}"),
        "unknown_district": _("district_code “{value}” is not a known district; known: {known}"),
        "bad_opening_hours": _("opening_hours “{value}” cannot be read ({detail})"),
        "conflict": _("another change to the same codes happened at the same time; import again"),
    }
    try:
        reason = reasons[problem.code].format(**params)
    except KeyError:
        reason = escape(problem.reason)
    if problem.line <= 0:
        return reason
    return _("Line {line}: {reason}").format(line=problem.line, reason=reason)


def kind_name(kind: LibraryKind) -> str:
    """A library kind in words."""
    names = {
        LibraryKind.UNIVERSITY: _("university"),
        LibraryKind.PUBLIC: _("public"),
        LibraryKind.SCHOOL: _("school"),
        LibraryKind.PARTNER: _("partner"),
    }
    return names[kind]


def yes_no(value: bool) -> str:
    return _("yes") if value else _("no")
