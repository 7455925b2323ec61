"""Files Telegram keeps: what the bot uploads and users send, found by file_id or file_path."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from dataclasses import dataclass
from typing import NamedTuple

from aiogram import types

UPLOAD_LIMIT = 50 * 1024 * 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024


class UploadedFile(NamedTuple):
    """A file part of a multipart Bot API request."""

    filename: str
    content: bytes


@dataclass
class StoredFile:
    """A file Telegram keeps: uploaded by the bot or sent by a user."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def file_size(self) -> int:
        """Size in bytes."""
        return len(self.content)

    def document(self) -> types.Document:
        """The file as a message's document."""
        return types.Document(
            file_id=self.file_id,
            file_unique_id=self.file_unique_id,
            file_name=self.file_name,
            mime_type=self.mime_type,
            file_size=self.file_size,
        )

    def photo(self, size: tuple[int, int]) -> list[types.PhotoSize]:
        """The file as a message's photo (one size: the sandbox makes no thumbnails)."""
        return [
            types.PhotoSize(
                file_id=self.file_id,
                file_unique_id=self.file_unique_id,
                width=size[0],
                height=size[1],
                file_size=self.file_size,
            )
        ]


class FileStore:
    """Every stored file, by file_id and by the file_path getFile gives."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = itertools.count(1)

    def store(
        self, content: bytes, folder: str, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        """Keep a file under "documents" or "photos" with fresh ids."""
        number = next(self._counter)
        extension = ""
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        elif folder == "photos":
            extension = {"image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}.get(
                mime_type or "", ".jpg"
            )
        stored = StoredFile(
            file_id=f"SBX{folder[0].upper()}{number}_{secrets.token_urlsafe(24)}",
            file_unique_id="AQAD" + hashlib.sha256(content).hexdigest()[:16],
            file_path=f"{folder}/file_{number}{extension}",
            content=content,
            file_name=file_name,
            mime_type=mime_type,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def by_id(self, file_id: str) -> StoredFile | None:
        """A stored file by file_id."""
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        """A stored file by file_path."""
        return self._by_path.get(file_path)
