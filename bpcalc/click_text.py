"""Click's own texts in the chosen language: its usage errors and `--help`.

The click that typer vendors has no gettext: its usage errors are rebuilt
here from the exception's class and fields, and `--help` has its help texts
(bpcalc's, from the command and option declarations) and click's headings
translated. typer's own help words ("Options", "default: …") go through
gettext's global domain, which is bound to bpcalc's catalogue for them. In
English all of it is click's and typer's own output, untouched.
"""

from __future__ import annotations

import sys
from typing import Any

from .i18n import N_, _


def show_usage_error(err: Any, click: Any) -> None:
    """click's usage error on stderr, as click shows it: in English click's
    own text; in another language the same lines, translated from the
    exception's class and fields (the click that typer vendors has no
    gettext), with the option names, values and ranges as click wrote them."""
    from . import i18n

    if i18n.language() == "en":
        err.show()
        return
    lines = []
    ctx = getattr(err, "ctx", None)
    if ctx is not None:
        lines.append(ctx.get_usage())  # "Usage: " translated by the formatter (`translate_help`)
        if ctx.command.get_help_option(ctx) is not None:
            lines.append(_("Try '{command} {option}' for help.").format(
                command=ctx.command_path, option=ctx.help_option_names[0]))
        lines.append("")
    lines.append(_("Error: {message}").format(message=click_message(err, click)))
    print("\n".join(lines), file=sys.stderr)


def click_message(err: Any, click: Any) -> str:
    """The text of click's error `err` in the current language, by its class
    and fields; click's English text where bpcalc has no translation of it.
    (Click's texts are always English: matching them is matching a fixed
    template, not a translated message.)"""
    import re

    def hint() -> str | None:
        names = err.param_hint if err.param_hint is not None else (
            err.param.get_error_hint(err.ctx) if err.param is not None else None)
        return names if names is None or isinstance(names, str) else " / ".join(repr(x) for x in names)

    if isinstance(err, click.NoSuchOption):
        option = _printable(err.option_name)
        if err.possibilities:
            return _("No such option: {option} (possible options: {options})").format(
                option=option, options=", ".join(sorted(err.possibilities)))
        return _("No such option: {option}").format(option=option)
    if isinstance(err, click.MissingParameter):
        kind = err.param_type or (err.param.param_type_name if err.param is not None else None)
        missing = {"option": _("Missing option {name}."), "argument": _("Missing argument {name}."),
                   "parameter": _("Missing parameter {name}.")}.get(kind or "")
        if missing is None or err.message:
            return err.format_message()
        return missing.format(name=hint() or "")
    if isinstance(err, click.BadParameter):
        names = hint()
        value = _value_message(err.message)
        if names is None:
            return _("Invalid value: {message}").format(message=value)
        return _("Invalid value for {option}: {message}").format(option=names, message=value)
    if isinstance(err, click.BadOptionUsage):
        option = repr(err.option_name)
        if err.message == f"Option {option} requires an argument.":
            return _("Option {option} requires an argument.").format(option=option)
        if err.message == f"Option {option} does not take a value.":
            return _("Option {option} does not take a value.").format(option=option)
        return err.format_message()
    message = err.format_message()
    extra = re.fullmatch(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)", message, re.S)
    if extra:
        return _("Got unexpected extra arguments ({arguments})").format(arguments=extra.group(1))
    command = re.fullmatch(r"No such command (.+?)\.(?: Did you mean (.+)\?)?", message, re.S)
    if command and command.group(2):
        return _("No such command {name}. Did you mean {names}?").format(name=command.group(1),
                                                                        names=command.group(2))
    if command:
        return _("No such command {name}.").format(name=command.group(1))
    return message


#: Click's texts for a bad option value (types.py), and what they become.
_VALUE_MESSAGES = (
    (r"(?P<value>.+) is not in the range (?P<range>.+)\.", N_("{value} is not in the range {range}.")),
    (r"(?P<value>.+) is not a valid (?:integer|int)(?: range)?\.", N_("{value} is not a valid integer.")),
    (r"(?P<value>.+) is not a valid float(?: range)?\.", N_("{value} is not a valid number.")),
    (r"(?P<value>.+) is not one of (?P<choices>.+)\.", N_("{value} is not one of {choices}.")),
    (r"(?P<value>.+) is not a valid boolean\. Recognized values: (?P<values>.+)",
     N_("{value} is not a valid boolean. Recognized values: {values}")),
)


def _value_message(message: str) -> str:
    """Click's message for a bad option value, translated; itself when unknown."""
    import re

    for pattern, text in _VALUE_MESSAGES:
        found = re.fullmatch(pattern, message, re.S)
        if found:
            return _(text).format(**found.groupdict())
    return message


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


#: typer's help words: typer passes them through gettext's global domain.
TYPER_WORDS = (N_("Arguments"), N_("Options"), N_("Commands"), N_("default: {default}"), N_("required"),
               N_("env var: {var}"), N_("(dynamic)"))
#: click's words in `--help` (no gettext in the click typer vendors).
USAGE, HELP_OPTION = N_("Usage: "), N_("Show this message and exit.")


def translate_help(command: Any, click: Any) -> None:
    """In a language other than English: `command`'s help texts (and its
    subcommands', which a group's help lists), translated in place; click's
    "Usage: " and the --help option's text by the help formatter; typer's
    words through gettext's global domain, bound to bpcalc's catalogue."""
    from . import i18n

    if i18n.language() == "en":
        return
    import gettext
    import os

    gettext.bindtextdomain(i18n.DOMAIN, str(i18n.LOCALE_DIR))
    gettext.textdomain(i18n.DOMAIN)
    os.environ["LANGUAGE"] = i18n.language()  # what gettext's global functions read
    for cmd in commands(command):
        cmd.help = _(cmd.help) if cmd.help else cmd.help
        cmd.short_help = _(cmd.short_help) if cmd.short_help else cmd.short_help
        for param in cmd.params:
            if getattr(param, "help", None):
                param.help = _(param.help)
    package = sys.modules[click.__name__.rpartition(".")[0]]  # click itself (`click` may be its exceptions)
    package.Context.formatter_class = _formatter(package)


def commands(command: Any) -> list[Any]:
    """`command` and, for a group, its subcommands."""
    return [command, *getattr(command, "commands", {}).values()]


def help_texts() -> list[str]:
    """Every help text of the command line, as click holds it (for the
    catalogue: `i18n_tools` adds them to the source's messages)."""
    import typer

    from .cli import app

    texts = []
    for cmd in commands(typer.main.get_command(app)):
        texts += [t for t in (cmd.help, cmd.short_help) if t]
        texts += [p.help for p in cmd.params if getattr(p, "help", None)]
    return list(dict.fromkeys(texts))


def _formatter(click: Any) -> type:
    class Translated(click.HelpFormatter):  # type: ignore[name-defined]
        """click's help formatter with the words translated, and text
        wrapped by its width on the terminal (a Chinese character takes two
        columns; click counts characters). Pre-wrapped lines reach click in
        a paragraph marked `\\b`, which it does not rewrap."""

        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, args, _(USAGE) if prefix is None else prefix)

        def write_text(self, text: str) -> None:
            super().write_text(prewrapped(text, self.width - self.current_indent))

        def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
            rows = [(term, _(HELP_OPTION) if text == HELP_OPTION else text) for term, text in rows]
            first = min(max((len(term) for term, _text in rows), default=0), col_max) + col_spacing
            width = max(self.width - first - self.current_indent - 2, 10)
            super().write_dl([(term, prewrapped(text, width)) for term, text in rows], col_max, col_spacing)

    return Translated


def prewrapped(text: str, width: int) -> str:
    """`text` as lines at most `width` columns wide on a terminal, marked
    for click not to rewrap (a first line of `\\b`); "" stays ""."""
    if not text.strip():
        return text
    return "\b\n" + "\n".join(cell_wrap(" ".join(text.split()), width))


#: Characters that end a line well but never start one (full-width punctuation).
_NO_LINE_START = set("，。；：、）》」』！？")


def cell_wrap(text: str, width: int) -> list[str]:
    """`text` cut into lines of at most `width` terminal columns: between
    words, and between any two wide (CJK) characters, but never before
    full-width punctuation; a word wider than a line stays whole."""
    from rich.cells import cell_len

    units: list[str] = []  # words, single spaces, single wide characters (with the punctuation after them)
    for ch in text:
        wide = cell_len(ch) == 2
        if ch in _NO_LINE_START and units:
            units[-1] += ch
        elif wide or ch == " " or not units or units[-1] == " " or cell_len(units[-1][-1]) == 2:
            units.append(ch)
        else:
            units[-1] += ch
    lines, line = [], ""
    for unit in units:
        if line and cell_len(line + unit) > width and unit != " ":
            lines.append(line.rstrip())
            line = ""
        if not (unit == " " and not line):
            line += unit
    return [*lines, line.rstrip()] if line.strip() else lines
