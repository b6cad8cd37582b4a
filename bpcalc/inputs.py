"""Reading program text from the argument, a file, or standard input, bounded.

At most `max_bytes` (+1, to notice more) are ever read, so a huge file or
/dev/zero is refused quickly instead of filling memory. Text must be UTF-8;
an invalid byte is reported with its line and column. A byte-order mark at
the start of a file is skipped.
"""

from __future__ import annotations

import codecs
import sys
from pathlib import Path
from typing import BinaryIO

from .errors import BpcalcError, Source, Span, os_reason
from .i18n import _
from .limits import DEFAULT_LIMITS

DEFAULT_MAX_BYTES = DEFAULT_LIMITS.max_bytes


def _read_bounded(stream: BinaryIO, max_bytes: int) -> bytes:
    chunks = []
    remaining = max_bytes + 1
    while remaining > 0:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _decode(data: bytes, origin: str, skipped: int = 0) -> str:
    """`data` as text; `skipped` bytes before it (a BOM) count in the byte offset."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8")
        text = good + data[exc.start :].decode("utf-8", errors="replace")
        source = Source(text, origin)
        raise BpcalcError(
            "io", _("invalid UTF-8 (byte {byte} at byte offset {offset})").format(
                byte=f"0x{data[exc.start]:02x}", offset=skipped + exc.start),
            source, Span(len(good), len(good) + 1),
        ) from None


def _too_big(origin: str | None, max_bytes: int) -> BpcalcError:
    """`origin` None: the program given as an argument."""
    message = (_("the program is larger than {limit} bytes; raise the limit with {option}") if origin is None
               else _("{file} is larger than {limit} bytes; raise the limit with {option}"))
    return BpcalcError("limit", message.format(file=origin, limit=f"{max_bytes:,}", option="--max-bytes"))


def read_program(text: str | None, file: Path | None, max_bytes: int = DEFAULT_MAX_BYTES) -> Source:
    """The program as a Source: from `text` ('-' means stdin) or from `file`."""
    if text is not None and file is not None:
        raise BpcalcError("usage", _("give the program either as an argument or with -f FILE, not both"))
    if text is None and file is None:
        raise BpcalcError("usage", _("no program given: write it as an argument, use -f FILE, or '-' for stdin"))
    if file is not None:
        if str(file) == "-":
            return read_stream(sys.stdin.buffer, "<stdin>", max_bytes)
        try:
            with open(file, "rb") as f:
                return read_stream(f, str(file), max_bytes)
        except IsADirectoryError:
            raise BpcalcError("io", _("{file} is a directory, not a program file").format(file=file)) from None
        except OSError as exc:
            raise BpcalcError("io", _("cannot read {file}: {reason}").format(file=file, reason=os_reason(exc))) from None
    assert text is not None
    if text == "-":
        return read_stream(sys.stdin.buffer, "<stdin>", max_bytes)
    if len(text.encode("utf-8", errors="surrogatepass")) > max_bytes:
        raise _too_big(None, max_bytes)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        # invalid UTF-8 in argv arrives as lone surrogates (PEP 383)
        data = text.encode("utf-8", errors="surrogateescape")
        return Source(_decode(data, "<program>"))
    return Source(text)


def read_stream(stream: BinaryIO, origin: str, max_bytes: int) -> Source:
    """A file's or stdin's text. A byte-order mark at the very start (Windows
    Notepad and Excel write one) is skipped, as Python's own tools do; one
    anywhere else stays in the text, where the parser refuses it."""
    data = _read_bounded(stream, max_bytes)
    if len(data) > max_bytes:
        raise _too_big(origin, max_bytes)
    skipped = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    return Source(_decode(data[skipped:], origin, skipped), origin)
