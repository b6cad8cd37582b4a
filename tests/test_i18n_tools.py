"""The catalogues: every message of the source has a translation that keeps
its placeholders, and the shipped .mo says what the .po says."""

import gettext
import re

import pytest

pytest.importorskip("babel")

from bpcalc import i18n_tools  # noqa: E402
from bpcalc.i18n import LANGUAGES, LOCALE_DIR  # noqa: E402

TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
FIELD = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")


def test_the_source_has_messages_to_translate():
    ids = {m.id for m in i18n_tools.source_messages()}
    assert "error: {where}line {line}, column {column}: {message}" in ids


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_has_a_translation(lang):
    gaps = [f"{m.id!r} ({m.places[0][0]}:{m.places[0][1]})" for m in i18n_tools.missing(lang)]
    assert not gaps, f"{len(gaps)} messages have no {lang} translation " \
                     "(python -m bpcalc.i18n_tools update, translate, compile):\n" + "\n".join(gaps[:40])


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_the_placeholders(lang):
    for entry in i18n_tools.read_catalogue(lang):
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = set(FIELD.findall(ids[-1]))
        for text in strings:
            assert set(FIELD.findall(text)) == wanted, (entry.id, text)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_shipped_mo_is_the_po_compiled(lang):
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "bpcalc.mo").open("rb") as f:
        shipped = gettext.GNUTranslations(f)
    catalogue = i18n_tools.read_catalogue(lang)
    for entry in catalogue:
        if entry.id and not entry.fuzzy and entry.string:
            key = entry.id[0] if isinstance(entry.id, tuple) else entry.id
            got = shipped.ngettext(key, entry.id[1], 1) if isinstance(entry.id, tuple) else shipped.gettext(key)
            want = entry.string[0] if isinstance(entry.string, tuple) else entry.string
            assert got == want, f"{key!r}: the .mo is stale (python -m bpcalc.i18n_tools compile)"
