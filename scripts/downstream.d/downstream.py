#!/usr/bin/env python3
"""Helper of scripts/downstream (Python 3.9+, standard library; `clickhouse` also chdb).

  downstream.py keyless FILE
      The CREATE statements of a docs/downstream file for the keyless dataset
      PowerSystemRightNow: lines that declare or name the key columns PriceArea
      and ForecastType dropped, Forecasts_5Min -> PowerSystemRightNow,
      forecasts_ -> psrn_ (what the docs say to do for a keyless dataset).

  downstream.py correction DIR
      From DIR/forecasts.records.json and DIR/forecasts.aggregates.json (what
      `eds-kafka consume --format json` printed), write DIR/correction.records.txt
      and DIR/correction.aggregates.txt: one ConsoleProducer line each
      ("headers<TAB>key|value"), a correction of one key with a changed
      ForecastCurrent and the headers eds-revision:1, eds-dataset:Forecasts_5Min.
      Prints the two keys.

  downstream.py clickhouse DIR OUTPUT CLICKHOUSE_SQL...   (needs chdb)
      Runs the ClickHouse files (brokers already substituted) in chdb (its
      database in DIR/chdb), waits until their tables hold what the topics hold
      (at most DOWNSTREAM_CH_TIMEOUT seconds, 90), and writes what they hold
      and what each file's SELECTs return to OUTPUT, one JSON object per row
      with "_query" (FlinkSql's format).

  downstream.py avro-checks FILE REGISTRY
      flink-checks.sql for the topics written with --value-format avro: its
      JSON table (psrn_records) read with the avro-confluent format from
      REGISTRY, its TIMESTAMP_LTZ(3) as TIMESTAMP(3) (avro-confluent has no
      LTZ), topics eds.* as avro.*.

  downstream.py compare DIR FLINK_OUTPUT CLICKHOUSE_OUTPUT [AVRO_DIR AVRO_CLICKHOUSE_OUTPUT]
      Compares Flink's and ClickHouse's results with the messages consumed
      into DIR (DIR/{forecasts,psrn}.{records,aggregates}.json); with AVRO_DIR,
      also the Avro variants' (the *-avro.sql files and flink-checks-avro.sql
      in FLINK_OUTPUT, AVRO_CLICKHOUSE_OUTPUT) with the Avro topics consumed
      into AVRO_DIR. Prints every comparison; exit 1 when one differs.
"""

import collections
import datetime
import json
import os
import re
import sys
import time

KEY_COLUMNS = ("PriceArea", "ForecastType")
CORRECTION = {"at": "2026-11-28T13:00:00Z", "PriceArea": "DK2", "ForecastType": "Solar", "delta": 1000.5}


# ---------------------------------------------------------------- SQL files

def strip_comment(line):
    quoted = False
    for i, c in enumerate(line):
        if c == "'":
            quoted = not quoted
        elif not quoted and line.startswith("--", i):
            return line[:i]
    return line


def statements(text):
    """The statements of a SQL file: comments dropped, split at a ';' ending a line."""
    out, current = [], []
    for line in text.split("\n"):
        code = strip_comment(line).rstrip()
        if code.endswith(";"):
            current.append(code[:-1])
            stmt = "\n".join(current).strip()
            if stmt:
                out.append(stmt)
            current = []
        else:
            current.append(code)
    stmt = "\n".join(current).strip()
    if stmt:
        out.append(stmt)
    return out


def keyless(text):
    out = []
    for stmt in statements(text):
        if not stmt.upper().startswith("CREATE"):
            continue
        lines = [l for l in stmt.split("\n")
                 if not re.match(r"\s*(%s)\b" % "|".join(KEY_COLUMNS), l)]
        stmt = "\n".join(lines).replace("Forecasts_5Min", "PowerSystemRightNow")
        out.append(stmt.replace("forecasts_", "psrn_") + ";\n")
    return "\n".join(out)


def avro_checks(text, registry):
    text = text.replace("TIMESTAMP_LTZ(3)", "TIMESTAMP(3)")
    text = text.replace("'format' = 'json'", "'format' = 'avro-confluent'")
    text = text.replace("'json.timestamp-format.standard' = 'ISO-8601'",
                        "'avro-confluent.url' = '%s'" % registry)
    return text.replace("'eds.", "'avro.")


# ---------------------------------------------------------------- messages

def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def key_part(value):
    text = value if isinstance(value, str) else json.dumps(value)
    return text.replace("%", "%25").replace("/", "%2F")


def message_key(time_text, value, keyed):
    parts = [time_text] + ([key_part(value[c]) for c in KEY_COLUMNS] if keyed else [])
    return "/".join(parts)


def canonical_time(text):
    """'2026-11-28T12:00:00Z', '...T12:00:00.000', '2026-11-28 12:00:00' -> '2026-11-28T12:00:00Z' (UTC)."""
    if text is None:
        return None
    t = text.strip().replace(" ", "T").rstrip("Z")
    t = re.sub(r"\.\d+$", "", t)
    if len(t) == 16:
        t += ":00"
    datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S")
    return t + "Z"


def hour_of(text):
    return canonical_time(text)[:13] + ":00:00Z"


def correction(directory):
    c = CORRECTION
    records = load(os.path.join(directory, "forecasts.records.json"))
    aggregates = load(os.path.join(directory, "forecasts.aggregates.json"))
    at = datetime.datetime.strptime(c["at"], "%Y-%m-%dT%H:%M:%SZ")
    row_time = (at - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def pick(items, time_field, when):
        found = [v for v in items if v[time_field] == when and v["PriceArea"] == c["PriceArea"]
                 and v["ForecastType"] == c["ForecastType"]]
        if len(found) != 1:
            sys.exit("downstream.py: expected one message at %s for %s/%s, found %d"
                     % (when, c["PriceArea"], c["ForecastType"], len(found)))
        return json.loads(json.dumps(found[0]))

    record = pick(records, "Minutes5UTC", row_time)
    record["ForecastCurrent"] = round(record["ForecastCurrent"] + c["delta"], 6)
    aggregate = pick(aggregates, "window_end", c["at"])
    stat = aggregate["fields"]["ForecastCurrent"]
    for name in ("mean", "min", "max", "last"):
        if stat.get(name) is not None:
            stat[name] = round(stat[name] + c["delta"], 6)
    headers = "eds-revision:1,eds-dataset:Forecasts_5Min"
    keys = []
    for kind, time_text, value in (("records", row_time, record), ("aggregates", c["at"], aggregate)):
        key = message_key(time_text, value, True)
        keys.append(key)
        with open(os.path.join(directory, "correction.%s.txt" % kind), "w", encoding="utf-8") as f:
            f.write("%s\t%s|%s\n" % (headers, key, json.dumps(value, separators=(",", ":"))))
    print("\n".join(keys))


def latest(messages, key_of):
    """The last message of each key, with its revision (1 when the key came before)."""
    out = collections.OrderedDict()
    for m in messages:
        k = key_of(m)
        revision = 1 if k in out else 0
        out[k] = (m, revision)
    return out


def all_with_revision(messages, key_of):
    seen, out = set(), []
    for m in messages:
        k = key_of(m)
        out.append((k, m, 1 if k in seen else 0))
        seen.add(k)
    return out


# ---------------------------------------------------------------- comparing

def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


class Report:
    def __init__(self):
        self.failures = 0

    def compare(self, name, expected, actual):
        """expected, actual: {row key: {column: value}}"""
        problems = []
        for k in sorted(set(expected) | set(actual), key=str):
            if k not in actual:
                problems.append("  missing %s: expected %s" % (k, expected[k]))
            elif k not in expected:
                problems.append("  extra   %s: %s" % (k, actual[k]))
            else:
                diff = {c: (expected[k].get(c), actual[k].get(c)) for c in expected[k]
                        if not close(expected[k].get(c), actual[k].get(c))}
                if diff:
                    problems.append("  differs %s: %s" % (k, ", ".join(
                        "%s expected %r, got %r" % (c, e, a) for c, (e, a) in diff.items())))
        if problems:
            self.failures += 1
            print("MISMATCH %s: %d of %d expected rows differ" % (name, len(problems), len(expected)))
            for p in problems[:15]:
                print(p)
            if len(problems) > 15:
                print("  ... and %d more" % (len(problems) - 15))
        else:
            print("ok       %s: %d rows" % (name, len(expected)))
        return not problems


def fc_mean(value):
    stat = (value.get("fields") or {}).get("ForecastCurrent") or {}
    return stat.get("mean")


def co2_mean(value):
    stat = (value.get("fields") or {}).get("CO2Emission") or {}
    return stat.get("mean")


def hourly(latest_values, keyed, mean_of):
    groups = collections.OrderedDict()
    for v in latest_values:
        k = (hour_of(v["window_end"]),) + (tuple(v[c] for c in KEY_COLUMNS) if keyed else ())
        groups.setdefault(k, []).append(mean_of(v))
    out = {}
    for k, means in groups.items():
        present = [m for m in means if m is not None]
        out[k] = {"windows": len(means), "mean": sum(present) / len(present) if present else None}
    return out


def expectations(directory):
    fr = load(os.path.join(directory, "forecasts.records.json"))
    fa = load(os.path.join(directory, "forecasts.aggregates.json"))
    pr = load(os.path.join(directory, "psrn.records.json"))
    pa = load(os.path.join(directory, "psrn.aggregates.json"))
    fa_key = lambda v: message_key(v["window_end"], v, True)
    fr_key = lambda v: message_key(v["Minutes5UTC"], v, True)
    pa_key = lambda v: message_key(v["window_end"], v, False)
    e = {}
    e["fa_all"] = {(k, rev): {"window_end": v["window_end"], "rows": v["rows"], "mean": fc_mean(v)}
                   for k, v, rev in all_with_revision(fa, fa_key)}
    fa_latest = latest(fa, fa_key)
    e["fa_latest"] = {(k,): {"window_end": v["window_end"], "rows": v["rows"], "mean": fc_mean(v), "revision": rev}
                      for k, (v, rev) in fa_latest.items()}
    fr_latest = latest(fr, fr_key)
    e["fr_latest"] = {(k,): {"time": v["Minutes5UTC"], "PriceArea": v["PriceArea"], "ForecastType": v["ForecastType"],
                             "ForecastCurrent": v.get("ForecastCurrent"), "revision": rev}
                      for k, (v, rev) in fr_latest.items()}
    e["fa_hourly"] = hourly([v for v, _ in fa_latest.values()], True, fc_mean)
    groups = collections.OrderedDict()
    for v, _ in fr_latest.values():
        groups.setdefault((v["PriceArea"], v["ForecastType"]), []).append(v.get("ForecastCurrent"))
    e["fr_by_key"] = {k: {"row_count": len(xs), "mean": sum(x for x in xs if x is not None) / len([x for x in xs if x is not None])}
                      for k, xs in groups.items()}
    e["pa_all"] = {(pa_key(v),): {"window_end": v["window_end"], "rows": v["rows"], "mean": co2_mean(v)} for v in pa}
    pa_latest = latest(pa, pa_key)
    e["pa_hourly"] = hourly([v for v, _ in pa_latest.values()], False, co2_mean)
    e["pr_all"] = {(v["Minutes1UTC"],): {"CO2Emission": v.get("CO2Emission"), "SolarPower": v.get("SolarPower")} for v in pr}
    e["counts"] = {"fa": len(fa), "fr": len(fr), "pa": len(pa), "pr": len(pr)}
    return e


def results(path):
    results = collections.defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                results[row.pop("_query")].append(row)
    return results


def names(variant):
    """(query name of a file, report label) for the JSON (variant "") or the Avro files."""
    suffix = "-avro" if variant else ""
    upsert = "flink-records-avro.sql" if variant else "flink-records-upsert.sql"
    label = lambda engine: "%s%s" % (engine, " (avro)" if variant else "")

    def name(base, n):
        base = upsert if base == "flink-records-upsert" else base + suffix + ".sql"
        return "%s#%d" % (base, n)
    return name, label


def compare_flink(report, e, flink, variant=""):
    name, label = names(variant)
    q = lambda base, n: flink.get(name(base, n), [])
    engine = label("flink")
    report.compare(engine + ": every Forecasts_5Min aggregate (table forecasts_aggregates)", e["fa_all"], {
        (r["message_key"], r["revision"]): {"window_end": canonical_time(r["window_end"]), "rows": r["rows"],
                                            "mean": r["forecast_current"]}
        for r in q("flink-checks", 1)})
    report.compare(engine + ": latest aggregate per key (view forecasts_aggregates_latest)", e["fa_latest"], {
        (r["message_key"],): {"window_end": canonical_time(r["window_end"]), "rows": r["rows"],
                              "mean": r["forecast_current"], "revision": r["revision"]}
        for r in q("flink-checks", 2)})
    report.compare(engine + ": records, upsert-kafka (table forecasts_records)", e["fr_latest"], {
        (r["message_key"],): {"time": canonical_time(r["Minutes5UTC"]), "PriceArea": r["PriceArea"],
                              "ForecastType": r["ForecastType"], "ForecastCurrent": r["ForecastCurrent"],
                              "revision": r["revision"]}
        for r in q("flink-checks", 3)})
    report.compare(engine + ": docs hourly TUMBLE over the latest aggregates (flink-aggregates.sql)", e["fa_hourly"], {
        (canonical_time(r["window_start"]), r["PriceArea"], r["ForecastType"]): {
            "windows": r["windows"], "mean": r["forecast_current"]}
        for r in q("flink-aggregates", 1)})
    report.compare(engine + ": docs records per area and type (flink-records-upsert.sql)", e["fr_by_key"], {
        (r["PriceArea"], r["ForecastType"]): {"row_count": r["row_count"], "mean": r["forecast_current"]}
        for r in q("flink-records-upsert", 1)})
    report.compare(engine + ": every PowerSystemRightNow aggregate (keyless, derived table psrn_aggregates)", e["pa_all"], {
        (r["message_key"],): {"window_end": canonical_time(r["window_end"]), "rows": r["rows"], "mean": r["co2_emission"]}
        for r in q("flink-checks", 4)})
    report.compare(engine + ": hourly TUMBLE over psrn_aggregates_latest", e["pa_hourly"], {
        (canonical_time(r["window_start"]),): {"windows": r["windows"], "mean": r["co2_emission"]}
        for r in q("flink-checks", 5)})
    report.compare(engine + ": PowerSystemRightNow records", e["pr_all"], {
        (canonical_time(r["Minutes1UTC"]),): {"CO2Emission": r["CO2Emission"], "SolarPower": r["SolarPower"]}
        for r in q("flink-checks", 6)})


def run_clickhouse(directory, output, files):
    """Runs the ClickHouse files in chdb and writes what its tables hold to OUTPUT."""
    from chdb import session  # in the venv scripts/downstream made

    e = expectations(directory)
    s = session.Session(os.path.join(directory, "chdb"))

    def query(sql):
        res = s.query(sql, "JSONEachRow")
        text = res.bytes().decode("utf-8") if hasattr(res, "bytes") else str(res)
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    selects = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            number = 0
            for stmt in statements(f.read()):
                if stmt.upper().startswith("SELECT"):
                    number += 1
                    selects.append(("%s#%d" % (os.path.basename(path), number), stmt))
                else:
                    query(stmt)

    checks = {
        "ch:fa": "SELECT message_key, toString(window_end) AS window_end, rows, "
                 "fields['ForecastCurrent'].mean AS mean, revision FROM forecasts_aggregates FINAL",
        "ch:fr": "SELECT message_key, toString(Minutes5UTC) AS time, PriceArea, ForecastType, ForecastCurrent, "
                 "revision FROM forecasts_records FINAL",
        "ch:pa": "SELECT message_key, toString(window_end) AS window_end, rows, "
                 "fields['CO2Emission'].mean AS mean FROM psrn_aggregates FINAL",
    }
    # The Kafka engine has no end: its materialized views flush what they
    # consumed every stream_flush_interval_ms (7.5 s). Poll until the tables
    # hold what the topics hold (their latest message per key), or until the
    # deadline; what they hold then is compared.
    started = time.monotonic()
    deadline = started + float(os.environ.get("DOWNSTREAM_CH_TIMEOUT", "90"))
    while True:
        rows = {name: query(sql) for name, sql in checks.items()}
        actual = clickhouse_actual(rows)
        if all(same(e[k], actual[k]) for k in ("fa_latest", "fr_latest", "pa_all")) or time.monotonic() > deadline:
            break
        time.sleep(1)
    sys.stderr.write("clickhouse: tables filled after %.1f s\n" % (time.monotonic() - started))
    try:
        rows["ch:consumers"] = query("SELECT table, sum(num_messages_read) AS messages "
                                     "FROM system.kafka_consumers GROUP BY table")
    except Exception as err:  # an engine without that table: say so, do not fail
        sys.stderr.write("clickhouse: system.kafka_consumers unreadable: %s\n" % str(err).splitlines()[0])
    for name, stmt in selects:
        rows[name] = query(stmt)
    s.close()
    with open(output, "w", encoding="utf-8") as f:
        for name, result in rows.items():
            for row in result:
                row["_query"] = name
                f.write(json.dumps(row) + "\n")


def same(exp, act):
    return set(exp) == set(act) and all(all(close(exp[k][c], act[k].get(c)) for c in exp[k]) for k in exp)


def clickhouse_actual(rows):
    return {
        "fa_latest": {(r["message_key"],): {"window_end": canonical_time(r["window_end"]), "rows": r["rows"],
                                            "mean": r["mean"], "revision": r["revision"]} for r in rows["ch:fa"]},
        "fr_latest": {(r["message_key"],): {"time": canonical_time(r["time"]), "PriceArea": r["PriceArea"],
                                            "ForecastType": r["ForecastType"],
                                            "ForecastCurrent": r["ForecastCurrent"], "revision": r["revision"]}
                      for r in rows["ch:fr"]},
        "pa_all": {(r["message_key"],): {"window_end": canonical_time(r["window_end"]), "rows": r["rows"],
                                         "mean": r["mean"]} for r in rows["ch:pa"]},
    }


def compare_clickhouse(report, e, ch, variant=""):
    name, label = names(variant)
    engine = label("clickhouse")
    actual = clickhouse_actual({k: ch.get(k, []) for k in ("ch:fa", "ch:fr", "ch:pa")})
    if "ch:consumers" in ch:
        want = {"forecasts_aggregates_queue": e["counts"]["fa"], "forecasts_records_queue": e["counts"]["fr"],
                "psrn_aggregates_queue": e["counts"]["pa"]}
        read = {r["table"]: int(r["messages"]) for r in ch["ch:consumers"]}
        report.compare(engine + ": messages read by each Kafka table (system.kafka_consumers)",
                       {(t,): {"messages": n} for t, n in want.items()},
                       {(t,): {"messages": read.get(t, 0)} for t in want})
    report.compare(engine + ": latest aggregate per key (forecasts_aggregates FINAL)", e["fa_latest"],
                   actual["fa_latest"])
    report.compare(engine + ": latest record per key (forecasts_records FINAL)", e["fr_latest"],
                   actual["fr_latest"])
    report.compare(engine + ": every PowerSystemRightNow aggregate (keyless, derived psrn_aggregates FINAL)",
                   e["pa_all"], actual["pa_all"])
    report.compare(engine + ": docs hourly query (clickhouse-aggregates.sql)", e["fa_hourly"], {
        (canonical_time(r["hour"]), r["PriceArea"], r["ForecastType"]): {
            "windows": r["windows"], "mean": r["forecast_current"]}
        for r in ch.get(name("clickhouse-aggregates", 1), [])})


def main(argv):
    if len(argv) >= 2 and argv[0] == "keyless":
        with open(argv[1], encoding="utf-8") as f:
            sys.stdout.write(keyless(f.read()))
    elif len(argv) == 2 and argv[0] == "correction":
        correction(argv[1])
    elif len(argv) >= 4 and argv[0] == "clickhouse":
        run_clickhouse(argv[1], argv[2], argv[3:])
    elif len(argv) == 3 and argv[0] == "avro-checks":
        with open(argv[1], encoding="utf-8") as f:
            sys.stdout.write(avro_checks(f.read(), argv[2]))
    elif len(argv) in (4, 6) and argv[0] == "compare":
        directory, flink_output, ch_output = argv[1:4]
        e = expectations(directory)
        report = Report()
        flink = results(flink_output)
        compare_flink(report, e, flink)
        compare_clickhouse(report, e, results(ch_output))
        if len(argv) == 6:
            avro = expectations(argv[4])
            compare_flink(report, avro, flink, "avro")
            compare_clickhouse(report, avro, results(argv[5]), "avro")
        if report.failures:
            print("downstream: %d comparison(s) differ" % report.failures)
            return 1
        print("downstream: Flink and ClickHouse read what is in the topics")
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
