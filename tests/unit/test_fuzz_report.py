"""`make fuzz` prints what its campaign found: each failing operation and role with the checks
that broke, the status received, the seed to replay and the request that reproduces it."""

from __future__ import annotations

from pathlib import Path

from bluehill_dev.fuzz_report import findings, main

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3" failures="1">
<testcase classname="tests.api.test_openapi" name="test_generated[GET /customers owner positive]"/>
<testcase classname="tests.api.test_openapi" name="test_generated[POST /tasks member positive]">
<failure message="AssertionError: POST /tasks as member (positive; BLUEHILL_FUZZ_SEED=42 BLUEHILL_FUZZ_EXAMPLES=9)">
Schemathesis found 2 distinct failures

- ST103 Undocumented status code

    Received: 405
    Documented: 201, 400

- ST301 Response violates schema

    curl -X POST -d '{"title": "x"}' http://bluehill.test/tasks
</failure></testcase>
<testcase classname="tests.api.test_openapi" name="test_generated[GET /me portal positive]"/>
</testsuite></testsuites>"""


def test_each_failing_run_is_reported_with_its_checks_status_seed_and_request(tmp_path: Path, capsys) -> None:
    report = tmp_path / "report.xml"
    report.write_text(REPORT)
    assert findings(report) == [{
        "case": "POST /tasks member positive", "received": "405", "seed": "42",
        "checks": "ST103 Undocumented status code; ST301 Response violates schema",
        "curl": "curl -X POST -d '{\"title\": \"x\"}' http://bluehill.test/tasks",
    }]
    assert main(["fuzz_report", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "3 runs (operation, role, mode), 1 broke the OpenAPI document" in printed
    assert "POST /tasks member positive" in printed and "curl -X POST" in printed


def test_a_missing_report_says_the_campaign_did_not_run(tmp_path: Path, capsys) -> None:
    assert main(["fuzz_report", str(tmp_path / "absent.xml")]) == 1
    assert "did not run" in capsys.readouterr().out
