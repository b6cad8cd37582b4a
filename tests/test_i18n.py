"""Choosing the language and translating with it."""

import pytest

from bpcalc import i18n


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    i18n.use("en")


@pytest.mark.parametrize("environ, lang", [
    ({}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "zh_TW.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "fr_FR.UTF-8"}, "en"),
    ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),  # LC_ALL first (POSIX)
    ({"LC_MESSAGES": "zh_CN", "LANG": "en_US.UTF-8"}, "zh"),
    ({"BPCALC_LANG": "en", "LC_ALL": "zh_CN.UTF-8"}, "en"),  # ours over the locale
    ({"BPCALC_LANG": "zh"}, "zh"),
])
def test_the_environment_chooses(environ, lang):
    assert i18n.from_environment(environ) == lang


def test_english_is_the_code_itself():
    assert i18n.language() == "en"
    assert i18n._("error: {message}") == "error: {message}"
    assert i18n.ngettext("{n} point", "{n} points", 2) == "{n} points"


def test_chinese_comes_from_the_catalogue():
    i18n.use("zh")
    assert i18n.language() == "zh"
    assert i18n._("error: {message}").format(message="x") == "错误：x"
    assert i18n._("a message no catalogue has") == "a message no catalogue has"


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="en, zh"):
        i18n.use("fr")


def test_speaking_switches_for_a_block_and_switches_back():
    i18n.use("zh")
    with i18n.speaking("en"):
        assert i18n.language() == "en" and i18n._("error: {message}") == "error: {message}"
    assert i18n.language() == "zh" and i18n._("error: {message}") == "错误：{message}"
    with pytest.raises(KeyError), i18n.speaking("en"):
        raise KeyError("x")
    assert i18n.language() == "zh"
