"""Answer patterns that cannot hang the server: a small regular-expression dialect, checked when
the form is saved and run by its own matcher in time linear in the answer's length.

The dialect: literals, `.`, escapes `\\d \\D \\w \\W \\s \\S` and escaped punctuation, classes
`[a-z0-9_]` / `[^...]`, groups `(...)` / `(?:...)`, alternation `|`, quantifiers `? * + {m}
{m,} {m,n}` (m, n ≤ MAX_COUNT), an optional leading `^` and trailing `$` (a pattern always
matches the whole answer). Refused at save time, with the reason: backreferences, lookaround
and every other `(?` construct, lazy or possessive quantifiers, a quantifier on a group that
itself contains a quantifier (nested quantifiers; an optional `(...)?` may), patterns longer than MAX_PATTERN_LENGTH or
compiling to more than MAX_PROGRAM instructions.

Matching never backtracks: the compiled program (Thompson's construction) is simulated with a set
of threads (at most one per instruction), so the work is O(len(answer) * len(program)) whatever
the pattern; answers longer than MAX_INPUT are refused before matching."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

MAX_PATTERN_LENGTH = 200
MAX_COUNT = 50
MAX_PROGRAM = 600
MAX_INPUT = 1000

Predicate = Callable[[str], bool]


class PatternError(ValueError):
    """The pattern is outside the dialect (the message says where and why)."""


# ---------- parse: pattern text → a small tree ----------

@dataclass(frozen=True)
class Char:
    test: Predicate


@dataclass(frozen=True)
class Seq:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Alt:
    options: tuple[Node, ...]


@dataclass(frozen=True)
class Repeat:
    body: Node
    low: int
    high: int | None  # None: unbounded


Node = Char | Seq | Alt | Repeat

_ESCAPES: dict[str, Predicate] = {
    "d": lambda c: c.isascii() and c.isdigit(),
    "w": lambda c: c.isascii() and (c.isalnum() or c == "_"),
    "s": lambda c: c in " \t\r\n\f\v",
}
_PUNCTUATION = set(r"\.^$|?*+()[]{}-/ #&~%!,:;<=>@'\"`_")


def _escape(char: str, where: int) -> Predicate:
    if char.lower() in _ESCAPES:
        test = _ESCAPES[char.lower()]
        return test if char.islower() else (lambda c: not test(c))
    if char.isdigit():
        raise PatternError(f"backreference \\{char} at {where} is not allowed")
    if char in _PUNCTUATION:
        return lambda c: c == char
    raise PatternError(f"escape \\{char} at {where} is not supported")


def _has_quantifier(node: Node) -> bool:
    if isinstance(node, Repeat):
        return True
    if isinstance(node, Seq):
        return any(_has_quantifier(part) for part in node.parts)
    if isinstance(node, Alt):
        return any(_has_quantifier(option) for option in node.options)
    return False


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.at = text, 0

    def peek(self) -> str | None:
        return self.text[self.at] if self.at < len(self.text) else None

    def take(self) -> str:
        char = self.text[self.at]
        self.at += 1
        return char

    def alternation(self) -> Node:
        options = [self.sequence()]
        while self.peek() == "|":
            self.take()
            options.append(self.sequence())
        return options[0] if len(options) == 1 else Alt(tuple(options))

    def sequence(self) -> Node:
        parts: list[Node] = []
        while self.peek() not in (None, "|", ")"):
            parts.append(self.quantified())
        return parts[0] if len(parts) == 1 else Seq(tuple(parts))

    def quantified(self) -> Node:
        where = self.at
        atom = self.atom()
        bounds = self.quantifier()
        if bounds is None:
            return atom
        if self.peek() in ("?", "+", "*", "{"):
            raise PatternError(f"a quantifier at {self.at} follows another (lazy, possessive or nested)")
        if bounds[1] != 1 and _has_quantifier(atom):  # an optional group `(...)?` may hold one
            raise PatternError(f"nested quantifiers: the group at {where} repeats something that already repeats")
        return Repeat(atom, *bounds)

    def quantifier(self) -> tuple[int, int | None] | None:
        char = self.peek()
        if char in ("?", "*", "+"):
            self.take()
            return {"?": (0, 1), "*": (0, None), "+": (1, None)}[char]
        if char != "{":
            return None
        where = self.at
        close = self.text.find("}", self.at)
        if close < 0:
            raise PatternError(f"unclosed {{ at {where}")
        body, self.at = self.text[self.at + 1:close], close + 1
        low_text, comma, high_text = body.partition(",")
        if not low_text.isdigit() or (high_text and not high_text.isdigit()):
            raise PatternError(f"bad repetition {{{body}}} at {where}")
        low = int(low_text)
        high = int(high_text) if high_text else (None if comma else low)
        if low > MAX_COUNT or (high is not None and (high > MAX_COUNT or high < low)):
            raise PatternError(f"repetition {{{body}}} at {where}: counts go from 0 to {MAX_COUNT}, low ≤ high")
        return low, high

    def atom(self) -> Node:
        where, char = self.at, self.take()
        if char == "(":
            if self.peek() == "?":
                if self.text[self.at:self.at + 2] != "?:":
                    raise PatternError(f"group construct (? at {where} is not allowed (lookaround, named, flags)")
                self.at += 2
            inner = self.alternation()
            if self.peek() != ")":
                raise PatternError(f"unclosed group at {where}")
            self.take()
            return inner
        if char == "[":
            return Char(self.char_class(where))
        if char == "\\":
            if self.peek() is None:
                raise PatternError("the pattern ends with a lone backslash")
            return Char(_escape(self.take(), where))
        if char == ".":
            return Char(lambda c: c != "\n")
        if char in "?*+{":
            raise PatternError(f"quantifier {char} at {where} has nothing to repeat")
        if char in "^$":
            raise PatternError(f"{char} at {where}: anchors are allowed only at the very start and end")
        return Char(lambda c: c == char)

    def char_class(self, where: int) -> Predicate:
        negated = self.peek() == "^"
        if negated:
            self.take()
        tests: list[Predicate] = []
        first = True
        while True:
            char = self.peek()
            if char is None:
                raise PatternError(f"unclosed [ at {where}")
            if char == "]" and not first:
                self.take()
                break
            first = False
            low = self.class_char()
            if self.peek() == "-" and self.text[self.at + 1:self.at + 2] not in ("]", ""):
                self.take()
                high = self.class_char()
                if not (isinstance(low, str) and isinstance(high, str)) or low > high:
                    raise PatternError(f"bad range in the class at {where}")
                tests.append(lambda c, lo=low, hi=high: lo <= c <= hi)
            elif isinstance(low, str):
                tests.append(lambda c, one=low: c == one)
            else:
                tests.append(low)
        return (lambda c: not any(t(c) for t in tests)) if negated else (lambda c: any(t(c) for t in tests))

    def class_char(self) -> str | Predicate:
        char = self.take()
        if char != "\\":
            return char
        if self.peek() is None:
            raise PatternError("unclosed class")
        escaped = self.take()
        if escaped.lower() in _ESCAPES:
            return _escape(escaped, self.at - 2)
        if escaped in _PUNCTUATION:
            return escaped
        raise PatternError(f"escape \\{escaped} at {self.at - 2} is not supported")


# ---------- compile: tree → program (Thompson) ----------
# Instructions: ("char", test) · ("split", a, b) · ("jmp", a) · ("match",)

Program = tuple[tuple, ...]


def _emit(node: Node, program: list[tuple]) -> None:
    if len(program) > MAX_PROGRAM:
        raise PatternError(f"the pattern is too large (more than {MAX_PROGRAM} steps once repetitions are counted)")
    if isinstance(node, Char):
        program.append(("char", node.test))
    elif isinstance(node, Seq):
        for part in node.parts:
            _emit(part, program)
    elif isinstance(node, Alt):
        jumps = []
        for index, option in enumerate(node.options):
            if index < len(node.options) - 1:
                split = len(program)
                program.append(None)  # type: ignore[arg-type]
                _emit(option, program)
                jumps.append(len(program))
                program.append(None)  # type: ignore[arg-type]
                program[split] = ("split", split + 1, len(program))
            else:
                _emit(option, program)
        for jump in jumps:
            program[jump] = ("jmp", len(program))
    else:
        _emit_repeat(node, program)


def _emit_repeat(node: Repeat, program: list[tuple]) -> None:
    for _ in range(node.low):
        _emit(node.body, program)
    if node.high is None:
        split = len(program)
        program.append(None)  # type: ignore[arg-type]
        _emit(node.body, program)
        program.append(("jmp", split))
        program[split] = ("split", split + 1, len(program))
        return
    holes = []
    for _ in range(node.high - node.low):
        holes.append(len(program))
        program.append(None)  # type: ignore[arg-type]
        _emit(node.body, program)
    for hole in holes:
        program[hole] = ("split", hole + 1, len(program))


@lru_cache(maxsize=512)
def compile_pattern(text: str) -> Program:
    """The pattern's program; PatternError when it is outside the dialect."""
    if not isinstance(text, str) or not text:
        raise PatternError("the pattern is empty")
    if len(text) > MAX_PATTERN_LENGTH:
        raise PatternError(f"the pattern is longer than {MAX_PATTERN_LENGTH} characters")
    body = text[1:] if text.startswith("^") else text
    if body.endswith("$") and not body.endswith("\\$"):
        body = body[:-1]
    parser = _Parser(body)
    tree = parser.alternation()
    if parser.peek() is not None:
        raise PatternError(f"unbalanced ) at {parser.at}")
    program: list[tuple] = []
    _emit(tree, program)
    program.append(("match",))
    if len(program) > MAX_PROGRAM:
        raise PatternError(f"the pattern is too large (more than {MAX_PROGRAM} steps once repetitions are counted)")
    return tuple(program)


def _closure(program: Program, start: int, into: set[int]) -> None:
    stack = [start]
    while stack:
        pc = stack.pop()
        if pc in into:
            continue
        into.add(pc)
        op = program[pc]
        if op[0] == "jmp":
            stack.append(op[1])
        elif op[0] == "split":
            stack.extend((op[2], op[1]))


def full_match(text: str, value: str) -> bool:
    """Whether `value` matches the whole pattern `text` (already accepted by compile_pattern)."""
    if len(value) > MAX_INPUT:
        raise PatternError(f"answers checked against a pattern are at most {MAX_INPUT} characters")
    program = compile_pattern(text)
    current: set[int] = set()
    _closure(program, 0, current)
    for char in value:
        following: set[int] = set()
        for pc in current:
            op = program[pc]
            if op[0] == "char" and op[1](char):
                _closure(program, pc + 1, following)
        if not following:
            return False
        current = following
    return any(program[pc][0] == "match" for pc in current)
