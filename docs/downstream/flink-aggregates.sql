-- Flink SQL (Flink 2.2; flink-sql-connector-kafka 5.0.0-2.2, flink-json):
-- the aggregates topic of Forecasts_5Min as a table, one row per message.
-- For a keyless dataset (PowerSystemRightNow) drop the PriceArea and
-- ForecastType lines and change the names: its message key is the window end.
-- scripts/downstream runs this file as written (brokers in place of
-- localhost:9092) and compares what it reads with `eds-kafka consume`.
CREATE TABLE forecasts_aggregates (
  message_key STRING,  -- the Kafka key: window_end/PriceArea/ForecastType
  `dataset` STRING,
  window_start TIMESTAMP_LTZ(3),
  window_end TIMESTAMP_LTZ(3),
  `rows` BIGINT,
  expected_rows BIGINT,
  missing ARRAY<STRING>,
  PriceArea STRING,
  ForecastType STRING,
  fields MAP<STRING, ROW<`count` BIGINT, mean DOUBLE, `min` DOUBLE, `max` DOUBLE, `last` DOUBLE>>,
  headers MAP<STRING, BYTES> METADATA VIRTUAL,  -- eds-dataset; eds-revision on a correction
  `offset` BIGINT METADATA VIRTUAL,
  -- A key combination may trail the newest one by --max-key-lateness (1 h by
  -- default) and its aggregates by one window (5 min) more; a watermark that
  -- allows less drops their windows as late. Follow the flag when you raise it.
  WATERMARK FOR window_end AS window_end - INTERVAL '65' MINUTE
) WITH (
  'connector' = 'kafka',
  'topic' = 'eds.Forecasts_5Min.aggregates',
  'properties.bootstrap.servers' = 'localhost:9092',
  'scan.startup.mode' = 'earliest-offset',
  'key.format' = 'raw',
  'key.fields' = 'message_key',
  'value.format' = 'json',
  'value.fields-include' = 'EXCEPT_KEY',
  'value.json.timestamp-format.standard' = 'ISO-8601'
);

-- The latest message of each key: a correction (the same key again, header
-- eds-revision: N) replaces what it corrects. The table's window_start and
-- window_end are renamed agg_start and agg_end: a window function (TUMBLE,
-- HOP, CUMULATE) adds columns of those names, and over the table itself fails
-- with "Column 'window_start' is ambiguous".
CREATE VIEW forecasts_aggregates_latest AS
SELECT message_key, `dataset`, window_start AS agg_start, window_end AS agg_end,
  `rows`, expected_rows, missing,
  PriceArea,
  ForecastType,
  fields,
  COALESCE(CAST(CAST(headers['eds-revision'] AS STRING) AS INT), 0) AS revision
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY message_key ORDER BY `offset` DESC) AS rn
  FROM forecasts_aggregates
)
WHERE rn = 1;

-- Per hour, area and type: how many 5-minute windows ended in it, and the mean
-- of their ForecastCurrent means (only complete windows: add
-- WHERE CARDINALITY(missing) = 0 to the view).
SELECT window_start, window_end, PriceArea, ForecastType,
  COUNT(*) AS windows, AVG(fields['ForecastCurrent'].mean) AS forecast_current
FROM TABLE(TUMBLE(TABLE forecasts_aggregates_latest, DESCRIPTOR(agg_end), INTERVAL '1' HOUR))
GROUP BY window_start, window_end, PriceArea, ForecastType;
