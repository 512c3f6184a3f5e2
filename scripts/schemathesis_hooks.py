"""schemathesis hooks for scripts/schemathesis.sh: valid command bodies that
reach the record's rules.

The OpenAPI document types every command exactly, but a valid command also
needs what JSON Schema does not say, so schemathesis's valid (positive)
cases of the two command operations are completed here as they are sent
(`before_call`, which the stateful phase's cases pass through too), and
nothing else is changed:

- a command id not used before: each case gets its own (`st-<who>-<n>`),
  as a real client gives each new command; schemathesis draws few ids and
  would otherwise be answered 409 `command_id_reused` again and again;
- a record that exists: three in four client commands go to one of the
  sample practice's clients (`KAPCHART_ST_CLIENTS`), the rest to the drawn
  id (no record yet); `RegisterClient` goes to the path of its own
  `client_id` (the API refuses any other), so registrations open records;
  in the stateful phase a link chose the client, and it is kept;
- the relations between fields that the parser checks and each schema
  states only in words (`mend`, below): a span's `end` after its `start`
  and at most a day later; a date range's `until` not before its `from`;
  a blood pressure's systolic above its diastolic; a prescription's
  `min <= starting <= max`; an NPI's Luhn check digit; an IANA time
  zone's name; an exploration's `not_dosed_reason` exactly when it has no
  `administration`, and its discharge after the dose; and an integer drawn
  as `15110.0` written `15110`.

Negative cases (schemathesis's deliberately invalid data) are sent as
drawn. Every command case carries its mode in an `X-Schemathesis-Mode`
header (which the server ignores), so scripts/schemathesis_counts.py can
tell what the valid cases reached. The choices are made from a hash of
the drawn case, so a run with the same seed sends the same requests.
"""

import datetime
import hashlib
import itertools
import json
import os
import re

import zoneinfo

import schemathesis
from schemathesis import GenerationMode

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
CLIENT_COMMANDS = "/api/v1/clients/{id}/commands"
PRACTICE_COMMANDS = "/api/v1/practice/commands"
WHO = os.environ.get("KAPCHART_ST_WHO", "st")
CLIENTS = [c for c in os.environ.get("KAPCHART_ST_CLIENTS", "").split(",") if c]
MODE_HEADER = "X-Schemathesis-Mode"
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(hours=24)
ZONES = zoneinfo.available_timezones()
_numbers = itertools.count(1)


def _is_positive(case):
    meta = getattr(case, "meta", None)
    return meta is None or meta.generation.mode == GenerationMode.POSITIVE


def _instant(text):
    if not isinstance(text, str):
        return None
    try:
        value = datetime.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _npi(digits):
    """The nine digits with the Luhn check digit of the prefix 80840."""
    total = 24  # the prefix 80840's share of the Luhn sum
    for i, d in enumerate(reversed([int(c) for c in digits])):
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return digits + str((10 - total % 10) % 10)


def _mend_object(value):
    """Mends one object drawn for a schema that states, in words only, a
    relation between its fields."""
    keys = set(value)
    if keys == {"start", "end"}:
        start, end = _instant(value["start"]), _instant(value["end"])
        if start is not None and end is not None and not (start < end <= start + DAY):
            try:
                value["end"] = (start + HOUR).isoformat()
            except OverflowError:
                pass
    elif keys == {"from", "until"}:
        if isinstance(value["from"], str) and isinstance(value["until"], str):
            if value["until"] < value["from"]:
                value["from"], value["until"] = value["until"], value["from"]
    elif keys == {"systolic", "diastolic"}:
        sys_, dia = value["systolic"], value["diastolic"]
        if isinstance(sys_, int) and isinstance(dia, int) and sys_ <= dia:
            # Within both ranges (systolic 40-300, diastolic 20-200).
            value["systolic"], value["diastolic"] = max(dia + 1, 40), min(sys_, 200) - 1
            if value["diastolic"] < 20 or value["systolic"] <= value["diastolic"]:
                value["systolic"], value["diastolic"] = 120, 80
    elif keys == {"min", "max", "starting", "max_step"}:
        doses = [value["min"], value["starting"], value["max"]]
        if all(isinstance(d, int) for d in doses):
            value["min"], value["starting"], value["max"] = sorted(doses)
    if isinstance(value.get("npi"), str) and re.fullmatch(r"[0-9]{10}", value["npi"]):
        value["npi"] = _npi(value["npi"][:9])
    if isinstance(value.get("time_zone"), str) and value["time_zone"] not in ZONES:
        value["time_zone"] = "America/Los_Angeles"
    if {"departure", "discharged_at"} <= keys:  # an exploration
        given = value.get("administration")
        if given is None and value.get("not_dosed_reason") is None:
            value["not_dosed_reason"] = "declined on the day"
        elif isinstance(given, dict):
            value["not_dosed_reason"] = None
            at = _instant(given.get("given_at"))
            out = _instant(value.get("discharged_at"))
            if at is not None and (out is None or out <= at):
                try:
                    value["discharged_at"] = (at + HOUR).isoformat()
                except OverflowError:
                    pass


def _integer(value):
    """An integer drawn as a float with no fraction (`15110.0`) written as
    the integer: JSON Schema counts it an integer, kapchart reads integers
    only as written without a fraction (docs/api.md)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def mend(value):
    """Mends every object in `value`, innermost first."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = _integer(item)
            mend(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            value[key] = _integer(item)
            mend(item)
        _mend_object(value)


def _phase(case):
    meta = getattr(case, "meta", None)
    return str(meta.phase.name) if meta is not None else None


@schemathesis.hook
def before_call(context, case, kwargs):
    """Completes a valid command case as it is sent, in every phase (the
    stateful phase's cases too, which generation hooks do not see)."""
    operation = context.operation
    if operation is None or operation.method.upper() != "POST":
        return
    if operation.path not in (CLIENT_COMMANDS, PRACTICE_COMMANDS):
        return
    # Marks the case's mode for scripts/schemathesis_counts.py (the server
    # ignores the header).
    positive = _is_positive(case)
    case.headers = dict(case.headers or {})
    case.headers[MODE_HEADER] = "positive" if positive else "negative"
    if not positive:
        return
    request = case.body
    if not isinstance(request, dict):
        return
    drawn = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).digest()
    if isinstance(request.get("id"), str) and ID.match(request["id"]):
        request["id"] = f"st-{WHO}-{next(_numbers)}"
    body = request.get("body")
    mend(body)
    if operation.path != CLIENT_COMMANDS or not isinstance(body, dict):
        return
    register = body.get("RegisterClient")
    if isinstance(register, dict):
        if isinstance(register.get("client_id"), str) and ID.match(register["client_id"]):
            case.path_parameters["id"] = register["client_id"]
    elif _phase(case) == "stateful":
        # A link chose the client: the one the last command went to.
        return
    elif CLIENTS and drawn[0] % 4 != 0:
        case.path_parameters["id"] = CLIENTS[drawn[1] % len(CLIENTS)]
