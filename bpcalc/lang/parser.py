"""Parser: program text -> statements, each a syntax tree in postfix order.

An operator-precedence (shunting-yard) parser with an explicit stack reads the
text's pieces (see `tokens`) in one loop: no recursion anywhere, so a statement
nested 100 000 parentheses deep parses like any other, and one pass over the
text is all the tokenizing there is. Statements are yielded one at a time, so
lowering can consume them while parsing goes on.

Each statement's syntax tree is kept in postfix order (every item follows its
operands). Items are plain tuples `(tag, payload, start, end)`:

    ("num",   literal text, start, end)   a number literal
    ("name",  name,         start, end)   a name (input, binding or constant)
    ("op",    op name,      start, end)   a binary or unary operator; the span
                                          is the operator symbol itself
    ("call",  op name,      start, end)   a function call, `name(` to `)`
    ("callk", (op name, positional count, keyword names), start, end)
                                          a tensor op's call with keyword
                                          arguments (axis=1), or max(X) with
                                          one argument (it reduces); the
                                          keyword arguments' values come last
    ("calln", (op name, n), start, end)   a call with n arguments where the op
                                          takes another number: a default left
                                          out (leaky_relu(x)), or max(a, b, c)
    ("tensor", (values, shape, text), start, end)
                                          a literal [1, 2] or [[1, 2], [3, 4]]:
                                          the numbers as written, row by row
    ("group", None,         start, end)   parentheses around the item before

Grammar (see README "Language"):

    program   := statement ((';' | newline) statement)*
    statement := NAME '=' expr | NAME ('+=' | '-=' | '*=' | '/=') expr | expr
    expr      := + - (left) < * / (left) < unary - + < ^ ** (right)
    atom      := NUMBER | NAME | NAME '(' args ')' | '(' expr ')' | '[' numbers ']' | atom '.T'
    args      := expr (',' expr)* (',' NAME '=' expr)*     (keywords: axis=)

Newlines inside parentheses are spaces; '#' starts a comment.
"""

from __future__ import annotations

import re
from typing import Iterator, NamedTuple

from ..errors import BpcalcError, Source, Span
from ..i18n import _
from ..limits import DEFAULT_LIMITS, Limits
from ..ops import BINARY, FUNCTIONS, PREC_ADD, PREC_MUL, PREC_POW, PREC_UNARY, REDUCING_FORMS, TENSOR_OPS, TensorOp
from .tokens import ATTR, BAD, KIND, NAME, NUM, OP, PIECE, SEP, bad_character, classify, split_space

Item = tuple[str, object, int, int]

_AUGMENTED = {"+=": "add", "-=": "sub", "*=": "mul", "/=": "div"}
# (op name, precedence, right-associative) of each binary operator symbol.
_BINARY = {
    sym: (name, {"add": PREC_ADD, "sub": PREC_ADD, "mul": PREC_MUL, "div": PREC_MUL, "matmul": PREC_MUL, "pow": PREC_POW}[name], name == "pow")
    for sym, name in BINARY.items()
}
#: Python's keywords are refused as names, but for `lambda`: the usual name of
#: a regularisation weight (`lambda` followed by a name is still refused).
PYTHON_KEYWORDS = frozenset(
    "if else elif import from for while def return and or not in is "
    "None True False class with as yield async await global nonlocal del pass "
    "try except finally raise assert break continue print".split()
)
_DIGIT_GROUPS = re.compile(r"(?:_[0-9]+)+")  # 1_000 reads as 1 and _000
# Operator-stack entry kinds.
_BIN, _UN, _PAREN, _CALL = 0, 1, 2, 3


class Statement(NamedTuple):
    """One statement: an optional assignment target and a postfix expression.

    A NamedTuple rather than a frozen dataclass: a generated program has
    hundreds of thousands of statements, and this is cheaper to build."""

    target: str | None
    augment: str | None  # op name for '+=' etc.; None for '=' or a bare expression
    target_start: int
    target_end: int
    expr: tuple[Item, ...]
    start: int  # the statement's source range
    end: int

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    @property
    def target_span(self) -> Span | None:
        return None if self.target is None else Span(self.target_start, self.target_end)


class Program(NamedTuple):
    source: Source
    statements: tuple[Statement, ...]


def suggest(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """'; did you mean X?' for the closest choice, or ''."""
    import difflib  # only when there is something to suggest

    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    # the same letters in another order first: 'tahn' is tanh, not tan
    close = [c for c in close if sorted(c) == sorted(name)] or close[:1]
    if not close:
        close = [c for c in choices if c.lower() == name.lower()]
    return _("; did you mean {name}?").format(name=close[0]) if close else ""


def _chunks(text: str, size: int = 1 << 16) -> Iterator[str]:
    """Split text at newlines into pieces of about `size` characters (no
    token crosses a newline, so each chunk tokenizes on its own)."""
    start = 0
    n = len(text)
    while start < n:
        end = text.find("\n", start + size)
        end = n if end < 0 else end + 1
        yield text[start:end]
        start = end


def parse(source: Source, limits: Limits = DEFAULT_LIMITS) -> Program:
    """Parse a whole program. Raises BpcalcError on bad text."""
    return Program(source, tuple(iter_statements(source, limits)))


def iter_statements(source: Source, limits: Limits = DEFAULT_LIMITS) -> Iterator[Statement]:
    """Yield the program's statements in order; raise BpcalcError ("parse",
    "name" or "limit") at the first problem, pointing at it."""
    text = source.text
    max_depth = limits.max_depth
    max_name = limits.max_name

    def fail(message: str, start: int, end: int, kind: str = "parse") -> BpcalcError:
        return BpcalcError(kind, message, source, Span(start, max(end, start + 1)))

    def unknown_function(name: str, start: int, end: int) -> BpcalcError:
        if name in PYTHON_KEYWORDS:
            return fail(_python(name), start, end)
        from .missing import unknown_function as message  # only when there is an error to write

        return fail(message(name, tuple(FUNCTIONS)), start, end, "name")

    count = 0  # statements yielded
    out: list[Item] = []
    emit = out.append
    stack: list[list] = []  # [kind, op name, prec, start, end, argument count, keywords, in a keyword?]
    push = stack.append
    expect = True  # an operand is expected next
    depth = 0
    pending: str | None = None  # a name seen where an operand goes: call, assignment or operand?
    pending_start = pending_end = 0
    first = True  # no token of the current statement seen yet
    pending_first = False  # the pending name is the statement's first token
    pending_prev = ""  # the token before the pending name
    target = augment = None
    target_start = target_end = 0
    stmt_start = 0
    prev_kind, prev_text, prev_start, prev_end = SEP, "", 0, 0
    pos = 0
    literal = None  # a LiteralReader while inside [...]

    def reduce_all(until_open: bool) -> list | None:
        """Pop operators to the output; stop at (and pop) an opener if asked."""
        while stack:
            top = stack[-1]
            if top[0] == _BIN or top[0] == _UN:
                stack.pop()
                if top[1] != "pos":  # unary plus is the identity: no node
                    emit(("op", top[1], top[3], top[4]))
            elif until_open:
                return stack.pop()
            else:
                raise fail(_("'(' is never closed"), top[3], top[4])
        return None

    def keyword_check(name: str, start: int, end: int) -> None:
        if name in PYTHON_KEYWORDS:
            raise fail(_python(name), start, end)

    def python_lambda(end: int) -> BpcalcError:
        return fail(_("this is Python's lambda, not part of the bpcalc language "
                      "('lambda' alone is a name, e.g. a regularisation weight)"), pending_start, end)

    def missing_operator(kind: int, piece: str, start: int, end: int) -> BpcalcError:
        if kind == NAME:
            keyword_check(piece, start, end)
        if prev_kind == NUM and kind == NAME and _DIGIT_GROUPS.fullmatch(piece):
            number = prev_text + piece.replace("_", "")
            return fail(_("'_' is not part of a number: write {number}").format(number=number),
                        start - len(prev_text), end)
        if prev_kind == NAME and prev_text == "lambda" and kind == NAME:
            return python_lambda(end)
        if prev_kind == NUM and kind == NAME:
            message = _("missing operator between '{left}' and '{right}'; write {left}*{right} to multiply")
        elif prev_kind == SEP:
            message = _("missing operator between the end of the line and '{right}'")
        else:
            message = _("missing operator between '{left}' and '{right}'")
        return fail(message.format(left=prev_text, right=piece), start, end)

    def call_item(opener: list, start: int, end: int) -> Item:
        """The syntax item of a finished call, after checking its arguments."""
        name, nargs, keywords = opener[1], opener[5] + 1, opener[6]
        op = FUNCTIONS[name]
        npos = nargs - len(keywords)
        if npos == 1 and name in REDUCING_FORMS:  # max(X) reduces: amax
            op = TENSOR_OPS[REDUCING_FORMS[name]]
        allowed = dict(op.params) if isinstance(op, TensorOp) else {}
        for kw in keywords:
            if kw not in allowed:
                message = (_("{name}() has no keyword argument '{keyword}'; its keyword is {known}") if allowed
                           else _("{name}() has no keyword argument '{keyword}' (it takes no keyword arguments)"))
                raise fail(message.format(name=name, keyword=kw, known=", ".join(k + "=" for k in allowed)),
                           opener[3], end, "arity")
        if npos == op.arity and not keywords and op.name not in REDUCING_FORMS.values():
            return ("call", op.name, opener[3], end)
        if isinstance(op, TensorOp):
            if npos != op.arity:
                raise fail(_("{name}() takes {arguments}, got {count}").format(
                    name=name, arguments=op.arguments(), count=npos), opener[3], end, "arity")
            return ("callk", (op.name, npos, tuple(keywords)), opener[3], end)
        if op.accepts(npos):  # a default left out, or max(a, b, c)
            return ("calln", (op.name, npos), opener[3], end)
        message = (_("{name}() takes {arguments} (or 1 argument: {name}(X) reduces a vector or matrix), got {count}")
                   if name in REDUCING_FORMS else _("{name}() takes {arguments}, got {count}"))
        raise fail(message.format(name=name, arguments=op.arguments(), count=npos), opener[3], end, "arity")

    def end_of_statement() -> Statement:
        if expect:
            if prev_kind == OP and prev_text in ("=", "+=", "-=", "*=", "/="):
                raise fail(_("nothing after '{token}'").format(token=prev_text), prev_start, prev_end)
            raise fail(_("the expression ends after '{token}'").format(token=prev_text), prev_start, prev_end)
        reduce_all(False)
        return Statement(target, augment, target_start, target_end, tuple(out), stmt_start, prev_end)

    for chunk in _chunks(text):
        for piece in PIECE.findall(chunk):
            start = pos
            pos += len(piece)
            if piece[0] == " ":  # the common case of leading spaces, inline
                rest = piece.lstrip(" ")
                if not rest:
                    continue
                start = pos - len(rest)
                piece = rest
            kind = KIND.get(piece[0])
            if kind is None or (kind == NAME and not piece.isascii()):
                skip, piece = split_space(piece)
                start += skip
                kind, piece = classify(piece)
                if kind == BAD:
                    if pending is not None:
                        keyword_check(pending, pending_start, pending_end)
                        if pending == "lambda" and piece == ":":
                            raise python_lambda(start + 1)
                    raise bad_character(source, start + max(0, source.text.find(piece, start) - start))
            end = pos
            if literal is not None:
                if kind == 0:  # WS: a comment
                    continue
                done = literal.feed(kind, piece, start, end)
                if done is not None:
                    emit(("tensor", done, literal.start, end))
                    literal = None
                    expect = False
                    prev_kind, prev_text, prev_start, prev_end = OP, "]", start, end
                continue
            if kind == NAME or kind == NUM:
                if pending is not None:  # an operand right after a name
                    prev_kind, prev_text = NAME, pending
                    keyword_check(pending, pending_start, pending_end)
                    raise missing_operator(kind, piece, start, end)
                if not expect:
                    raise missing_operator(kind, piece, start, end)
                if first:
                    first = False
                    stmt_start = start
                if kind == NUM:
                    emit(("num", piece, start, end))
                    expect = False
                else:  # a name: call, assignment target or operand, by what follows
                    if len(piece) > max_name:
                        raise fail(_("a name longer than {limit} characters").format(limit=max_name),
                                   start, end, "limit")
                    pending = piece
                    pending_start = start
                    pending_end = end
                    pending_first = prev_kind == SEP
                    pending_prev = prev_text
            elif kind == OP:
                if pending is not None:  # what the name is depends on this token
                    if piece == "(":
                        op = FUNCTIONS.get(pending)
                        if op is None:
                            raise unknown_function(pending, pending_start, pending_end)
                        push([_CALL, pending, 0, pending_start, end, 0, [], False])
                        depth += 1
                        if depth > max_depth:
                            raise fail(_too_deep(max_depth), start, end, "limit")
                        pending = None
                        prev_kind = OP
                        prev_text = "("
                        prev_start = start
                        prev_end = end
                        continue
                    if piece == "=" and stack and stack[-1][0] == _CALL and pending_prev in ("(", ","):
                        keyword_check(pending, pending_start, pending_end)
                        opener = stack[-1]
                        if pending in opener[6]:
                            raise fail(_("{name}() is given {keyword}= twice").format(name=opener[1], keyword=pending),
                                       pending_start, end)
                        opener[6].append(pending)
                        opener[7] = True  # the argument being read is a keyword's
                        pending = None
                        prev_kind = OP
                        prev_text = "="
                        prev_start = start
                        prev_end = end
                        continue
                    if pending_first and (piece == "=" or piece in _AUGMENTED):
                        keyword_check(pending, pending_start, pending_end)
                        target = pending
                        target_start = pending_start
                        target_end = pending_end
                        augment = _AUGMENTED.get(piece)
                        pending = None
                        prev_kind = OP
                        prev_text = piece
                        prev_start = start
                        prev_end = end
                        continue
                    keyword_check(pending, pending_start, pending_end)
                    emit(("name", pending, pending_start, pending_end))
                    pending = None
                    expect = False
                if first:
                    first = False
                    stmt_start = start
                if not expect:
                    binary = _BINARY.get(piece)
                    if binary is not None:
                        name, prec, right = binary
                        while stack:
                            top = stack[-1]
                            if top[0] > _UN:  # an opener
                                break
                            if top[2] > prec or (top[2] == prec and not right):
                                stack.pop()
                                if top[1] != "pos":
                                    emit(("op", top[1], top[3], top[4]))
                            else:
                                break
                        push([_BIN, name, prec, start, end, 0, None, False])
                        expect = True
                    elif piece == ")":
                        opener = reduce_all(True)
                        if opener is None:
                            raise fail(_("unmatched ')'"), start, end)
                        depth -= 1
                        if opener[0] == _PAREN:
                            emit(("group", None, opener[3], end))
                        else:
                            if opener[6] and not opener[7]:
                                raise fail(_keywords_last(opener[6][-1]), start, end)
                            emit(call_item(opener, start, end))
                    elif piece == ",":
                        opener = reduce_all(True)
                        if opener is None or opener[0] != _CALL:
                            raise fail(_("',' outside a function call's parentheses"), start, end)
                        if opener[6] and not opener[7]:
                            raise fail(_keywords_last(opener[6][-1]), start, end)
                        opener[7] = False
                        opener[5] += 1
                        push(opener)
                        expect = True
                    elif piece == "=" or piece in _AUGMENTED:
                        if prev_kind == NUM and prev_start == stmt_start:
                            raise fail(_("cannot assign to the number {number}: only a name can be assigned").format(
                                number=prev_text), prev_start, prev_end)
                        raise fail(_("unexpected '{token}': only a name at the start of a statement can be assigned"
                                     ).format(token=piece), start, end)
                    elif piece == "[":
                        raise fail(_("indexing with [...] after '{token}' is not supported: bpcalc computes "
                                     "with whole vectors and matrices").format(token=prev_text), start, end)
                    elif piece == "]":
                        raise fail(_("unmatched ']'"), start, end)
                    else:  # "("
                        raise fail(_("missing operator before '(' (after '{token}'); "
                                     "write {token}*(…) to multiply").format(token=prev_text), start, end)
                elif piece == "(":
                    push([_PAREN, None, 0, start, end, 0, None, False])
                    depth += 1
                    if depth > max_depth:
                        raise fail(_too_deep(max_depth), start, end, "limit")
                elif piece == "[":
                    from .literal import LiteralReader

                    if first:
                        first = False
                        stmt_start = start
                    literal = LiteralReader(source, start, end)
                    continue
                elif piece == "-" or piece == "+":
                    push([_UN, "neg" if piece == "-" else "pos", PREC_UNARY, start, end, 0, None, False])
                    if len(stack) > max_depth:
                        raise fail(_("more than {limit} operators waiting for an operand").format(
                            limit=f"{max_depth:,}"), start, end, "limit")
                elif piece == ")":
                    if prev_text == "(" and stack and stack[-1][0] == _CALL and stack[-1][5] == 0:
                        top = stack[-1]
                        raise fail(_("{name}() needs {arguments}").format(
                            name=top[1], arguments=FUNCTIONS[top[1]].arguments()), top[3], end)
                    if prev_text == "(":
                        raise fail(_("empty parentheses '()'"), prev_start, end)
                    raise fail(_("expected an expression before ')' (after '{token}')").format(token=prev_text),
                               start, end)
                elif piece == "=":
                    raise fail(_("unexpected '='; '==' comparisons are not supported"), start, end)
                elif prev_kind == SEP:
                    raise fail(_("a statement cannot start with '{token}'").format(token=piece), start, end)
                else:
                    raise fail(_("expected an expression after '{token}', got '{got}'").format(
                        token=prev_text, got=piece), start, end)
            elif kind == ATTR:
                if pending is not None:
                    keyword_check(pending, pending_start, pending_end)
                    emit(("name", pending, pending_start, pending_end))
                    pending = None
                    expect = False
                if piece != ".T":
                    raise fail(_("'{token}' is not part of the bpcalc language: the only attribute is .T "
                                 "(the transpose)").format(token=piece), start, end)
                if expect:
                    raise fail(_("'.T' needs a vector or matrix before it, as in W.T"), start, end)
                emit(("op", "transpose", start, end))
            elif kind == SEP:
                if depth > 0:
                    if piece == ";":
                        raise fail(_("';' inside parentheses"), start, end)
                    continue  # a newline inside parentheses is a space
                if pending is not None:
                    keyword_check(pending, pending_start, pending_end)
                    emit(("name", pending, pending_start, pending_end))
                    pending = None
                    expect = False
                if not first:
                    count += 1
                    yield end_of_statement()
                    out.clear()
                    target = augment = None
                    first = True
                    expect = True
            else:  # WS: a comment or other spaces
                continue
            prev_kind = kind
            prev_text = piece
            prev_start = start
            prev_end = end
    # -- end of text: finish the last statement --
    if literal is not None:
        raise fail(_("'[' is never closed"), literal.start, literal.start + 1)
    if pending is not None:
        keyword_check(pending, pending_start, pending_end)
        emit(("name", pending, pending_start, pending_end))
        expect = False
    if not first:
        count += 1
        yield end_of_statement()
    if count == 0:
        raise BpcalcError("parse", _("empty program: write an expression such as (x+y)*z"))


def _python(name: str) -> str:
    return _("'{name}' is Python, not part of the bpcalc language").format(name=name)


def _keywords_last(keyword: str) -> str:
    return _("a positional argument after {keyword}=: keyword arguments come last").format(keyword=keyword)


def _too_deep(max_depth: int) -> str:
    return _("nesting deeper than {limit} levels").format(limit=f"{max_depth:,}")

