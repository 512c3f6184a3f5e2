#!/usr/bin/env python3
"""Counts what schemathesis's requests reached, from its HAR reports.

    python3 scripts/schemathesis_counts.py REPORT.har [REPORT.har ...]

Prints, for every operation (method and route), how many generated requests
got each status, then the number of command requests that reached the
domain's rules: a 200 (applied), a 422 (refused by a rule of the record) or
a 403 that names the record's rule (`role.not_permitted`, ...: the record
decides who may act), as opposed to a 400 (refused by the parser; most of
them are schemathesis's deliberately invalid cases). Exits 1 when no report
holds a single such command: the typed schemas are then not reaching the
rules.
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


def has_rule(response):
    """A refusal that names the record's rule (the body's error.rule)."""
    try:
        body = json.loads(response.get("content", {}).get("text") or "{}")
        return bool(body.get("error", {}).get("rule"))
    except (ValueError, AttributeError):
        return False


def main(paths):
    by_operation = collections.defaultdict(collections.Counter)
    for path in paths:
        with open(path, encoding="utf-8") as f:
            har = json.load(f)
        for entry in har.get("log", {}).get("entries", []):
            request, response = entry["request"], entry["response"]
            operation = f'{request["method"]} {route(request["url"])}'
            status = response.get("status", 0)
            by_operation[operation][status] += 1
            if status == 403 and operation.endswith("/commands") and has_rule(response):
                by_operation[operation]["403 rule"] += 1
    total = sum(sum(c.values()) for c in by_operation.values())
    print(f"schemathesis: {total} requests")
    for operation in sorted(by_operation):
        counts = by_operation[operation]
        statuses = ", ".join(
            f"{s}: {n}" for s, n in sorted(counts.items(), key=lambda kv: str(kv[0]))
        )
        print(f"  {operation}: {statuses}")
    commands = collections.Counter()
    for operation, counts in by_operation.items():
        if operation.startswith("POST ") and operation.endswith("/commands"):
            commands.update(counts)
    reached = commands[200] + commands[422] + commands["403 rule"] + commands[409]
    sent = sum(n for s, n in commands.items() if s != "403 rule")
    print(
        f"schemathesis: {commands[200] + commands[422]} of {sent} command requests got a "
        f"200 or a 422 ({commands[200]} applied, {commands[422]} refused by a rule); "
        f"{reached} reached the record's decision, counting "
        f"{commands['403 rule']} refused by its rule on who may act (403) and "
        f"{commands[409]} by its command ids (409); {commands[400]} were refused by the "
        f"parser (400), most of them schemathesis's deliberately invalid cases"
    )
    return 0 if reached > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
