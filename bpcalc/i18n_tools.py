"""The catalogues' upkeep (for developers; needs Babel, in the `test` extra).

    python -m bpcalc.i18n_tools update    # the source's messages into every .po (new ones untranslated)
    python -m bpcalc.i18n_tools compile   # every .po into its .mo (shipped in the package)
    python -m bpcalc.i18n_tools missing   # the messages a catalogue lacks (exit 1 if any)

The messages are what the code passes to `_()`, `N_()` and `ngettext()`
(`i18n`), which Babel's extractor reads from the source without running it,
and the command line's help texts (`click_text.help_texts`).
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .i18n import DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).parent
HEADER = """\
# bpcalc's messages in {lang}, in the terms of the course notes (docs/glossary.md).
# Edit the msgstr lines, then `python -m bpcalc.i18n_tools compile`;
# tests/test_i18n_tools.py checks that every message is translated and that
# the shipped .mo says what this file says.
"""
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


@dataclass(frozen=True)
class Message:
    """One message of the source: its English text (a tuple of singular and
    plural for ngettext) and where it is used (file, line)."""

    id: str | tuple[str, str]
    places: tuple[tuple[str, int], ...]


def source_messages() -> list[Message]:
    """Every message the code marks for translation, in the order first used."""
    from babel.messages.extract import extract_from_dir

    found: dict[str | tuple[str, str], list[tuple[str, int]]] = {}
    method_map = [("**.py", "python")]
    for filename, line, text, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map, keywords=KEYWORDS, strip_comment_tags=True):
        if filename.startswith("i18n"):
            continue  # the machinery's own docstrings and examples
        found.setdefault(text, []).append((filename, line))
    from .click_text import help_texts

    for text in help_texts():  # the command line's help: declarations, not calls of _()
        found.setdefault(text, []).append(("cli.py", 0))
    return [Message(text, tuple(places)) for text, places in found.items()]


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(lang: str):  # -> babel.messages.Catalog
    from babel.messages.pofile import read_po

    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def update(lang: str) -> int:
    """Add the source's new messages to `lang`'s .po (untranslated), mark the
    ones the source no longer uses obsolete; returns how many are new."""
    from babel.messages.catalog import Catalog

    catalogue = read_catalogue(lang) if po_path(lang).exists() else Catalog(locale=lang, domain=DOMAIN)
    template = Catalog(domain=DOMAIN, project="bpcalc")
    for message in source_messages():
        template.add(message.id, locations=message.places)
    before = {m.id for m in catalogue if m.id}
    catalogue.update(template, no_fuzzy_matching=True)
    write_catalogue(lang, catalogue)
    return len({m.id for m in catalogue if m.id} - before)


def write_catalogue(lang: str, catalogue) -> None:  # catalogue: babel.messages.Catalog
    """`lang`'s .po, as Babel writes it, under our header."""
    from babel.messages.pofile import write_po

    po_path(lang).parent.mkdir(parents=True, exist_ok=True)
    catalogue.header_comment = ""  # ours is HEADER
    out = io.BytesIO()  # no header: gettext's charset and plural forms are Babel's (UTF-8; from the locale)
    write_po(out, catalogue, width=100, omit_header=True, no_location=True, ignore_obsolete=True, include_previous=False)
    lines = out.getvalue().decode().splitlines(keepends=True)
    while lines and (lines[0].startswith("# ") or not lines[0].strip()):
        lines.pop(0)  # the header comment Babel read (and keeps)
    po_path(lang).write_text(HEADER.format(lang=lang) + "".join(lines), encoding="utf-8")


def compiled(lang: str) -> bytes:
    """`lang`'s .po as the .mo that gettext reads."""
    from babel.messages.mofile import write_mo

    out = io.BytesIO()
    write_mo(out, read_catalogue(lang), use_fuzzy=False)
    return out.getvalue()


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def missing(lang: str) -> Iterator[Message]:
    """The source's messages that `lang`'s catalogue does not translate."""
    catalogue = read_catalogue(lang)
    for message in source_messages():
        entry = catalogue.get(message.id)
        strings = entry.string if entry is not None else None
        if entry is None or entry.fuzzy or not strings or (
                isinstance(strings, tuple) and not all(strings)):
            yield message


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    languages = [lang for lang in LANGUAGES if lang != "en"]
    if command == "update":
        for lang in languages:
            print(f"{lang}: {update(lang)} new messages in {po_path(lang)}")
        return 0
    if command == "compile":
        for lang in languages:
            mo_path(lang).write_bytes(compiled(lang))
            print(f"{lang}: wrote {mo_path(lang)}")
        return 0
    if command == "missing":
        gaps = [(lang, m) for lang in languages for m in missing(lang)]
        for lang, m in gaps:
            where = ", ".join(f"{f}:{n}" for f, n in m.places[:3])
            print(f"{lang}: {m.id!r} ({where})")
        return 1 if gaps else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
