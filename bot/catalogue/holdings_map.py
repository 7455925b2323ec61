"""A library's own holdings field: which tag and subfields its CNMARC/UNIMARC export uses.

Written as the tag and then ``role=codes`` pairs, e.g. ``906 library=a barcode=f call=kd
status=s due=n``: ``library`` (its code), ``barcode``, ``call`` (the call number; several
codes are joined with "/" in that order), ``copies`` (how many, when there is no barcode),
``status`` (a word, as 905 $s) and ``due`` (the due date of a copy on loan). The mapped tag is
read this way instead of the standard reading of that tag; the other holdings fields (905,
906, 995) are read as usual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

__all__ = ["HoldingsMap", "HoldingsMapError"]

_TAG = re.compile(r"\d{3}")
_CODES = re.compile(r"[a-z0-9]{1,4}")
_SINGLE = ("library", "barcode", "copies", "status", "due")


class HoldingsMapError(ValueError):
    """The holdings mapping is not written as the module docstring says."""


@dataclass(frozen=True)
class HoldingsMap:
    """The tag of a library's holdings field and the subfield codes of each part."""

    tag: str
    library: str = ""
    barcode: str = ""
    call: str = ""
    copies: str = ""
    status: str = ""
    due: str = ""

    @classmethod
    def parse(cls, spec: str) -> HoldingsMap:
        """Read ``"906 library=a barcode=f call=kd"``; HoldingsMapError says what is wrong."""
        tag, *pairs = spec.split()
        if not _TAG.fullmatch(tag) or not "900" <= tag <= "999":
            raise HoldingsMapError(f"the holdings tag must be 900 to 999, not {tag!r}")
        roles = {field.name for field in fields(cls)} - {"tag"}
        found: dict[str, str] = {}
        for pair in pairs:
            role, _, codes = pair.partition("=")
            if role not in roles:
                known = ", ".join(sorted(roles))
                raise HoldingsMapError(f"unknown part {role!r} (known: {known})")
            if not _CODES.fullmatch(codes) or (role in _SINGLE and len(codes) != 1):
                raise HoldingsMapError(f"{role}= takes subfield codes, one letter or digit each")
            found[role] = codes
        if "barcode" not in found and "call" not in found:
            raise HoldingsMapError("name the barcode= or call= subfields at least")
        return cls(tag, **found)

    def spec(self) -> str:
        """The mapping written as ``parse`` reads it."""
        parts = [
            f"{field.name}={getattr(self, field.name)}"
            for field in fields(self)
            if field.name != "tag" and getattr(self, field.name)
        ]
        return " ".join([self.tag, *parts])
