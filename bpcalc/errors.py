"""One error type for everything a user can get wrong.

A `BpcalcError` carries a kind (which maps to an exit code), a message, and,
where known, the source it points into and the span inside that source. Its
`render()` is the one-line message plus the offending line with a caret under
the place, which is what the CLI prints on stderr.
"""

from __future__ import annotations

import bisect
import errno
from dataclasses import dataclass, field

from .i18n import N_, _

#: Exit codes of the command line (see README "Exit codes").
EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

#: Error kinds. Every kind is a user error and exits with EXIT_USAGE.
KINDS = frozenset(
    {"parse", "name", "arity", "value", "domain", "usage", "limit", "io", "shape"}
)


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open character range [start, end) in a `Source` text."""

    start: int
    end: int


@dataclass(frozen=True)
class Source:
    """A program text and where it came from (argument, file name, --at)."""

    text: str
    origin: str = "<program>"
    _line_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        object.__setattr__(self, "_line_starts", tuple(starts))

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def line_text(self, line: int) -> str:
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    def snippet(self, span: Span) -> str:
        return self.text[span.start : span.end]


_MAX_SHOWN_LINE = 120


def caret_lines(source: Source, span: Span) -> list[str]:
    """The source line holding `span.start` and a caret line under the span."""
    line, col = source.line_col(span.start)
    text = source.line_text(line)
    end_line, end_col = source.line_col(max(span.start, span.end - 1))
    width = max(1, (end_col - col + 1) if end_line == line else len(text) - col + 1)
    # Keep very long lines readable: show a window around the caret.
    shift = 0
    if len(text) > _MAX_SHOWN_LINE:
        shift = max(0, min(col - 1 - _MAX_SHOWN_LINE // 2, len(text) - _MAX_SHOWN_LINE))
        text = ("…" if shift else "") + text[shift : shift + _MAX_SHOWN_LINE] + (
            "…" if shift + _MAX_SHOWN_LINE < len(text) else ""
        )
        col = col - shift + (1 if shift else 0)
        width = min(width, _MAX_SHOWN_LINE)
    visible = "".join(ch if ch.isprintable() else "?" for ch in text)
    # A wide character (损失, ｘ) takes two columns: so do the spaces under it.
    pad = "".join("\t" if ch == "\t" else " " * _cells(ch) for ch in visible[: col - 1])
    under = visible[col - 1 : col - 1 + width]
    carets = sum(_cells(ch) for ch in under) + max(0, width - len(under))
    return [f"  {visible}", f"  {pad}{'^' * carets}"]


def _cells(ch: str) -> int:
    """Columns a character takes on a terminal (1 for ASCII, fast)."""
    if ch.isascii():
        return 1
    from rich.cells import cell_len

    return max(1, cell_len(ch))


class BpcalcError(Exception):
    """A user error: bad input, bad usage, or an undefined computation.

    A plain exception class (not a frozen dataclass): Python itself assigns
    `__traceback__` and `__cause__` on exceptions, which a frozen class forbids.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        source: Source | None = None,
        span: Span | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown error kind {kind!r}")
        super().__init__(kind, message)
        self.kind = kind
        self.message = message
        self.source = source
        self.span = span

    def __str__(self) -> str:
        return self.headline()

    @property
    def exit_code(self) -> int:
        return EXIT_USAGE

    @property
    def position(self) -> tuple[int, int] | None:
        if self.source is None or self.span is None:
            return None
        return self.source.line_col(self.span.start)

    def headline(self) -> str:
        """The one-line message, with origin, line and column where known."""
        pos = self.position
        if pos is None or self.source is None:
            return _("error: {message}").format(message=self.message)
        where = "" if self.source.origin == "<program>" else _("{origin}: ").format(origin=self.source.origin)
        return _("error: {where}line {line}, column {column}: {message}").format(
            where=where, line=pos[0], column=pos[1], message=self.message)

    def render(self) -> str:
        """Headline plus the source line and a caret under the place."""
        if self.source is None or self.span is None:
            return self.headline()
        return "\n".join([self.headline(), *caret_lines(self.source, self.span)])

    def to_dict(self) -> dict[str, object]:
        pos = self.position
        return {
            "kind": self.kind,
            "message": self.message,
            "line": pos[0] if pos else None,
            "column": pos[1] if pos else None,
        }


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A warning: the result stands, but the user should know this.

    kind: "kink" (a non-differentiable point, convention used), "overflow",
    "underflow", "nonfinite", "unused", "input", "check", "limit",
    "ill-conditioned" (the check found the engine's gradient far from exact).
    """

    kind: str
    message: str
    node: int | None = None

    def __str__(self) -> str:
        return self.message


#: The operating system's reasons a person meets, in the current language
#: (`OSError.strerror` is the C library's English; these are its words).
_OS_REASONS = {
    errno.ENOENT: N_("No such file or directory"),
    errno.EACCES: N_("Permission denied"),
    errno.EISDIR: N_("Is a directory"),
    errno.ENOTDIR: N_("Not a directory"),
    errno.ENOSPC: N_("No space left on device"),
    errno.EROFS: N_("Read-only file system"),
}


def os_reason(exc: OSError) -> str:
    """Why an operating-system call failed, for a message."""
    text = _OS_REASONS.get(exc.errno or 0)
    return _(text) if text else str(exc.strerror or exc)
