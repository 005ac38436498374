"""`make fuzz`'s summary: what the long schemathesis campaign found, read from its JUnit report —
one block per failing operation and role: the checks that broke, the status received and
the request that reproduces it."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

_CHECK = re.compile(r"- (ST\d+ [^\n]+)")
_SEED = re.compile(r"BLUEHILL_FUZZ_SEED=(\d+)")
_RECEIVED = re.compile(r"Received: ([^\n]+)")
_CURL = re.compile(r"(curl -X [^\n]+)")


def findings(report: Path) -> list[dict[str, str]]:
    found = []
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        if failure is None:
            continue
        text = "\n".join(filter(None, [failure.get("message"), failure.text]))
        name = case.get("name", "")
        found.append({
            "case": name[name.find("[") + 1:name.rfind("]")] or name,
            "checks": "; ".join(dict.fromkeys(_CHECK.findall(text))) or text.strip().splitlines()[0][:200],
            "received": next(iter(_RECEIVED.findall(text)), "?"),
            "seed": next(iter(_SEED.findall(text)), "?"),
            "curl": next(iter(_CURL.findall(text)), ""),
        })
    return found


def main(argv: list[str]) -> int:
    report = Path(argv[1] if len(argv) > 1 else ".fuzz/report.xml")
    if not report.exists():
        print(f"no report at {report}: the campaign did not run")
        return 1
    root = ElementTree.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    ran = sum(int(suite.get("tests", 0)) for suite in suites)
    found = findings(report)
    print(f"\nfuzz campaign: {ran} runs (operation, role, mode), {len(found)} broke the OpenAPI document")
    for item in found:
        print(f"\n* {item['case']}  (received {item['received']}, seed {item['seed']})\n  {item['checks']}")
        if item["curl"]:
            print(f"  {item['curl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
