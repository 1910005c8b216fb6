"""OData ``$filter`` on submission metadata, compiled to a SQLAlchemy condition.

Supports what Central supports on the Submissions table, minus functions:
``__id`` and ``__system/{submissionDate,updatedAt,submitterId,reviewState,deletedAt}``
compared (eq ne lt le gt ge) with literals (``'text'``, numbers, ``null``, ISO dates
such as ``2026-01-01`` or ``2026-01-01T08:00:00Z``), combined with and/or/not and
parentheses. Unknown syntax is 400.18; functions are 501.4; other fields are 501.5.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from dataclasses import dataclass

import sqlalchemy as sa

from server import problem
from server.models import Submission

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<str>'(?:[^']|'')*')"
    r"|(?P<dt>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)"
    r"|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<lp>\()|(?P<rp>\))"
    r"|(?P<word>[A-Za-z_$][A-Za-z0-9_/$]*)"
    r")"
)
_OPS = {"eq", "ne", "lt", "le", "gt", "ge"}
_SWAP = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
_FIELDS: dict[str, tuple[t.Any, str]] = {
    "__id": (Submission.instance_id, "text"),
    "__system/submissionDate": (Submission.created_at, "datetime"),
    "__system/updatedAt": (Submission.updated_at, "datetime"),
    "__system/submitterId": (Submission.submitter_id, "int"),
    "__system/reviewState": (Submission.review_state, "review"),
    "__system/deletedAt": (Submission.deleted_at, "datetime"),
}
_NULL = object()


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    at: int


def _tokens(source: str) -> list[_Tok]:
    tokens, pos = [], 0
    while pos < len(source):
        if not source[pos:].strip():
            break
        match = _TOKEN.match(source, pos)
        if match is None or match.end() == pos:
            raise problem.unparseable_odata(f"unexpected text at {pos}")
        kind = match.lastgroup or ""
        tokens.append(_Tok(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise problem.unparseable_odata("the expression ended early")
        self.i += 1
        return tok

    def word(self, *words: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text in words:
            self.i += 1
            return True
        return False

    def parse(self) -> t.Any:
        expr = self.or_expr()
        if self.peek() is not None:
            tok = self.take()
            raise problem.unparseable_odata(f"unexpected {tok.text!r} at {tok.at}")
        return expr

    def or_expr(self) -> t.Any:
        parts = [self.and_expr()]
        while self.word("or"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else sa.or_(*parts)

    def and_expr(self) -> t.Any:
        parts = [self.unary()]
        while self.word("and"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else sa.and_(*parts)

    def unary(self) -> t.Any:
        if self.word("not"):
            return sa.not_(self.unary())
        tok = self.peek()
        if tok is not None and tok.kind == "lp":
            self.take()
            expr = self.or_expr()
            if self.take().kind != "rp":
                raise problem.unparseable_odata("missing ')'")
            return expr
        return self.comparison()

    def operand(self) -> tuple[str, t.Any, _Tok]:
        tok = self.take()
        nxt = self.peek()
        if tok.kind == "word" and nxt is not None and nxt.kind == "lp":
            raise problem.unsupported_odata_expression(tok.at, tok.text)
        if tok.kind == "word" and tok.text == "null":
            return "literal", _NULL, tok
        if tok.kind == "word" and tok.text not in _OPS | {"and", "or", "not"}:
            if tok.text not in _FIELDS:
                raise problem.unsupported_odata_field(tok.at, tok.text)
            return "field", tok.text, tok
        if tok.kind in ("str", "num", "dt"):
            return "literal", tok, tok
        raise problem.unparseable_odata(f"unexpected {tok.text!r} at {tok.at}")

    def comparison(self) -> t.Any:
        left = self.operand()
        op_tok = self.take()
        if op_tok.kind != "word" or op_tok.text not in _OPS:
            raise problem.unparseable_odata(f"expected an operator at {op_tok.at}")
        right = self.operand()
        op = op_tok.text
        if left[0] == "literal" and right[0] == "field":
            left, right, op = right, left, _SWAP[op]
        if left[0] != "field" or right[0] != "literal":
            raise problem.unsupported_odata_expression(op_tok.at, op)
        return _compare(left[1], op, right[1])


def _literal(kind: str, tok: _Tok) -> t.Any:
    if kind == "datetime":
        text = tok.text.strip("'")
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as err:
            raise problem.unparseable_odata(
                f"{tok.text} is not a date at {tok.at}"
            ) from err
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    if kind == "int":
        try:
            return int(tok.text.strip("'"))
        except ValueError as err:
            raise problem.unparseable_odata(
                f"{tok.text} is not a number at {tok.at}"
            ) from err
    if tok.kind != "str":
        raise problem.unparseable_odata(f"expected a quoted string at {tok.at}")
    text = tok.text[1:-1].replace("''", "'")
    return "received" if kind == "review" and text == "received" else text


def _compare(name: str, op: str, literal: t.Any) -> t.Any:
    column, kind = _FIELDS[name]
    if literal is _NULL:
        if kind == "review":  # Central's null review state is stored as "received"
            return (column == "received") if op == "eq" else (column != "received")
        if op == "eq":
            return column.is_(None)
        if op == "ne":
            return column.is_not(None)
        raise problem.unparseable_odata(f"null cannot be compared with {op}")
    value = _literal(kind, literal)
    return {
        "eq": column == value,
        "ne": column != value,
        "lt": column < value,
        "le": column <= value,
        "gt": column > value,
        "ge": column >= value,
    }[op]


def compile_filter(source: str) -> tuple[t.Any, bool]:
    """(SQL condition, whether it mentions deletedAt) for a ``$filter`` expression."""
    condition = _Parser(source).parse()
    return condition, "__system/deletedAt" in source
