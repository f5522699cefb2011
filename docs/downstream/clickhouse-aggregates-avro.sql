-- ClickHouse: the aggregates topic of Forecasts_5Min written with
-- --value-format avro, through the Kafka engine (format AvroConfluent: each
-- value's schema fetched by its id from format_avro_schema_registry_url, once)
-- into the ReplacingMergeTree of clickhouse-aggregates.sql, read with FINAL.
-- Avro timestamp-millis is DateTime64(3), a record a named Tuple. For a
-- keyless dataset (PowerSystemRightNow) drop the PriceArea/ForecastType lines
-- and change the names.
-- scripts/downstream runs this file as written (brokers in place of
-- localhost:9092, its registry in place of http://localhost:8081) and compares
-- what it reads with the values decoded by `eds-kafka consume`.
CREATE TABLE forecasts_aggregates_queue (
  dataset String, window_start DateTime64(3, 'UTC'), window_end DateTime64(3, 'UTC'),
  rows Int64, expected_rows Int64, missing Array(DateTime64(3, 'UTC')),
  PriceArea String, ForecastType String,
  fields Map(String, Tuple(count Int64, mean Nullable(Float64), min Nullable(Float64),
                           max Nullable(Float64), last Nullable(Float64)))
) ENGINE = Kafka SETTINGS kafka_broker_list = 'localhost:9092',
  kafka_topic_list = 'eds.Forecasts_5Min.aggregates', kafka_group_name = 'clickhouse_forecasts_aggregates_avro',
  kafka_format = 'AvroConfluent', format_avro_schema_registry_url = 'http://localhost:8081';

CREATE TABLE forecasts_aggregates (
  message_key String,  -- the Kafka key
  revision UInt32,     -- header eds-revision, 0 without it
  dataset String, window_start DateTime64(3, 'UTC'), window_end DateTime64(3, 'UTC'),
  rows Int64, expected_rows Int64, missing Array(DateTime64(3, 'UTC')),
  PriceArea String, ForecastType String,
  fields Map(String, Tuple(count Int64, mean Nullable(Float64), min Nullable(Float64),
                           max Nullable(Float64), last Nullable(Float64)))
) ENGINE = ReplacingMergeTree(revision) ORDER BY message_key;

CREATE MATERIALIZED VIEW forecasts_aggregates_mv TO forecasts_aggregates AS
SELECT _key AS message_key,
  toUInt32OrZero(_headers.value[indexOf(_headers.name, 'eds-revision')]) AS revision,
  *
FROM forecasts_aggregates_queue;

-- Per hour, area and type: how many 5-minute windows ended in it, and the mean
-- of their ForecastCurrent means.
SELECT toStartOfHour(window_end) AS hour, PriceArea, ForecastType,
  count() AS windows, avg(fields['ForecastCurrent'].mean) AS forecast_current
FROM forecasts_aggregates FINAL
GROUP BY hour, PriceArea, ForecastType
ORDER BY hour, PriceArea, ForecastType;
