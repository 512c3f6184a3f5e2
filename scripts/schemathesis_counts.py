#!/usr/bin/env python3
"""Counts what schemathesis's requests reached, from its HAR reports.

    python3 scripts/schemathesis_counts.py REPORT.har [REPORT.har ...]

Prints, for every operation (method and route), how many generated requests
got each status, then the number of command requests that reached the
domain's rules: a 200 (applied) or a 422 (refused by a rule of the record),
as opposed to a 400 (refused by the parser). Exits 1 when no report holds
a single such command: the typed schemas are then not reaching the rules.
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


def main(paths):
    by_operation = collections.defaultdict(collections.Counter)
    for path in paths:
        with open(path, encoding="utf-8") as f:
            har = json.load(f)
        for entry in har.get("log", {}).get("entries", []):
            request, response = entry["request"], entry["response"]
            operation = f'{request["method"]} {route(request["url"])}'
            by_operation[operation][response.get("status", 0)] += 1
    total = sum(sum(c.values()) for c in by_operation.values())
    print(f"schemathesis: {total} requests")
    for operation in sorted(by_operation):
        counts = by_operation[operation]
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(counts.items()))
        print(f"  {operation}: {statuses}")
    commands = collections.Counter()
    for operation, counts in by_operation.items():
        if operation.startswith("POST ") and operation.endswith("/commands"):
            commands.update(counts)
    reached = commands[200] + commands[422]
    print(
        f"schemathesis: {reached} of {sum(commands.values())} command requests "
        f"reached the domain's rules ({commands[200]} applied 200, "
        f"{commands[422]} refused by a rule 422; {commands[400]} refused by the parser 400, "
        f"{commands[403]} refused 403)"
    )
    return 0 if reached > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
