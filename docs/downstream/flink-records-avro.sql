-- Flink SQL (Flink 2.2; flink-sql-connector-kafka 5.0.0-2.2,
-- flink-sql-avro-confluent-registry 2.2.0): the records topic of
-- Forecasts_5Min written with --value-format avro, as the upsert table of
-- flink-records-upsert.sql. Values are read by their schema id from the
-- registry; the table's columns are a subset of the writer schema (its field
-- extra, the row's unknown fields, is left out). The UTC time is TIMESTAMP(3):
-- the avro-confluent format has no TIMESTAMP_LTZ; the session's time zone
-- does not change it.
-- scripts/downstream runs this file as written (brokers in place of
-- localhost:9092, its registry in place of http://localhost:8081) and compares
-- what it reads with the values decoded by `eds-kafka consume`.
CREATE TABLE forecasts_records (
  message_key STRING,  -- the Kafka key: Minutes5UTC/PriceArea/ForecastType
  Minutes5UTC TIMESTAMP(3),  -- UTC (Avro timestamp-millis)
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
  'value.format' = 'avro-confluent',
  'value.avro-confluent.url' = 'http://localhost:8081',
  'value.fields-include' = 'EXCEPT_KEY'
);

-- Per area and type: rows and the mean ForecastCurrent, corrections applied.
SELECT PriceArea, ForecastType, COUNT(*) AS row_count, AVG(ForecastCurrent) AS forecast_current
FROM forecasts_records
GROUP BY PriceArea, ForecastType;
