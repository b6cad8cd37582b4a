"""Messages for people, in their language (Python's `gettext`).

Every message a person reads is written in English in the code, inside
`_()` (or `N_()` where it is defined before the language is known, and
`_()` is applied where it is used), with named `{placeholders}` filled by
`.format()` after translation, so a translation may reorder them:

    _("{node}: {op} is undefined at {value}").format(node=..., op=..., value=...)

The translations are catalogues, one per language: `locale/<lang>/LC_MESSAGES/
bpcalc.po` (the text a translator edits) and its compiled `bpcalc.mo` (what
`gettext` reads, shipped in the package). A third language is a new
catalogue, not new code: add it to `LANGUAGES`, copy `locale/bpcalc.pot`
(`python -m bpcalc.i18n_tools update`), translate it and compile it with
`python -m bpcalc.i18n_tools compile` (both need Babel, in the `test`
extra).

English is the default and costs nothing: no catalogue is read, and
`gettext` is not even imported. The command line chooses the language from
`--lang`, else `BPCALC_LANG`, else the locale (`LC_ALL`, `LC_MESSAGES`,
`LANG`, in the POSIX order: `zh_CN.UTF-8` → zh); JSON is always English (it
is for scripts). The Python API speaks English until `use("zh")`.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

#: The languages with a catalogue ("en" is the code's own text).
LANGUAGES = ("en", "zh")
DOMAIN = "bpcalc"
LOCALE_DIR = Path(__file__).parent / "locale"

_state: dict[str, Any] = {"language": "en", "gettext": None, "ngettext": None}


def _(message: str) -> str:
    """`message` in the current language (itself in English, or untranslated)."""
    translate = _state["gettext"]
    return message if translate is None else translate(message)


def N_(message: str) -> str:
    """Marks `message` for the catalogue without translating it now (a
    constant defined at import time); apply `_()` where it is shown."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, in the current language."""
    translate = _state["ngettext"]
    if translate is None:
        return singular if n == 1 else plural
    return translate(singular, plural, n)


def language() -> str:
    return _state["language"]


def use(lang: str) -> None:
    """Speak `lang` (one of LANGUAGES) from now on, in this process."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; bpcalc speaks {', '.join(LANGUAGES)}")
    _state["language"] = lang
    if lang == "en":
        _state["gettext"] = _state["ngettext"] = None
        return
    import gettext

    catalogue = gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[lang])
    _state["gettext"], _state["ngettext"] = catalogue.gettext, catalogue.ngettext


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Speak `lang` within the block, then the language spoken before (what
    is computed for scripts, such as `bpcalc batch`'s records, is English
    whatever a person chose for the summary)."""
    before = dict(_state)
    if before["language"] == lang:
        yield
        return
    use(lang)
    try:
        yield
    finally:
        _state.update(before)


def from_environment(environ: Mapping[str, str] = os.environ) -> str:
    """The language the environment asks for: BPCALC_LANG, else the first of
    LC_ALL, LC_MESSAGES, LANG that is set (`zh_CN.UTF-8`, `zh_TW` → zh);
    English for anything else."""
    wanted = environ.get("BPCALC_LANG") or next(
        (environ[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(k)), "")
    return closest(wanted) or "en"


def closest(wanted: str) -> str | None:
    """The language of ours that a locale name means (`zh_CN.UTF-8` → zh,
    `en_GB` → en, `C` → en), or None when it names none of them."""
    code = wanted.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    if code in ("", "c", "posix"):
        return "en"
    return code if code in LANGUAGES else None
