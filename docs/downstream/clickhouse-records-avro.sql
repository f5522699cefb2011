-- ClickHouse: the records topic of Forecasts_5Min written with --value-format
-- avro, through the Kafka engine (format AvroConfluent: each value's schema
-- fetched by its id from format_avro_schema_registry_url, once) into the
-- ReplacingMergeTree of clickhouse-records.sql. Avro timestamp-millis is
-- DateTime64(3); the writer schema's other fields (extra) are not read.
-- scripts/downstream runs this file as written (brokers in place of
-- localhost:9092, its registry in place of http://localhost:8081) and compares
-- what it reads with the values decoded by `eds-kafka consume`.
CREATE TABLE forecasts_records_queue (
  Minutes5UTC DateTime64(3, 'UTC'), Minutes5DK Nullable(String),
  PriceArea String, ForecastType String,
  ForecastDayAhead Nullable(Float64), ForecastIntraday Nullable(Float64),
  Forecast5Hour Nullable(Float64), Forecast1Hour Nullable(Float64),
  ForecastCurrent Nullable(Float64)
) ENGINE = Kafka SETTINGS kafka_broker_list = 'localhost:9092',
  kafka_topic_list = 'eds.Forecasts_5Min.records', kafka_group_name = 'clickhouse_forecasts_records_avro',
  kafka_format = 'AvroConfluent', format_avro_schema_registry_url = 'http://localhost:8081';

CREATE TABLE forecasts_records (
  message_key String,  -- the Kafka key
  revision UInt32,     -- header eds-revision, 0 without it
  Minutes5UTC DateTime64(3, 'UTC'), Minutes5DK Nullable(String),
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
