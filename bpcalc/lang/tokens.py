"""The lexical rules: which characters make which tokens.

One regular expression splits text into pieces (every character belongs to
exactly one piece, and no piece crosses a newline), and `KIND` classifies a
piece by its first character. The parser runs this inline in its own loop for
speed; `tokenize()` gives the same tokens as a list, for tests and tools.

Typographic operators copied from course notes are accepted as their ASCII
meaning: U+2212 minus '−' as '-', '×' '·' '⋅' as '*', '÷' as '/'. Unicode
spaces (no-break space and the like) are spaces. Invisible format characters
(zero-width space, BOM, …), full-width forms and anything else outside the
language are rejected, pointing at the character and naming it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..errors import BpcalcError, Source, Span
from ..i18n import N_, _

# Token kinds (small ints: the parser compares them in its hot loop).
WS, NAME, NUM, OP, SEP, BAD, ATTR = 0, 1, 2, 3, 4, 5, 6
KIND_NAMES = {WS: "space", NAME: "name", NUM: "number", OP: "operator", SEP: "separator", BAD: "bad",
              ATTR: "attribute"}

#: A number as the language writes it (no sign: `-3` is minus applied to 3).
NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"

PIECE = re.compile(
    # Leading spaces (any Unicode space but newline) belong to the piece that
    # follows them, so the parser's loop sees one piece per token.
    r"[^\S\n]*(?:"
    r"\n"
    r"|#[^\n]*"  # comment
    r"|" + NUMBER +  # number
    r"|[^\W\d]\w*"  # name
    r"|\.[^\W\d]\w*"  # attribute: .T (transpose)
    r"|\*\*|[-+*/]="
    r"|.)"
    r"|[^\S\n]+",  # spaces at the very end
)

OPERATOR_CHARS = "+-*/^(),=@[]"
#: Kind of a piece by its first character, for ASCII; others go to `classify`.
KIND: dict[str, int] = {}
for _c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_":
    KIND[_c] = NAME
for _c in "0123456789":
    KIND[_c] = NUM
for _c in OPERATOR_CHARS:
    KIND[_c] = OP
KIND["#"] = WS
KIND["\n"] = SEP
KIND[";"] = SEP

TYPOGRAPHIC = {"\u2212": "-", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u00f7": "/"}
_SUBSCRIPT_DIGITS = frozenset("₀₁₂₃₄₅₆₇₈₉")
_SUPERSCRIPTS = {"²": "^2", "³": "^3", "¹": "^1", "⁰": "^0"}
_BRACKETS = {"{": "(", "}": ")"}
_PYTHON_ONLY = {  # marked only: translated where shown (`bad_character`)
    "'": N_("unexpected '{char}': strings are not part of the bpcalc language"),
    '"': N_("unexpected '{char}': strings are not part of the bpcalc language"),
    ".": N_("unexpected '{char}': '.' is only allowed inside a number such as 2.5 and in X.T (transpose)"),
    ":": N_("unexpected '{char}': '{char}' is not part of the bpcalc language"),
    "\\": N_("unexpected '{char}': line continuations are not needed: newlines inside parentheses are spaces"),
    "!": N_("unexpected '{char}': '{char}' is not part of the bpcalc language"),
    "<": N_("unexpected '{char}': comparisons are not part of the bpcalc language"),
    ">": N_("unexpected '{char}': comparisons are not part of the bpcalc language"),
}


def _describe(ch: str) -> str:
    import unicodedata  # here: only a character outside ASCII needs it (start-up)

    code = f"U+{ord(ch):04X}"
    name = unicodedata.name(ch, "")
    return f"{code} {name}" if name else code


def bad_character(source: Source, offset: int) -> BpcalcError:
    """The error for a character that no token can start with."""
    ch = source.text[offset]
    span = Span(offset, offset + 1)
    if ch == "\x00":
        message = _("NUL byte in the program")
    elif ch in _BRACKETS:
        message = _("unexpected '{char}'; use parentheses '{paren}' for grouping").format(
            char=ch, paren=_BRACKETS[ch])
    elif ch in _PYTHON_ONLY:
        message = _(_PYTHON_ONLY[ch]).format(char=ch)
    elif ch in _SUPERSCRIPTS:
        message = _("superscript '{char}' is not supported; write {power}").format(
            char=ch, power=_SUPERSCRIPTS[ch])
    else:
        import unicodedata

        folded = unicodedata.normalize("NFKC", ch)
        category = unicodedata.category(ch)
        if folded != ch and folded.isascii() and folded.strip():
            message = _("full-width or compatibility character '{char}' ({code}); did you mean '{ascii}'?").format(
                char=ch, code=_describe(ch), ascii=folded)
        elif category in ("Cf", "Cc", "Co", "Cn", "Cs", "Zl", "Zp") or not ch.isprintable():
            message = _("invisible or control character {code}").format(code=_describe(ch))
        else:
            message = _("unexpected character '{char}' ({code})").format(char=ch, code=_describe(ch))
    return BpcalcError("parse", message, source, span)


def bad_offset_in_name(text: str) -> int:
    """Index of the first character not allowed in a name, or -1.

    Names are letters, ASCII digits, '_' and subscript digits (w₁). A
    full-width or compatibility form of an ASCII letter ('ｘ') is refused, so
    that it can never silently become a different input than 'x'.
    """
    if text.isascii():
        return -1
    import unicodedata

    for k, ch in enumerate(text):
        if ch.isascii() or ch in _SUBSCRIPT_DIGITS:
            continue
        if ch.isalpha() and not unicodedata.normalize("NFKC", ch).isascii():
            continue
        return k
    return -1


def split_space(piece: str) -> tuple[int, str]:
    """(number of leading space characters, the rest) of a piece."""
    rest = piece.lstrip()
    if not rest and piece.endswith("\n"):
        rest = "\n"
    return len(piece) - len(rest), rest


def classify(piece: str) -> tuple[int, str]:
    """(kind, text) of a piece without leading spaces; the slow path for pieces
    `KIND` does not know. A NAME with a bad character, a lone '.', or an unknown
    character is BAD (the text is then the bad character)."""
    if not piece:
        return WS, piece
    c = piece[0]
    kind = KIND.get(c)
    if kind is not None:
        if kind == NAME and not piece.isascii() and bad_offset_in_name(piece) >= 0:
            return BAD, piece[bad_offset_in_name(piece)]
        return kind, piece
    if c == ".":
        if len(piece) > 1 and not piece[1].isdigit():
            return ATTR, piece
        return (NUM, piece) if len(piece) > 1 else (BAD, c)
    if c.isspace():
        return WS, piece
    if c in TYPOGRAPHIC:
        return OP, TYPOGRAPHIC[c]
    if c.isalpha():
        k = bad_offset_in_name(piece)
        return (NAME, piece) if k < 0 else (BAD, piece[k])
    return BAD, c


class Token(NamedTuple):
    kind: int
    text: str
    start: int
    end: int


def tokenize(source: Source) -> list[Token]:
    """All tokens but spaces and comments, as a list (not used by the parser's
    hot loop, which applies the same rules inline). A BAD token's start is the
    offending character's offset."""
    tokens = []
    pos = 0
    for piece in PIECE.findall(source.text):
        skip, piece = split_space(piece)
        start = pos + skip
        pos = start + len(piece)
        kind, text = classify(piece)
        if kind == WS:
            continue
        if kind == BAD:
            start += piece.find(text)
            tokens.append(Token(BAD, text, start, start + 1))
        else:
            tokens.append(Token(kind, text, start, pos))
    return tokens
