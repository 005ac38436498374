"""The time room's pure rules: billable and rate precedence tables, categories, amounts, the
tenant's weeks (an entry at 23:30 on Sunday in UTC-8) and invoice rounding (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from chalicelib.core.spreadsheet import cell, csv_text
from chalicelib.timekeeping import rules
from hypothesis import given
from hypothesis import strategies as st

# ---------- billable: task type, project, customer, tenant; manual; a non-billable customer wins ----------

BILLABLE_TABLE = [
    # task_type, project, customer, tenant, manual -> (billable, source)
    (None, None, None, True, None, (True, "tenant")),
    (None, None, None, False, None, (False, "tenant")),
    (None, None, True, False, None, (True, "customer")),
    (None, False, True, True, None, (False, "project")),
    (True, False, True, False, None, (True, "task_type")),
    (False, True, True, True, None, (False, "task_type")),
    (True, True, True, True, False, (False, "manual")),
    (None, None, None, False, True, (True, "manual")),
    (True, True, False, True, None, (False, "customer")),
    (True, True, False, True, True, (False, "customer")),  # a non-billable customer beats a manual choice
]


@pytest.mark.parametrize(("task_type", "project", "customer", "tenant", "manual", "expected"), BILLABLE_TABLE)
def test_the_most_specific_billable_rule_wins(task_type, project, customer, tenant, manual, expected):
    assert rules.decide_billable(task_type=task_type, project=project, customer=customer, tenant=tenant,
                                 manual=manual) == expected


flag = st.none() | st.booleans()


@given(flag, flag, flag, st.booleans(), flag)
def test_a_non_billable_customer_makes_every_entry_non_billable(task_type, project, customer, tenant, manual):
    billable, source = rules.decide_billable(task_type=task_type, project=project, customer=False, tenant=tenant,
                                             manual=manual)
    assert (billable, source) == (False, "customer")


# ---------- rates: user on project, project, user on customer, customer, user, tenant ----------

RULES = [
    {"amount": 100, "currency": "USD"},
    {"user_id": "u", "amount": 200, "currency": "USD"},
    {"customer_id": "c", "amount": 300, "currency": "USD"},
    {"user_id": "u", "customer_id": "c", "amount": 400, "currency": "USD"},
    {"project_id": "p", "amount": 500, "currency": "USD"},
    {"user_id": "u", "project_id": "p", "amount": 600, "currency": "USD"},
]
RATE_TABLE = [
    ("u", "c", "p", 6, 600, "user_project"),
    ("v", "c", "p", 6, 500, "project"),
    ("u", "c", None, 6, 400, "user_customer"),
    ("u", "c", "q", 6, 400, "user_customer"),
    ("v", "c", "q", 6, 300, "customer"),
    ("u", "d", "q", 6, 200, "user"),
    ("v", "d", None, 6, 100, "tenant"),
    ("v", "d", None, 0, 0, "tenant"),  # no rules at all: 0 in the tenant's currency
]


@pytest.mark.parametrize(("user", "customer", "project", "count", "amount", "source"), RATE_TABLE)
def test_the_most_specific_rate_wins(user, customer, project, count, amount, source):
    rate = rules.resolve_rate(RULES[:count], user_id=user, customer_id=customer, project_id=project,
                              default_currency="EUR")
    assert (rate.amount, rate.source) == (amount, source)
    assert rate.currency == ("USD" if count else "EUR")


@given(st.permutations(RULES))
def test_the_order_of_the_rules_does_not_matter(shuffled):
    rate = rules.resolve_rate(list(shuffled), user_id="u", customer_id="c", project_id="p", default_currency="USD")
    assert rate.source == "user_project"


# ---------- amounts and categories ----------

@given(st.integers(0, 24 * 60), st.integers(0, 10**7))
def test_amounts_are_exact_integers_half_up(minutes, rate):
    amount = rules.amount_of(minutes, rate)
    assert isinstance(amount, int)
    assert abs(amount * 60 - minutes * rate) <= 30  # within half a minor unit
    assert rules.amount_of(60, rate) == rate


def test_categories_follow_the_task_type_mapping_then_tickets_then_interaction_types():
    mapping = {"kickoff": "onboarding"}
    assert rules.suggest_category(task_type="kickoff", ticket=False, interaction_type=None, task_types=mapping,
                                  interaction_types={}) == "onboarding"
    assert rules.suggest_category(task_type="other", ticket=True, interaction_type=None, task_types=mapping,
                                  interaction_types={}) == "support"
    assert rules.suggest_category(task_type=None, ticket=False, interaction_type="meeting", task_types={},
                                  interaction_types={"meeting": "qbr"}) == "qbr"
    assert rules.suggest_category(task_type=None, ticket=False, interaction_type="renewal", task_types={},
                                  interaction_types={}) == "renewal"
    assert rules.suggest_category(task_type=None, ticket=False, interaction_type="chat", task_types={},
                                  interaction_types={}) == "internal"


# ---------- weeks in the tenant's timezone and week start ----------

def test_23_30_on_sunday_in_utc_minus_8_is_sunday_in_that_weeks_label():
    # 23:30 on Sunday 7 June 2026 at UTC-8 is 07:30Z on Monday 8 June
    day = rules.local_date("2026-06-08T07:30:00Z", "Etc/GMT+8")
    assert day == date(2026, 6, 7)
    assert rules.week_of(day, "monday") == "2026-W23"  # the ISO week it ends
    assert rules.week_of(day, "sunday") == "2026-W24"  # a Sunday week: it starts the next one
    assert rules.local_date("2026-06-08T07:30:00Z", "UTC") == date(2026, 6, 8)


@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)), st.sampled_from(rules.WEEKDAYS))
def test_every_day_lies_within_the_bounds_of_its_week_label(day, first):
    label = rules.week_of(day, first)
    start, end = rules.week_bounds(label, first)
    assert start <= day <= end and end - start == timedelta(days=6)
    assert start.strftime("%A").lower() == first


# ---------- invoice rounding (entries keep raw minutes) ----------

@given(st.integers(0, 10_000), st.sampled_from(rules.INCREMENTS))
def test_rounding_modes_land_on_the_increment_and_bracket_the_minutes(minutes, increment):
    up, down, nearest = (rules.round_minutes(minutes, increment, mode) for mode in ("up", "down", "nearest"))
    assert up % increment == down % increment == nearest % increment == 0
    assert down <= minutes <= up and up - down in (0, increment)
    assert nearest in (up, down) and abs(nearest - minutes) <= increment / 2


def test_rounding_table():
    assert [rules.round_minutes(m, 15, "up") for m in (0, 1, 15, 16)] == [0, 15, 15, 30]
    assert [rules.round_minutes(m, 15, "nearest") for m in (7, 8, 22, 23)] == [0, 15, 15, 30]
    assert [rules.round_minutes(m, 6, "down") for m in (5, 6, 13)] == [0, 6, 12]
    with pytest.raises(ValueError):
        rules.round_minutes(10, 7)


# ---------- CSV for Excel ----------

@given(st.text())
def test_no_cell_starts_like_a_formula(text):
    assert not cell(text).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_csv_has_a_bom_crlf_and_escaped_formulas():
    text = csv_text(["a", "b"], [["=1+1", -5], ["x,y", None]])
    assert text == '\ufeffa,b\r\n\'=1+1,-5\r\n"x,y",\r\n'
