"""Volunteers: ``shifts`` (organisers open roles and shifts; readers sign up or withdraw),
``attendance`` (check-in and check-out by the shift's QR codes), ``hours`` (hours served,
per reader and per institution, for /volunteer, certificates and CSV exports)."""
