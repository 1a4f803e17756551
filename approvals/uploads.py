"""Applicants' uploaded materials: checked by content, size-limited, virus-scanned, encrypted at rest.

``check_upload`` decides whether a file may be kept. Its type is judged by its
first bytes, never by its name or the browser's Content-Type, and only three
types are allowed: PDF, JPEG and PNG. Those are what scanners and phones make
of paper documents, and what every browser can show a clerk without a plug-in.
TIFF (not shown by browsers), OFD (a ZIP container that cannot be told from
any other ZIP without unpacking it) and office documents (macros, embedded
objects) are left out on purpose. Programs and scripts get a message of their
own. The file is then passed to the scanner named by ``UPLOAD_SCANNER``: clamd
when ``CLAMD_ADDRESS`` is set, which refuses what it cannot scan rather than
accept it unscanned; otherwise ``NoScanner``, which says in the log that
uploads are not virus-scanned.

``store`` encrypts a checked file with the keys of ``core.crypto``
(``FIELD_ENCRYPTION_KEY``: the first key encrypts, every key decrypts, so old
files stay readable after a rotation) and writes it under ``UPLOAD_ROOT``,
outside the web root: no web server serves it, and only views that check who
asks (the owner, the clerks of the departments handling the application) hand
it out, with the content type found here, ``X-Content-Type-Options: nosniff``
and ``Content-Disposition: attachment`` or ``inline`` for these types only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import socket
import struct
import tempfile
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import UploadedFile
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from core import crypto
from core.errors import DomainError

logger = logging.getLogger(__name__)

# kind → MIME type of what may be uploaded (see the module docstring for why only these).
ALLOWED_KINDS: dict[str, str] = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
_EXTENSIONS = {"pdf": "pdf", "jpeg": "jpg", "png": "png"}
_EXTENSION_OF_TYPE = {ALLOWED_KINDS[kind]: extension for kind, extension in _EXTENSIONS.items()}

# First bytes of programs and scripts: Windows (MZ), Linux (ELF), macOS (Mach-O, thin and fat), #! scripts.
_EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"\xca\xfe\xba\xbf",
    b"#!",
)
_PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_READ_CHUNK = 1024 * 1024
_MAX_NAME_LENGTH = 120
_STORAGE_KEY = re.compile(r"([0-9a-f]{2})/([0-9a-f]{32})")

DEFAULT_CLAMD_PORT = 3310


# --- Checking ---------------------------------------------------------------


@dataclass(frozen=True)
class CheckedUpload:
    """A file that may be kept: its bytes, what they are (by content), and the name it came with.

    ``extension`` has no dot and follows the content ("pdf", "jpg", "png");
    ``original_name`` is the uploader's name for it, reduced to a harmless label
    (no folders, no control or direction characters, at most 120 characters).
    """

    content: bytes = field(repr=False)  # up to UPLOAD_MAX_BYTES: never into a log line
    content_type: str
    extension: str
    size: int
    sha256: str
    original_name: str

    @property
    def download_name(self) -> str:
        return download_name(self.original_name, self.content_type)


def download_name(original_name: str, content_type: str) -> str:
    """The uploader's name with the extension of the checked content, so "photo.exe" or "poly.html" holding a PDF
    is offered as a PDF: a download is never named for a kind of file it is not."""
    extension = _EXTENSION_OF_TYPE.get(content_type, "bin")
    stem, dot, _suffix = original_name.rpartition(".")
    return f"{stem if dot and stem else original_name}.{extension}"


def sniff_kind(content: bytes) -> str | None:
    """The allowed kind (a key of ``ALLOWED_KINDS``) that ``content`` is, by its first bytes; None for any other."""
    if _PDF_HEADER.match(content):
        return "pdf"
    if content.startswith(_PNG_SIGNATURE) and content[12:16] == b"IHDR":
        return "png"
    # Start of image, then the first marker of the file (APPn, DQT, SOF …).
    if content.startswith(b"\xff\xd8\xff") and len(content) > 3 and 0xC0 <= content[3] <= 0xFE:
        return "jpeg"
    return None


def is_executable(content: bytes) -> bool:
    """Whether ``content`` starts like a program or a script."""
    return content.startswith(_EXECUTABLE_MAGIC)


def sanitise_name(name: str | None) -> str:
    """A name fit to show and to offer for download: the last path part, printable, at most 120 characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    # Category C holds control characters, and the direction overrides that show "a<U+202E>fdp.exe" as "aexe.pdf".
    name = "".join(character for character in name if not unicodedata.category(character).startswith("C"))
    name = name.strip().strip(".").strip()
    if not name:
        return "upload"
    if len(name) > _MAX_NAME_LENGTH:
        stem, dot, suffix = name.rpartition(".")
        if dot and stem and len(suffix) <= 16:
            name = f"{stem[: _MAX_NAME_LENGTH - len(suffix) - 1]}.{suffix}"
        else:
            name = name[:_MAX_NAME_LENGTH]
    return name


def _megabytes(size: int) -> str:
    megabytes = size / (1024 * 1024)
    if megabytes >= 1:
        return f"{megabytes:.1f}".removesuffix(".0")
    return f"{megabytes:.3g}"


def _too_large(allowed: dict[str, str]) -> DomainError:
    return DomainError(
        _("The file is larger than %(limit)s MB. Allowed: %(kinds)s files of at most %(limit)s MB.") % allowed,
        code="upload_too_large",
    )


def _read_at_most(stream: IO[bytes] | UploadedFile, limit: int) -> bytes:
    parts = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(remaining, _READ_CHUNK))
        if not chunk:
            break
        if not isinstance(chunk, bytes):
            raise TypeError("check_upload needs a file opened in binary mode")
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def check_upload(upload: UploadedFile | IO[bytes] | bytes, *, original_name: str | None = None) -> CheckedUpload:
    """The upload as a ``CheckedUpload``, or a ``DomainError`` saying why it cannot be kept and what can.

    Reads at most ``UPLOAD_MAX_BYTES`` + 1 bytes, so an oversized file is
    refused without being held in memory; writes nothing.
    """
    limit = settings.UPLOAD_MAX_BYTES
    allowed = {
        "kinds": ", ".join(kind.upper() for kind in ALLOWED_KINDS),
        "limit": _megabytes(limit),
    }
    if isinstance(upload, bytes | bytearray | memoryview):
        content = bytes(upload[: limit + 1])
        name = original_name
    else:
        name = original_name if original_name is not None else getattr(upload, "name", None)
        declared_size = getattr(upload, "size", None)
        if isinstance(declared_size, int) and declared_size > limit:
            raise _too_large(allowed)
        if isinstance(upload, UploadedFile):
            upload.seek(0)  # a form's validation may have read it already
        content = _read_at_most(upload, limit + 1)
    name = sanitise_name(str(name) if name is not None else None)

    if len(content) > limit:
        raise _too_large(allowed)
    if not content:
        raise DomainError(
            _("The file is empty. Allowed: %(kinds)s files of at most %(limit)s MB.") % allowed, code="upload_empty"
        )
    if is_executable(content):
        raise DomainError(
            _("Programs and scripts cannot be uploaded. Allowed: %(kinds)s files of at most %(limit)s MB.") % allowed,
            code="upload_executable",
        )
    kind = sniff_kind(content)
    if kind is None:
        raise DomainError(
            _(
                "This type of file cannot be uploaded; the type is judged by the file's content, not its name. "
                "Allowed: %(kinds)s files of at most %(limit)s MB."
            )
            % allowed,
            code="upload_type_not_allowed",
        )

    sha256 = hashlib.sha256(content).hexdigest()
    try:
        result = scanner().scan(content)
    except ScanUnavailable:
        logger.exception("Upload %s (%s) refused: the virus scanner could not be reached", sha256, name)
        raise DomainError(
            _("The file could not be checked for viruses just now, so it was not accepted. Please try again later."),
            code="upload_scan_failed",
        ) from None
    if not result.is_clean:
        logger.warning("Upload %s (%s) refused: the virus scanner found %s", sha256, name, result.signature)
        raise DomainError(
            _("The virus scanner found %(signature)s in the file, so it was not accepted.")
            % {"signature": result.signature},
            code="upload_infected",
        )
    return CheckedUpload(
        content=content,
        content_type=ALLOWED_KINDS[kind],
        extension=_EXTENSIONS[kind],
        size=len(content),
        sha256=sha256,
        original_name=name,
    )


# --- Virus scanning ---------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    """What a scanner said: clean, or the name of the signature it found."""

    is_clean: bool
    signature: str = ""


class ScanUnavailable(Exception):
    """The scanner could not give an answer (down, timed out, or answered with an error): nothing was scanned."""


class Scanner(Protocol):
    def scan(self, content: bytes) -> ScanResult:
        """Scan ``content``; raise ``ScanUnavailable`` when no verdict can be had."""


@lru_cache(maxsize=1)
def _warn_not_scanned() -> None:
    # Once per process, not once per upload: the first upload, or start-up if the app asks for scanner() then.
    logger.warning("Uploads are not virus-scanned: set CLAMD_ADDRESS to a clamd with signatures.")


class NoScanner:
    """Used when no clamd is configured: finds every file clean, and says once in the log that nothing is scanned."""

    def __init__(self) -> None:
        _warn_not_scanned()

    def scan(self, content: bytes) -> ScanResult:
        return ScanResult(is_clean=True)


def parse_clamd_address(address: str) -> tuple[socket.AddressFamily, str | tuple[str, int]]:
    """The socket family and address of ``unix:///path/to/clamd.ctl`` or ``tcp://host:3310``."""
    parts = urlsplit(address)
    if parts.scheme == "unix" and parts.path and not parts.netloc:
        return socket.AF_UNIX, parts.path
    if parts.scheme == "tcp" and parts.hostname and parts.path in ("", "/"):
        try:
            port = parts.port or DEFAULT_CLAMD_PORT
        except ValueError:
            port = 0
        if port:
            return socket.AF_INET, (parts.hostname, port)
    raise ImproperlyConfigured(
        f"CLAMD_ADDRESS must be unix:///path/to/clamd.ctl or tcp://host:{DEFAULT_CLAMD_PORT}, not {address!r}."
    )


class ClamdScanner:
    """ClamAV's daemon, spoken to with its INSTREAM command over a unix socket or TCP.

    The file goes in chunks, each after its length as 4 bytes big-endian, and a
    zero length ends it; clamd answers "stream: OK", "stream: <signature> FOUND"
    or "<reason> ERROR". clamd refuses streams over its StreamMaxLength (25 MB
    by default), so that must stay above UPLOAD_MAX_BYTES.
    """

    chunk_size = 64 * 1024

    def __init__(self, address: str | None = None, timeout: float | None = None) -> None:
        self.address = address if address is not None else settings.CLAMD_ADDRESS
        self.timeout = timeout if timeout is not None else settings.CLAMD_TIMEOUT
        self.family, self.socket_address = parse_clamd_address(self.address)

    def scan(self, content: bytes) -> ScanResult:
        try:
            reply = self._instream(content)
        except OSError as error:  # refused, reset, timed out, no such socket
            raise ScanUnavailable(f"clamd at {self.address}: {error}") from error
        if reply == "stream: OK":
            return ScanResult(is_clean=True)
        if reply.startswith("stream: ") and reply.endswith(" FOUND"):
            return ScanResult(is_clean=False, signature=reply.removeprefix("stream: ").removesuffix(" FOUND"))
        raise ScanUnavailable(f"clamd at {self.address} answered {reply!r}")

    def _connect(self) -> socket.socket:
        if self.family == socket.AF_UNIX:
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            connection.settimeout(self.timeout)
            try:
                connection.connect(self.socket_address)
            except OSError:
                connection.close()
                raise
            return connection
        assert isinstance(self.socket_address, tuple)
        return socket.create_connection(self.socket_address, timeout=self.timeout)

    def _instream(self, content: bytes) -> str:
        with self._connect() as connection:
            connection.sendall(b"zINSTREAM\0")
            for start in range(0, len(content), self.chunk_size):
                chunk = content[start : start + self.chunk_size]
                connection.sendall(struct.pack("!I", len(chunk)) + chunk)
            connection.sendall(struct.pack("!I", 0))
            reply = b""
            # A "z" command is answered with one reply ending in a NUL byte.
            while not reply.endswith(b"\0") and len(reply) < 4096:
                data = connection.recv(4096)
                if not data:
                    break
                reply += data
        return reply.rstrip(b"\0").decode("utf-8", "replace").strip()


def scanner() -> Scanner:
    """The scanner named by the ``UPLOAD_SCANNER`` setting (a dotted path to a class taking no arguments)."""
    scanner_class = import_string(settings.UPLOAD_SCANNER)
    instance: Scanner = scanner_class()
    return instance


# --- Storage ----------------------------------------------------------------


class InvalidStorageKey(ValueError):
    """A storage key that ``store`` cannot have made: refused before it comes near the file system."""


@lru_cache(maxsize=8)
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_bytes(content: bytes) -> bytes:
    """``content`` encrypted under the first key of ``FIELD_ENCRYPTION_KEY`` (a Fernet token)."""
    return _fernet(crypto.configured_keys()).encrypt(content)


def decrypt_bytes(token: bytes) -> bytes:
    """The content of a token made by ``encrypt_bytes`` under any configured key."""
    try:
        return _fernet(crypto.configured_keys()).decrypt(token)
    except InvalidToken as error:
        raise crypto.DecryptionError("the file cannot be decrypted with any configured key") from error


def _path(key: str) -> Path:
    match = _STORAGE_KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None or not match.group(2).startswith(match.group(1)):
        raise InvalidStorageKey(f"not an upload storage key: {key!r}")
    return Path(settings.UPLOAD_ROOT) / match.group(1) / match.group(2)


def store(content: bytes) -> str:
    """Encrypt ``content``, write it under ``UPLOAD_ROOT`` and return its storage key ("<2 hex>/<32 hex>").

    The file appears whole or not at all (written aside, then renamed), readable
    by the portal's user only.
    """
    name = secrets.token_hex(16)
    key = f"{name[:2]}/{name}"
    path = _path(key)
    root = Path(settings.UPLOAD_ROOT)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)  # an existing root keeps the mode its owner gave it
    path.parent.mkdir(mode=0o700, exist_ok=True)
    token = encrypt_bytes(content)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(token)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
    return key


def load(key: str) -> bytes:
    """The content stored under ``key``; ``InvalidStorageKey``, ``FileNotFoundError`` or ``DecryptionError``."""
    return decrypt_bytes(_path(key).read_bytes())


def delete(key: str) -> None:
    """Remove the file stored under ``key``; nothing happens when it is already gone."""
    _path(key).unlink(missing_ok=True)


def delete_all(keys: list[str]) -> None:
    """Delete several stored files (after the transaction that dropped their rows committed)."""
    for key in keys:
        delete(key)
