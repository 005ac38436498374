"""The forms room's pure rules: each field type's answer check (positive and negative), the
pattern dialect (linear-time matching, catastrophic patterns refused at save), and the
conditional logic with nested groups."""

from __future__ import annotations

import contextlib
import re
import time

import pytest
from chalicelib.forms import fields, logic, patterns
from chalicelib.forms.fields import AnswerError, FieldDef, check_answer, check_answers
from hypothesis import given, settings
from hypothesis import strategies as st


def f(kind: str, **more):
    return FieldDef.model_validate({"key": "k", "type": kind, "label": "L", **more}).model_dump(mode="json")


FILE = {"file_id": "01jzfile", "name": "a.pdf", "content_type": "application/pdf", "size": 1000}

# field → (a good answer and what is stored, bad answers)
CASES = {
    "short_text": (f("short_text", max_length=5, min_length=2), ("abc", "abc"), ["a", "abcdef", 3, "a\nb"]),
    "long_text": (f("long_text", max_length=20), ("line\nline", "line\nline"), ["x" * 21, ["x"]]),
    "email": (f("email"), ("a@b.example", "a@b.example"), ["a@", "no at", "a b@c.de"]),
    "phone": (f("phone"), ("+1 (555) 010-0000", "+1 (555) 010-0000"), ["12", "call me", "+1-555-abcd"]),
    "url": (f("url"), ("https://acme.example/x", "https://acme.example/x"), ["ftp://x.y", "acme.example", "http://"]),
    "number": (f("number", min_value=1, max_value=10), (2.5, 2.5), [0, 11, "3", True, float("nan")]),
    "currency": (f("currency", currency="USD", min_value=0), ({"amount": 1999, "currency": "USD"},
                                                              {"amount": 1999, "currency": "USD"}),
                 [{"amount": 19.99, "currency": "USD"}, {"amount": 1, "currency": "EUR"}, {"amount": -1,
                                                                                           "currency": "USD"}, 5]),
    "date": (f("date", min_date="2026-01-01"), ("2026-02-28", "2026-02-28"), ["2026-02-30", "2025-12-31", "28/02"]),
    "date_range": (f("date_range"), ({"start": "2026-01-01", "end": "2026-01-02"},
                                     {"start": "2026-01-01", "end": "2026-01-02"}),
                   [{"start": "2026-01-02", "end": "2026-01-01"}, {"start": "2026-01-01"}]),
    "time": (f("time"), ("09:30", "09:30"), ["24:00", "9:30", "09:30:00"]),
    "dropdown": (f("dropdown", options=["A", "B"]), ("A", "A"), ["C", ["A"]]),
    "radio": (f("radio", options=["A", "B"]), ("B", "B"), ["b", 1]),
    "multi_select": (f("multi_select", options=["A", "B", "C"], max_choices=2), (["A", "C"], ["A", "C"]),
                     [["A", "B", "C"], ["A", "A"], ["D"], "A"]),
    "checkboxes": (f("checkboxes", options=["A", "B"], min_choices=1), (["B"], ["B"]), [["Z"], "B"]),
    "yes_no": (f("yes_no"), (False, False), ["no", 0]),
    "rating": (f("rating"), (5, 5), [0, 6, 4.5]),
    "linear_scale": (f("linear_scale", min_value=0, max_value=10), (0, 0), [11, -1, "5"]),
    "nps": (f("nps"), (10, 10), [11, -1, True]),
    "csat": (f("csat"), (1, 1), [0, 6]),
    "ces": (f("ces"), (7, 7), [0, 8]),
    "file_upload": (f("file_upload", accept=["application/pdf", "image/*"], max_size_bytes=5000, max_files=2),
                    ([FILE], [FILE]),
                    [[{**FILE, "content_type": "application/zip"}], [{**FILE, "size": 6000}], [FILE, FILE, FILE],
                     [{"file_id": "../etc", "content_type": "image/png", "size": 1}], "01jzfile"]),
    "address": (f("address"), ({"line1": "1 Main St", "city": "Springfield", "country": "US"},
                               {"line1": "1 Main St", "city": "Springfield", "country": "US"}),
                [{"line1": "1 Main St", "country": "US"}, {"line1": "x", "city": "y", "country": "USA"},
                 {"line1": "x", "city": "y", "country": "US", "planet": "Earth"}]),
    "signature": (f("signature"), ({"full_name": "Ada Lovelace", "consent": True},
                                   {"full_name": "Ada Lovelace", "consent": True}),
                  [{"full_name": "Ada", "consent": False}, {"full_name": "A", "consent": True}, "Ada"]),
    "consent": (f("consent", required=True), (True, True), [False, "yes"]),
    "section": (f("section", text="Intro"), None, ["anything"]),
    "hidden": (f("hidden", pattern=r"[a-z\-]+"), ("spring-campaign", "spring-campaign"), ["UPPER", 1]),
}


def test_every_field_type_has_a_case():
    assert set(CASES) == set(fields.FIELD_TYPES) and len(fields.FIELD_TYPES) >= 26


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_field_type_takes_a_good_answer_and_refuses_bad_ones(kind):
    field, good, bad = CASES[kind]
    if good is not None:
        assert check_answer(field, good[0]) == good[1]
    for answer in bad:
        with pytest.raises(AnswerError):
            check_answer(field, answer)


@pytest.mark.parametrize("definition", [
    {"type": "dropdown"},  # no options
    {"type": "short_text", "options": ["A"]},
    {"type": "number", "pattern": "a"},
    {"type": "short_text", "pattern": "(a+)+$"},
    {"type": "short_text", "max_length": 501},
    {"type": "number", "min_value": 5, "max_value": 1},
    {"type": "linear_scale", "max_value": 11},
    {"type": "file_upload", "accept": ["pdf"]},
    {"type": "section", "required": True},
    {"type": "nps", "min_value": 3},
])
def test_field_definitions_are_checked_when_saved(definition):
    with pytest.raises(ValueError):
        FieldDef.model_validate({"key": "k", "label": "L", **definition})


# ---------- patterns ----------

@pytest.mark.parametrize("pattern", [
    "(a+)+$", "(a*)*b", "(x+x+)+y", "((ab)*)+", "(?:[0-9]{2}:){0,5}", r"(a)\1", "(?=a)a", "(?!a)b", "(?<=a)b",
    "(?P<n>a)", "a+?", "a*+", "a{1,51}", "x" * 201, r"\bword", "(", "[a", "a)", "*a",
])
def test_catastrophic_or_unsupported_patterns_are_refused_at_save(pattern):
    with pytest.raises(patterns.PatternError):
        patterns.compile_pattern(pattern)


def test_matching_is_linear_even_where_a_backtracking_engine_would_take_forever():
    # Each allowed on its own terms (no nested quantifier), yet exponential or polynomial for
    # a backtracking engine on a near-miss: our matcher answers in milliseconds.
    for pattern, answer in ((r"(?:a|aa)*b", "a" * 1000), (r"\d*\d*\d*\d*\d*\d*x", "1" * 1000),
                            (r"(?:\w|\d)*!", "1" * 1000)):
        started = time.perf_counter()
        assert patterns.full_match(pattern, answer) is False
        assert time.perf_counter() - started < 1.0
    with pytest.raises(patterns.PatternError):
        patterns.full_match("a*", "a" * (patterns.MAX_INPUT + 1))


SAFE = [r"[A-Z]{2}-\d{4}", r"\d+(\.\d{1,2})?", r"(?:ab|cd)*e?", r"[^@\s]+@[^@\s]+\.[a-z]{2,6}", r"a.c", r"x|yz|",
        r"[a\-z]+", r"\w\W\s\S\D", r"colou?r", r"(?:[0-9a-f][0-9a-f]:){0,5}[0-9a-f]{2}"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SAFE), st.text(alphabet="abcdexyz0129AZ-.@:_ !\t", max_size=20))
def test_the_dialect_agrees_with_pythons_re_on_safe_patterns(pattern, answer):
    assert patterns.full_match(pattern, answer) == (re.fullmatch(pattern, answer) is not None)


@given(st.text(max_size=60))
def test_any_pattern_text_is_either_refused_or_compiled_never_a_crash(text):
    with contextlib.suppress(patterns.PatternError):
        patterns.compile_pattern(text)


# ---------- logic ----------

# A is shown when: x = "yes" and (B > 3 or C is empty)
SHOW_A = {"all": [{"field": "x", "op": "equals", "value": "yes"},
                  {"any": [{"field": "b", "op": "gt", "value": 3}, {"field": "c", "op": "is_empty"}]}]}
FORM = [{"key": "x", "type": "radio", "label": "X", "options": ["yes", "no"]},
        {"key": "b", "type": "number", "label": "B"},
        {"key": "c", "type": "short_text", "label": "C"},
        {"key": "a", "type": "short_text", "label": "A", "required": True, "show_if": SHOW_A}]


@pytest.mark.parametrize(("answers", "shown"), [
    ({"x": "yes", "b": 4, "c": "filled"}, True),
    ({"x": "yes", "b": 2}, True),  # C empty
    ({"x": "yes", "b": 2, "c": "filled"}, False),
    ({"x": "no", "b": 9}, False),
    ({"b": 9}, False),
    ({"x": "yes", "c": "filled"}, False),  # B unanswered is not > 3
])
def test_nested_groups_decide_visibility_and_the_server_enforces_them(answers, shown):
    assert logic.evaluate(SHOW_A, answers) is shown
    stored, _problems = check_answers(FORM, {**answers, "a": "kept?"})
    assert ("a" in stored) is shown
    missing = check_answers(FORM, answers)[1]
    assert (("a", "is required") in missing) is shown


def test_a_hidden_section_hides_its_fields_and_later_logic_sees_them_empty():
    form = [{"key": "kind", "type": "radio", "label": "K", "options": ["person", "company"]},
            {"key": "company_section", "type": "section", "label": "Company",
             "show_if": {"field": "kind", "op": "equals", "value": "company"}},
            {"key": "vat", "type": "short_text", "label": "VAT", "required": True},
            {"key": "more", "type": "section", "label": "More"},  # a new section: shown again
            {"key": "why", "type": "short_text", "label": "Why no VAT?",
             "require_if": {"field": "vat", "op": "is_empty"}}]
    stored, problems = check_answers(form, {"kind": "person", "vat": "dropped"})
    assert "vat" not in stored and problems == [("why", "is required")]
    assert check_answers(form, {"kind": "company", "vat": "DE1"})[1] == []


@pytest.mark.parametrize(("op", "answer", "value", "expected"), [
    ("equals", "a", "a", True), ("not_equals", "a", "b", True), ("not_equals", None, "b", True),
    ("in", "a", ["a", "b"], True), ("in", "c", ["a", "b"], False), ("contains", ["x", "y"], "y", True),
    ("contains", "Hello World", "world", True), ("gt", 5, 3, True), ("lt", 5, 3, False),
    ("gt", "2026-02-01", "2026-01-31", True), ("lt", {"amount": 100, "currency": "USD"}, 200, True),
    ("is_answered", [], None, False), ("is_empty", "", None, True), ("gt", "abc", 3, False),
])
def test_each_operator(op, answer, value, expected):
    assert logic.evaluate({"field": "q", "op": op, "value": value}, {"q": answer}) is expected


@pytest.mark.parametrize(("condition", "problem"), [
    ({"field": "later", "op": "is_answered"}, "before this one"),
    ({"all": []}, "one or more"),
    ({"field": "x", "op": "matches", "value": 1}, "op must be"),
    ({"field": "x", "op": "in", "value": "a"}, "list"),
    ({"field": "x", "op": "is_empty", "value": 1}, "takes no value"),
    ({"any": [{"any": [{"any": [{"any": [{"any": [{"field": "x", "op": "is_empty"}]}]}]}]}]}, "nest"),
])
def test_bad_conditions_are_explained(condition, problem):
    assert problem in (logic.check_condition(condition, ["x"]) or "")


leaf = st.fixed_dictionaries({"field": st.sampled_from(["p", "q"]), "op": st.sampled_from(["is_answered", "is_empty"])})
trees = st.recursive(leaf, lambda inner: st.one_of(st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1,
                                                                                                max_size=3)),
                                                   st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1,
                                                                                                max_size=3))),
                     max_leaves=8)


def _naive(tree, answers):
    if "all" in tree:
        return all(_naive(t, answers) for t in tree["all"])
    if "any" in tree:
        return any(_naive(t, answers) for t in tree["any"])
    answered = answers.get(tree["field"]) not in (None, "", [], {})
    return answered if tree["op"] == "is_answered" else not answered


@given(trees, st.fixed_dictionaries({}, optional={"p": st.sampled_from(["", "v", None]),
                                                  "q": st.sampled_from([[], ["v"], None])}))
def test_groups_are_and_and_or_of_their_parts(tree, answers):
    assert logic.evaluate(tree, answers) is _naive(tree, answers)


@given(trees)
def test_a_condition_never_shows_a_field_whose_logic_names_a_later_field(tree):
    assert logic.check_condition(tree, ["p"]) in (None,) or "before this one" in logic.check_condition(tree, ["p"])
