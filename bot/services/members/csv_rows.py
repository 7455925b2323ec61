"""Reading a member CSV: its columns, the rows of the table, each value checked, the report."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

CODE_MAX_LENGTH = 32
DISTRICT_COLUMNS = ("code", "name", "population", "lat", "lon")
DISTRICT_OPTIONAL_COLUMNS = ("name_en",)
LIBRARY_COLUMNS = (
    "code",
    "name",
    "kind",
    "district_code",
    "address",
    "lat",
    "lon",
    "opening_hours",
)
LIBRARY_OPTIONAL_COLUMNS = ("name_en", "address_en", "is_pickup_point")

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0"})

ParamValue = str | int | float
Entity = Literal["districts", "libraries"]


# --- the report ------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    """One bad line: where, why in English, and a stable code with parameters to translate."""

    line: int
    code: str
    reason: str
    params: dict[str, ParamValue] = field(default_factory=dict)


@dataclass
class MemberImportReport:
    """What an import did (counts) or, when ``problems`` is not empty, why it wrote nothing."""

    entity: Entity
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file was accepted (and written)."""
        return not self.problems

    @property
    def errors(self) -> list[tuple[int, str]]:
        """The problems as (line, reason) pairs, in file order."""
        return [(problem.line, problem.reason) for problem in self.problems]

    def conflict(self) -> None:
        """Another change to the same codes won: nothing was written."""
        self.created = self.updated = self.unchanged = 0
        self.problems.append(
            ImportProblem(
                0,
                "conflict",
                "another change to the same codes happened at the same time; import again",
            )
        )

    def describe(self) -> str:
        """A short English account for the CLI."""
        if self.problems:
            lines = [f"{self.entity}: {len(self.problems)} problem(s), nothing imported"]
            lines += [f"  line {line}: {reason}" for line, reason in self.errors]
            return "\n".join(lines)
        return (
            f"{self.entity}: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )


class Problems:
    def __init__(self) -> None:
        self.items: list[ImportProblem] = []

    def add(self, line: int, code: str, reason: str, **params: ParamValue) -> None:
        self.items.append(ImportProblem(line, code, reason, params))


# --- reading the table -----------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class Table:
    columns: frozenset[str]
    rows: list[Row]


def read_table(
    csv_text: str, required: Sequence[str], optional: Sequence[str], problems: Problems
) -> Table | None:
    """The rows of the CSV text, or None when the header makes the rows unreadable."""
    reader = csv.reader(io.StringIO(csv_text.removeprefix("\ufeff"), newline=""))
    known = (*required, *optional)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            problems.add(1, "empty_file", "the file is empty (no header row)")
            return None
        header_line = reader.line_num
        columns = [cell.strip().lower() for cell in header]
        unknown = [name for name in columns if name and name not in known]
        if unknown:
            problems.add(
                header_line,
                "unknown_columns",
                f"unknown column(s) {', '.join(unknown)}; known columns: {', '.join(known)}",
                columns=", ".join(unknown),
                known=", ".join(known),
            )
        repeated = sorted({name for name in columns if name and columns.count(name) > 1})
        if repeated:
            problems.add(
                header_line,
                "duplicate_columns",
                f"column(s) {', '.join(repeated)} appear more than once in the header",
                columns=", ".join(repeated),
            )
        missing = [name for name in required if name not in columns]
        if missing:
            problems.add(
                header_line,
                "missing_columns",
                f"missing column(s) {', '.join(missing)}; required: {', '.join(required)}",
                columns=", ".join(missing),
                required=", ".join(required),
            )
            return None
        rows: list[Row] = []
        last_line = header_line
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            extra = [cell for cell in cells[len(columns) :] if cell.strip()]
            unnamed = [
                cell
                for name, cell in zip(columns, cells, strict=False)
                if not name and cell.strip()
            ]
            if extra or unnamed:
                problems.add(
                    line,
                    "extra_values",
                    f"{len(cells)} values but the header names {sum(map(bool, columns))} columns",
                    found=len(cells),
                    expected=sum(map(bool, columns)),
                )
                continue
            values = {name: "" for name in columns if name}
            for name, cell in zip(columns, cells, strict=False):
                if name:
                    values[name] = cell.strip()
            rows.append(Row(line, values))
    except csv.Error as exc:
        problems.add(
            reader.line_num,
            "csv_error",
            f"the CSV cannot be parsed ({exc}); reading stopped",
            detail=str(exc),
        )
        return None
    return Table(frozenset(name for name in columns if name), rows)


# --- checking values -------------------------------------------------------------------


class RowChecker:
    """Checks the values of one row, recording a problem for each bad one."""

    def __init__(self, row: Row, problems: Problems) -> None:
        self.row = row
        self.problems = problems
        self.bad = False

    def problem(self, code: str, reason: str, **params: ParamValue) -> None:
        self.bad = True
        self.problems.add(self.row.line, code, reason, **params)

    def required(self, column: str) -> str | None:
        value = self.row.values.get(column, "")
        if not value:
            self.problem("missing_value", f"no value in column {column}", column=column)
            return None
        return value

    def text(self, column: str, limit: int, *, required: bool = True) -> str | None:
        value = self.required(column) if required else self.row.values.get(column, "")
        if value is not None and len(value) > limit:
            self.problem(
                "too_long",
                f"{column} is longer than {limit} characters",
                column=column,
                limit=limit,
            )
            return None
        return value

    def code(self, column: str = "code") -> str | None:
        value = self.required(column)
        if value is None:
            return None
        if len(value) > CODE_MAX_LENGTH:
            self.problem(
                "code_too_long",
                f"{column} {value!r} is longer than {CODE_MAX_LENGTH} characters",
                column=column,
                value=value,
                limit=CODE_MAX_LENGTH,
            )
            return None
        if not _CODE.fullmatch(value):
            self.problem(
                "bad_code",
                f"{column} {value!r} may only use letters, digits, '_', '.' and '-'",
                column=column,
                value=value,
            )
            return None
        return value

    def number(self, column: str) -> float | None:
        value = self.required(column)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self.problem(
                "bad_number", f"{column} {value!r} is not a number", column=column, value=value
            )
            return None
        return number

    def coordinate(self, column: str, limit: float) -> float | None:
        number = self.number(column)
        if number is not None and not -limit <= number <= limit:
            name = "latitude" if limit == 90 else "longitude"
            self.problem(
                f"{name}_out_of_range",
                f"{column} {number:g} is outside -{limit:g}..{limit:g}",
                column=column,
                value=number,
            )
            return None
        return number

    def population(self) -> int | None:
        value = self.required("population")
        if value is None:
            return None
        digits = value.replace("_", "")
        if not re.fullmatch(r"[+-]?\d+", digits):
            self.problem(
                "bad_number",
                f"population {value!r} is not a whole number",
                column="population",
                value=value,
            )
            return None
        if int(digits) < 0:
            self.problem(
                "negative_population",
                f"population {value} is negative",
                value=int(digits),
            )
            return None
        return int(digits)

    def boolean(self, column: str) -> bool | None:
        value = self.row.values.get(column, "").lower()
        if not value or value in _TRUE:
            return True
        if value in _FALSE:
            return False
        self.problem(
            "bad_boolean",
            f"{column} {value!r} is not yes or no",
            column=column,
            value=value,
        )
        return None


def check_duplicate(checker: RowChecker, code: str | None, seen: dict[str, int]) -> None:
    if code is None:
        return
    if code in seen:
        checker.problem(
            "duplicate_code",
            f"code {code!r} already appears on line {seen[code]}",
            value=code,
            first_line=seen[code],
        )
    else:
        seen[code] = checker.row.line
