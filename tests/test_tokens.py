from bpcalc.errors import Source
from bpcalc.lang.tokens import BAD, NAME, NUM, OP, SEP, bad_character, tokenize


def kinds(text):
    return [(t.kind, t.text) for t in tokenize(Source(text))]


def test_numbers_names_operators_and_offsets():
    toks = tokenize(Source("x1 = 2.5e-3*.5 ** θ"))
    assert [(t.kind, t.text, t.start, t.end) for t in toks] == [
        (NAME, "x1", 0, 2), (OP, "=", 3, 4), (NUM, "2.5e-3", 5, 11), (OP, "*", 11, 12),
        (NUM, ".5", 12, 14), (OP, "**", 15, 17), (NAME, "θ", 18, 19),
    ]


def test_comments_and_separators():
    assert kinds("a = 1 # set a\nb;c") == [
        (NAME, "a"), (OP, "="), (NUM, "1"), (SEP, "\n"), (NAME, "b"), (SEP, ";"), (NAME, "c"),
    ]


def test_augmented_assignment_is_one_token():
    assert kinds("a += 2") == [(NAME, "a"), (OP, "+="), (NUM, "2")]


def test_typographic_operators_are_ascii():
    assert kinds("a − b × c · d ÷ e") == [
        (NAME, "a"), (OP, "-"), (NAME, "b"), (OP, "*"), (NAME, "c"), (OP, "*"), (NAME, "d"),
        (OP, "/"), (NAME, "e"),
    ]


def test_unicode_names_and_subscripts():
    assert kinds("w₁*α") == [(NAME, "w₁"), (OP, "*"), (NAME, "α")]


def test_no_break_space_is_a_space():
    assert kinds("x\u00a0+\u2003y") == [(NAME, "x"), (OP, "+"), (NAME, "y")]


def test_bad_characters_are_tokens_with_their_offset():
    toks = tokenize(Source("x + $y"))
    assert toks[-2] == (BAD, "$", 4, 5)


def test_fullwidth_letter_inside_a_name_is_bad():
    toks = tokenize(Source("aｘ"))
    assert toks == [(BAD, "ｘ", 1, 2)]


def test_bad_character_messages():
    def msg(text, offset):
        return bad_character(Source(text), offset).message

    assert msg("x\x00", 1) == "NUL byte in the program"
    assert "did you mean 'x'?" in msg("ｘ", 0)
    assert "U+200B ZERO WIDTH SPACE" in msg("\u200b", 0)
    assert "use parentheses '('" in msg("{", 0)
    assert "strings are not part" in msg("'", 0)
    assert "write ^2" in msg("²", 0)


def test_bad_character_messages_in_chinese(chinese):
    def msg(text, offset):
        return bad_character(Source(text), offset).message

    assert msg("ｘ", 0) == "全角或兼容字符 'ｘ'（U+FF58 FULLWIDTH LATIN SMALL LETTER X）；是不是想写 'x'？"
    assert msg("{", 0) == "意外的 '{'；分组请用圆括号 '('"
    assert msg("'", 0) == "意外的 '''：bpcalc 语言没有字符串"
    assert msg("!", 0) == "意外的 '!'：'!' 不属于 bpcalc 语言"
    assert msg("²", 0) == "不支持上标 '²'；请写成 ^2"
