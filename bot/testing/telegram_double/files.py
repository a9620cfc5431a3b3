"""Uploaded files: storing them, describing them, handing them back."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import Any

from bot.testing.telegram_double.errors import TelegramApiError, bad_request
from bot.testing.telegram_double.model import MAX_UPLOAD_BYTES, FakeFile, UploadedFile
from bot.testing.telegram_double.params import photo_size
from bot.testing.telegram_double.updates import UpdateQueue


class Files(UpdateQueue):
    """Files users and the bot upload, by ``file_id`` and by ``file_path``."""

    def _store_file(
        self, content: bytes, *, kind: str, file_name: str | None, mime_type: str | None
    ) -> FakeFile:
        self._file_counter += 1
        n = self._file_counter
        if kind == "photo":
            width, height = photo_size(content)
            stored = FakeFile(
                file_id=f"AgACAgIAAxkBAAI{n:06d}photo",
                file_unique_id=f"AQAD{n:06d}",
                content=bytes(content),
                kind=kind,
                file_path=f"photos/file_{n}.jpg",
                mime_type=mime_type,
                width=width,
                height=height,
            )
        else:
            suffix = ""
            if file_name and "." in file_name:
                suffix = "." + file_name.rsplit(".", 1)[1]
            stored = FakeFile(
                file_id=f"BQACAgIAAxkBAAI{n:06d}doc",
                file_unique_id=f"AgAD{n:06d}",
                content=bytes(content),
                kind=kind,
                file_path=f"documents/file_{n}{suffix}",
                file_name=file_name,
                mime_type=mime_type
                or (mimetypes.guess_type(file_name or "")[0] if file_name else None)
                or "application/octet-stream",
            )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _file_api(stored: FakeFile) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if stored.kind == "photo":
            data["width"] = stored.width
            data["height"] = stored.height
        else:
            if stored.file_name:
                data["file_name"] = stored.file_name
            if stored.mime_type:
                data["mime_type"] = stored.mime_type
        return data

    def _input_file(
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile], name: str
    ) -> FakeFile:
        upload = files.get(name)
        value = params.get(name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        if upload is not None:
            file_name, content, mime_type = upload
            if not content:
                raise bad_request("Bad Request: file must be non-empty")
            if len(content) > MAX_UPLOAD_BYTES:
                raise TelegramApiError(413, "Request Entity Too Large")
            return self._store_file(
                content, kind=name, file_name=file_name or None, mime_type=mime_type
            )
        if isinstance(value, str) and value:
            existing = self._files.get(value)
            if existing is not None:
                return existing
            if value.startswith(("http://", "https://")):
                raise bad_request("Bad Request: failed to get HTTP URL content")
            raise bad_request("Bad Request: wrong file identifier/HTTP URL specified")
        raise bad_request(f"Bad Request: there is no {name} in the request")

    def download(self, file_path: str) -> bytes | None:
        """Content for a ``/file/bot<token>/<file_path>`` download, or None."""
        stored = self._files_by_path.get(file_path)
        return stored.content if stored else None

    def file(self, file_id: str) -> FakeFile | None:
        """A stored file by id."""
        return self._files.get(file_id)
