#!/usr/bin/env python3
"""Counts what schemathesis's requests reached, from its HAR reports.

    python3 scripts/schemathesis_counts.py REPORT.har [REPORT.har ...]

Prints, for every operation (method and route), how many generated requests
got each status. Then, for the command operations, what schemathesis's
valid (positive) cases reached, apart from its deliberately invalid
(negative) ones (scripts/schemathesis_hooks.py marks each command case's
mode in an `X-Schemathesis-Mode` header): a 200 (applied) or a 422 (refused
by a rule of the record), a 403 that names the record's rule on who may act
(`role.not_permitted`, ...), a 409 (the record's command ids), or a 400
from the parser; with the fields the parser named and the rules the record
named most often. Exits 1 when no valid command got a 200 or a 422: the
typed schemas are then not reaching the rules.
"""

import collections
import json
import re
import sys
import urllib.parse

# Path segments that are ids, folded into their route's parameter.
ROUTES = [
    (re.compile(r"^/api/v1/clients/[^/]+/(.+)$"), r"/api/v1/clients/{id}/\1"),
    (re.compile(r"^/api/v1/reports/[^/]+$"), "/api/v1/reports/{name}"),
    (re.compile(r"^/api/v1/users/[^/]+/(.+)$"), r"/api/v1/users/{id}/\1"),
]


def route(url):
    path = urllib.parse.urlsplit(url).path
    for pattern, template in ROUTES:
        if pattern.match(path):
            return pattern.sub(template, path)
    return path


MODE_HEADER = "x-schemathesis-mode"


def error_of(response):
    """The error body's detail, or {}."""
    try:
        body = json.loads(response.get("content", {}).get("text") or "{}")
        detail = body.get("error", {})
        return detail if isinstance(detail, dict) else {}
    except (ValueError, AttributeError):
        return {}


def mode_of(request):
    for header in request.get("headers", []):
        if header.get("name", "").lower() == MODE_HEADER:
            return header.get("value")
    return "unmarked"


def top(counter, n=8):
    return ", ".join(f"{k} {v}" for k, v in counter.most_common(n)) or "none"


def main(paths):
    by_operation = collections.defaultdict(collections.Counter)
    by_mode = collections.defaultdict(collections.Counter)
    fields = collections.Counter()
    rules = collections.Counter()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            har = json.load(f)
        for entry in har.get("log", {}).get("entries", []):
            request, response = entry["request"], entry["response"]
            operation = f'{request["method"]} {route(request["url"])}'
            status = response.get("status", 0)
            by_operation[operation][status] += 1
            if not (request["method"] == "POST" and operation.endswith("/commands")):
                continue
            error = error_of(response)
            if status == 403 and error.get("rule"):
                by_operation[operation]["403 rule"] += 1
            mode = mode_of(request)
            by_mode[mode][status] += 1
            if status == 403 and error.get("rule"):
                by_mode[mode]["403 rule"] += 1
            if mode == "positive" and status == 400:
                fields[error.get("field") or error.get("code") or "?"] += 1
            if mode == "positive" and status in (403, 422) and error.get("rule"):
                rules[error["rule"]] += 1
    total = sum(sum(c.values()) for c in by_operation.values())
    print(f"schemathesis: {total} requests")
    for operation in sorted(by_operation):
        counts = by_operation[operation]
        statuses = ", ".join(
            f"{s}: {n}" for s, n in sorted(counts.items(), key=lambda kv: str(kv[0]))
        )
        print(f"  {operation}: {statuses}")
    valid, invalid = by_mode["positive"], by_mode["negative"]
    sent = sum(n for s, n in valid.items() if s != "403 rule")
    reached = valid[200] + valid[422]
    print(
        f"schemathesis: {reached} of {sent} valid (positive) command cases got a 200 or a 422 "
        f"({valid[200]} applied, {valid[422]} refused by a rule); "
        f"{valid['403 rule']} were refused by the record's rule on who may act (403), "
        f"{valid[409]} by its command ids (409), {valid[400]} by the parser (400)"
    )
    print(f"schemathesis:   the rules they reached: {top(rules)}")
    print(f"schemathesis:   the fields the parser refused: {top(fields)}")
    invalid_sent = sum(n for s, n in invalid.items() if s != "403 rule")
    print(
        f"schemathesis: of {invalid_sent} invalid (negative) command cases, "
        f"{invalid[400]} were refused by the parser (400), {invalid[200]} applied, "
        f"{invalid[422]} refused by a rule (422)"
    )
    unmarked = sum(n for s, n in by_mode["unmarked"].items() if s != "403 rule")
    if unmarked:
        print(f"schemathesis: {unmarked} command requests carried no mode (stateful phase or no hooks)")
    return 0 if reached > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
