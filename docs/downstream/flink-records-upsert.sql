-- Flink SQL (Flink 2.2; flink-sql-connector-kafka 5.0.0-2.2, flink-json):
-- the records topic of Forecasts_5Min as an upsert table, one row per message
-- key (time/PriceArea/ForecastType): a later message with the same key (a
-- correction, header eds-revision: N) replaces the row. eds-kafka never writes
-- a null value, so no row is deleted.
-- scripts/downstream runs this file as written (brokers in place of
-- localhost:9092) and compares what it reads with `eds-kafka consume`.
CREATE TABLE forecasts_records (
  message_key STRING,  -- the Kafka key: Minutes5UTC/PriceArea/ForecastType
  Minutes5UTC TIMESTAMP_LTZ(3),
  Minutes5DK STRING,  -- Danish local time without offset
  PriceArea STRING,
  ForecastType STRING,
  ForecastDayAhead DOUBLE,
  ForecastIntraday DOUBLE,
  Forecast5Hour DOUBLE,
  Forecast1Hour DOUBLE,
  ForecastCurrent DOUBLE,
  headers MAP<STRING, BYTES> METADATA VIRTUAL,  -- eds-dataset; eds-revision on a correction
  PRIMARY KEY (message_key) NOT ENFORCED
) WITH (
  'connector' = 'upsert-kafka',
  'topic' = 'eds.Forecasts_5Min.records',
  'properties.bootstrap.servers' = 'localhost:9092',
  'key.format' = 'raw',
  'value.format' = 'json',
  'value.fields-include' = 'EXCEPT_KEY',
  'value.json.timestamp-format.standard' = 'ISO-8601'
);

-- Per area and type: rows and the mean ForecastCurrent, corrections applied.
SELECT PriceArea, ForecastType, COUNT(*) AS row_count, AVG(ForecastCurrent) AS forecast_current
FROM forecasts_records
GROUP BY PriceArea, ForecastType;
