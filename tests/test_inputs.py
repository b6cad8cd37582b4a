import io

import pytest

from bpcalc.errors import BpcalcError
from bpcalc.inputs import read_program, read_stream


def test_argument_and_file(tmp_path):
    assert read_program("x+1", None).text == "x+1"
    f = tmp_path / "p.bp"
    f.write_text("q = x\nq", encoding="utf-8")
    source = read_program(None, f)
    assert source.text == "q = x\nq" and source.origin == str(f)


@pytest.mark.parametrize(
    "text, file, message",
    [
        (None, None, "no program given"),
        ("x", "p.bp", "either as an argument or with -f FILE, not both"),
        (None, "/nonexistent/p.bp", "cannot read /nonexistent/p.bp"),
        (None, "/", "is a directory"),
    ],
)
def test_usage_errors(text, file, message):
    with pytest.raises(BpcalcError, match=message):
        read_program(text, file)


def test_bounded_read():
    with pytest.raises(BpcalcError) as info:
        read_stream(io.BytesIO(b"x" * 101), "<stdin>", 100)
    assert info.value.kind == "limit" and "larger than 100 bytes" in info.value.message
    assert read_stream(io.BytesIO(b"x" * 100), "<stdin>", 100).text == "x" * 100


def test_dev_zero_is_refused_without_reading_it_whole():
    with open("/dev/zero", "rb") as f:
        with pytest.raises(BpcalcError, match="larger than 1,000 bytes"):
            read_stream(f, "/dev/zero", 1000)


def test_a_byte_order_mark_at_the_start_is_skipped(tmp_path):
    f = tmp_path / "notepad.bp"
    f.write_bytes(b"\xef\xbb\xbfq = x\nq*2\n")  # what Windows Notepad writes
    assert read_program(None, f).text == "q = x\nq*2\n"
    assert read_stream(io.BytesIO(b"\xef\xbb\xbfx"), "<stdin>", 100).text == "x"
    with pytest.raises(BpcalcError) as info:  # the byte offset counts the BOM
        read_stream(io.BytesIO(b"\xef\xbb\xbfx\xff"), "<stdin>", 100)
    assert "byte offset 4" in info.value.message and info.value.position == (1, 2)


def test_a_byte_order_mark_elsewhere_stays_an_error(tmp_path):
    import bpcalc

    f = tmp_path / "p.bp"
    f.write_bytes(b"x*\xef\xbb\xbfy")
    with pytest.raises(BpcalcError) as info:
        bpcalc.grad(read_program(None, f).text, {"x": 1, "y": 2}, check=False)
    assert info.value.message == "invisible or control character U+FEFF ZERO WIDTH NO-BREAK SPACE"
    assert info.value.position == (1, 3)
    with pytest.raises(BpcalcError, match="U\\+FEFF"):  # an argument is not a file: no BOM to skip
        bpcalc.grad(read_program("\ufeffx", None).text, {"x": 1}, check=False)


def test_invalid_utf8_points_at_the_byte():
    with pytest.raises(BpcalcError) as info:
        read_stream(io.BytesIO(b"x + \xff"), "<stdin>", 100)
    err = info.value
    assert "invalid UTF-8 (byte 0xff at byte offset 4)" in err.message
    assert err.position == (1, 5)


def test_messages_in_chinese(chinese):
    with pytest.raises(BpcalcError) as info:
        read_program(None, None)
    assert info.value.message == "没有给出程序：请把程序作为参数写出，或用 -f FILE，或用 '-' 从标准输入读取"
    with pytest.raises(BpcalcError) as info:
        read_program("x" * 101, None, 100)
    assert info.value.message == "程序超过 100 字节；可用 --max-bytes 提高上限"
