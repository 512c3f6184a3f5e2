#!/usr/bin/env bash
# Property-based API testing: schemathesis (from PyPI) generates requests
# from the OpenAPI document of a running `kapchart serve` and fails on any
# 5xx response (check `not_a_server_error`), on any response that does not
# match the document, and on a server that stops answering. It then prints
# what the requests reached, per operation and status, and how many
# generated commands reached the domain's rules (a 200 or a 422, not a 400
# from the parser): scripts/schemathesis_counts.py; none is a failure.
#
#   bash scripts/schemathesis.sh [MAX_EXAMPLES]
#
# KAPCHART_ST_REPORTS=DIR keeps schemathesis's HAR reports in DIR.
#
# The server runs on a fresh SQLite file in a temporary directory holding
# a five-client `kapchart demo` practice. schemathesis runs once with each
# of four tokens: a front-desk account (it registers, books and bills), the
# therapist of the first sample client (they record that therapist's
# clients' sessions), an admin (the practice's settings, accounts) and an
# auditor (it reads everything, may send no command). The document's links
# (a command's reply leads to the client's next command and reads) drive
# the stateful phase. scripts/schemathesis_hooks.py completes each valid
# command with what JSON Schema does not say (a new command id, a record
# that exists, the relations between fields each schema states in words),
# so valid commands reach the record's rules. schemathesis is installed
# into target/schemathesis-venv on first use.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
examples=${1:-60}
version=4.32.5
venv="$root/target/schemathesis-venv"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
    echo "schemathesis.sh: installing schemathesis $version into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

cargo build --locked --quiet -p kapchart
bin="$root/target/debug/kapchart"

work=$(mktemp -d)
server=""
cleanup() {
    if [[ -n "$server" ]]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

export DATABASE_URL="sqlite://$work/kapchart.db"
# A small sample practice, so that the documented example ids
# (client-001, ...) reach real records.
"$bin" demo --clients 5 >/dev/null 2>&1
# `user add` prints the API token on line 1 and the web setup code on line 2.
front_desk=$("$bin" user add --name st-front-desk --role front_desk 2>/dev/null | sed -n 1p)
auditor=$("$bin" user add --name st-auditor --role auditor 2>/dev/null | sed -n 1p)
admin=$("$bin" user add --name st-admin --role admin 2>/dev/null | sed -n 1p)
clients=client-001,client-002,client-003,client-004,client-005

"$bin" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
base=""
for _ in $(seq 1 300); do
    base=$(sed -n 's/^kapchart: listening on \(http:\/\/[0-9.:]*\)$/\1/p' "$work/serve.err")
    [[ -n "$base" ]] && break
    if ! kill -0 "$server" 2>/dev/null; then
        cat "$work/serve.err" >&2
        echo "schemathesis.sh: the server stopped" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ -z "$base" ]]; then
    echo "schemathesis.sh: the server did not start" >&2
    exit 1
fi
echo "schemathesis.sh: kapchart serving at $base" >&2

# The therapist of the first sample client, and that therapist's clients,
# as the record has them (the auditor reads each chart); a token for them.
therapist=""
mine=""
for client in ${clients//,/ }; do
    chart=$(curl -fsS -H "Authorization: Bearer $auditor" \
        "$base/api/v1/clients/$client/chart?purpose=audit")
    of=$(printf '%s' "$chart" | python3 -c 'import json, sys
rows = json.load(sys.stdin)["rows"]
print(next(r["data"]["therapist"] for r in rows if r["kind"] == "chart"))')
    therapist=${therapist:-$of}
    [[ "$of" == "$therapist" ]] && mine="${mine:+$mine,}$client"
done
therapist_token=$("$bin" user token --name "$therapist" 2>/dev/null | sed -n 1p)
echo "schemathesis.sh: the therapist $therapist has $mine" >&2

# schemathesis keeps a cache in its working directory: the temporary one.
cd "$work"
export SCHEMATHESIS_HOOKS="$root/scripts/schemathesis_hooks.py"
status=0
for who in front_desk therapist admin auditor; do
    case $who in
        front_desk) token=$front_desk KAPCHART_ST_CLIENTS=$clients ;;
        therapist) token=$therapist_token KAPCHART_ST_CLIENTS=$mine ;;
        admin) token=$admin KAPCHART_ST_CLIENTS=$clients ;;
        auditor) token=$auditor KAPCHART_ST_CLIENTS=$clients ;;
    esac
    export KAPCHART_ST_WHO=$who KAPCHART_ST_CLIENTS
    echo "schemathesis.sh: as $who" >&2
    "$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
        --url "$base" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --header "Authorization: Bearer $token" \
        --max-examples "$examples" \
        --seed 1 \
        --report har --report-har-path "$work/$who.har" \
        --no-color || status=1
done
# How many generated commands got past the parser to the domain's rules
# (200 or 422), from schemathesis's record of every request (HAR).
python3 "$root/scripts/schemathesis_counts.py" "$work"/*.har || status=1
# KAPCHART_ST_REPORTS=DIR keeps the HAR reports (every request and reply).
if [[ -n "${KAPCHART_ST_REPORTS:-}" ]]; then
    mkdir -p "$KAPCHART_ST_REPORTS"
    cp "$work"/*.har "$KAPCHART_ST_REPORTS"/
fi
if ! kill -0 "$server" 2>/dev/null; then
    echo "schemathesis.sh: the server died during the run" >&2
    status=1
fi
exit "$status"
