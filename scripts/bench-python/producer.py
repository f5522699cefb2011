"""The hand-written alternative eds-kafka is measured against (scripts/bench):
the seed design's Python cron job, requests + pandas + kafka-python. One run
fetches the trailing window of PowerSystemRightNow, aggregates the selected
fields with pandas and produces the rows and the aggregate with acks=all.
It keeps no cursor (so it is not exactly-once); it is here for its cost only.

    python producer.py API_URL BROKERS NOW_RFC3339 RECORDS_TOPIC AGGREGATES_TOPIC
"""
import json
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import requests
from kafka import KafkaProducer

FIELDS = ["CO2Emission", "ProductionGe100MW", "ProductionLt100MW", "SolarPower",
          "OffshoreWindPower", "OnshoreWindPower", "Exchange_Sum"]


def main(api, brokers, now_text, records_topic, aggregates_topic):
    now = datetime.fromisoformat(now_text.replace("Z", "+00:00"))
    end = now.replace(second=0, microsecond=0)
    start = end - timedelta(minutes=5)
    dk = ZoneInfo("Europe/Copenhagen")
    params = {
        "start": start.astimezone(dk).strftime("%Y-%m-%dT%H:%M"),
        "end": end.astimezone(dk).strftime("%Y-%m-%dT%H:%M"),
        "limit": 0,
    }
    response = requests.get(f"{api}/dataset/PowerSystemRightNow", params=params, timeout=20)
    response.raise_for_status()
    df = pd.DataFrame(response.json()["records"])
    df["Minutes1UTC"] = pd.to_datetime(df["Minutes1UTC"], utc=True)
    df = df[(df["Minutes1UTC"] >= pd.Timestamp(start)) & (df["Minutes1UTC"] < pd.Timestamp(end))]
    df = df.sort_values("Minutes1UTC")
    stats = df[FIELDS].agg(["count", "mean", "min", "max"])
    aggregate = {"window_start": start.isoformat(), "window_end": end.isoformat(), "rows": len(df)}
    for field in FIELDS:
        for stat in ("count", "mean", "min", "max"):
            aggregate[f"{field}_{stat}"] = float(stats.loc[stat, field])
        aggregate[f"{field}_last"] = float(df[field].iloc[-1])

    producer = KafkaProducer(bootstrap_servers=brokers.split(","), acks="all", linger_ms=1,
                             value_serializer=lambda v: json.dumps(v, default=str).encode())
    for row in df.to_dict(orient="records"):
        key = row["Minutes1UTC"].strftime("%Y-%m-%dT%H:%M:%SZ")
        producer.send(records_topic, key=key.encode(), value=row)
    producer.send(aggregates_topic, key=end.strftime("%Y-%m-%dT%H:%M:%SZ").encode(), value=aggregate)
    producer.flush(timeout=30)
    producer.close()


if __name__ == "__main__":
    main(*sys.argv[1:6])
