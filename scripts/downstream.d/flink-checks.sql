-- scripts/downstream's own Flink queries. They run after
-- docs/downstream/flink-aggregates.sql, docs/downstream/flink-records-upsert.sql
-- and the keyless PowerSystemRightNow tables derived from flink-aggregates.sql
-- (psrn_aggregates, psrn_aggregates_latest), in the same session; downstream.py
-- compares each result (by its number in this file) with `eds-kafka consume`.

-- 1: every aggregate message of Forecasts_5Min (the correction included)
SELECT message_key, window_end, `rows`, fields['ForecastCurrent'].mean AS forecast_current,
  COALESCE(CAST(CAST(headers['eds-revision'] AS STRING) AS INT), 0) AS revision
FROM forecasts_aggregates;

-- 2: the latest aggregate of each key (the correction instead of what it corrects)
SELECT message_key, agg_end AS window_end, `rows`, fields['ForecastCurrent'].mean AS forecast_current,
  revision
FROM forecasts_aggregates_latest;

-- 3: the records of Forecasts_5Min through the upsert table (latest of each key)
SELECT message_key, Minutes5UTC, PriceArea, ForecastType, ForecastCurrent,
  COALESCE(CAST(CAST(headers['eds-revision'] AS STRING) AS INT), 0) AS revision
FROM forecasts_records;

-- 4: every aggregate message of PowerSystemRightNow (keyless)
SELECT message_key, window_end, `rows`, fields['CO2Emission'].mean AS co2_emission
FROM psrn_aggregates;

-- 5: hourly windows over the keyless latest view
SELECT window_start, window_end, COUNT(*) AS windows, AVG(fields['CO2Emission'].mean) AS co2_emission
FROM TABLE(TUMBLE(TABLE psrn_aggregates_latest, DESCRIPTOR(agg_end), INTERVAL '1' HOUR))
GROUP BY window_start, window_end;

-- 6: the records of PowerSystemRightNow, a plain JSON table of three columns
CREATE TABLE psrn_records (
  Minutes1UTC TIMESTAMP_LTZ(3),
  CO2Emission DOUBLE,
  SolarPower DOUBLE
) WITH (
  'connector' = 'kafka',
  'topic' = 'eds.PowerSystemRightNow.records',
  'properties.bootstrap.servers' = 'localhost:9092',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'json',
  'json.timestamp-format.standard' = 'ISO-8601'
);
SELECT Minutes1UTC, CO2Emission, SolarPower FROM psrn_records;
