-- ClickHouse: the records topic of Forecasts_5Min through the Kafka engine and
-- a materialized view into a ReplacingMergeTree keyed on the message key
-- (Minutes5UTC/PriceArea/ForecastType), with the header eds-revision as its
-- version (0 without it): a correction replaces what it corrects. Read it
-- with FINAL.
-- scripts/downstream runs this file as written (brokers in place of
-- localhost:9092) and compares what it reads with `eds-kafka consume`.
CREATE TABLE forecasts_records_queue (
  Minutes5UTC DateTime64(0, 'UTC'), Minutes5DK String,
  PriceArea String, ForecastType String,
  ForecastDayAhead Nullable(Float64), ForecastIntraday Nullable(Float64),
  Forecast5Hour Nullable(Float64), Forecast1Hour Nullable(Float64),
  ForecastCurrent Nullable(Float64)
) ENGINE = Kafka SETTINGS kafka_broker_list = 'localhost:9092',
  kafka_topic_list = 'eds.Forecasts_5Min.records', kafka_group_name = 'clickhouse_forecasts_records',
  kafka_format = 'JSONEachRow', date_time_input_format = 'best_effort';

CREATE TABLE forecasts_records (
  message_key String,  -- the Kafka key
  revision UInt32,     -- header eds-revision, 0 without it
  Minutes5UTC DateTime64(0, 'UTC'), Minutes5DK String,
  PriceArea String, ForecastType String,
  ForecastDayAhead Nullable(Float64), ForecastIntraday Nullable(Float64),
  Forecast5Hour Nullable(Float64), Forecast1Hour Nullable(Float64),
  ForecastCurrent Nullable(Float64)
) ENGINE = ReplacingMergeTree(revision) ORDER BY message_key;

CREATE MATERIALIZED VIEW forecasts_records_mv TO forecasts_records AS
SELECT _key AS message_key,
  toUInt32OrZero(_headers.value[indexOf(_headers.name, 'eds-revision')]) AS revision,
  *
FROM forecasts_records_queue;
