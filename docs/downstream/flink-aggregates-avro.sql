-- Flink SQL (Flink 2.2; flink-sql-connector-kafka 5.0.0-2.2,
-- flink-sql-avro-confluent-registry 2.2.0): the aggregates topic of
-- Forecasts_5Min written with --value-format avro, as the table, view and
-- hourly query of flink-aggregates.sql. Values are read by their schema id
-- from the registry. Times are TIMESTAMP(3) (Avro timestamp-millis, UTC): the
-- avro-confluent format has no TIMESTAMP_LTZ; missing is an array of them.
-- For a keyless dataset (PowerSystemRightNow) drop the PriceArea and
-- ForecastType lines and change the names: its message key is the window end.
-- scripts/downstream runs this file as written (brokers in place of
-- localhost:9092, its registry in place of http://localhost:8081) and compares
-- what it reads with the values decoded by `eds-kafka consume`.
CREATE TABLE forecasts_aggregates (
  message_key STRING,  -- the Kafka key: window_end/PriceArea/ForecastType
  `dataset` STRING,
  window_start TIMESTAMP(3),
  window_end TIMESTAMP(3),
  `rows` BIGINT,
  expected_rows BIGINT,
  missing ARRAY<TIMESTAMP(3)>,
  PriceArea STRING,
  ForecastType STRING,
  fields MAP<STRING, ROW<`count` BIGINT, mean DOUBLE, `min` DOUBLE, `max` DOUBLE, `last` DOUBLE>>,
  headers MAP<STRING, BYTES> METADATA VIRTUAL,  -- eds-dataset; eds-revision on a correction
  `offset` BIGINT METADATA VIRTUAL,
  -- --max-key-lateness (1 h by default) and one window more: see flink-aggregates.sql.
  WATERMARK FOR window_end AS window_end - INTERVAL '65' MINUTE
) WITH (
  'connector' = 'kafka',
  'topic' = 'eds.Forecasts_5Min.aggregates',
  'properties.bootstrap.servers' = 'localhost:9092',
  'scan.startup.mode' = 'earliest-offset',
  'key.format' = 'raw',
  'key.fields' = 'message_key',
  'value.format' = 'avro-confluent',
  'value.avro-confluent.url' = 'http://localhost:8081',
  'value.fields-include' = 'EXCEPT_KEY'
);

-- The latest message of each key, window_start and window_end renamed (see
-- flink-aggregates.sql).
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
-- of their ForecastCurrent means.
SELECT window_start, window_end, PriceArea, ForecastType,
  COUNT(*) AS windows, AVG(fields['ForecastCurrent'].mean) AS forecast_current
FROM TABLE(TUMBLE(TABLE forecasts_aggregates_latest, DESCRIPTOR(agg_end), INTERVAL '1' HOUR))
GROUP BY window_start, window_end, PriceArea, ForecastType;
