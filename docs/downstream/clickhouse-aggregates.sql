-- ClickHouse: the aggregates topic of Forecasts_5Min through the Kafka engine
-- and a materialized view into a ReplacingMergeTree keyed on the message key
-- (window_end/PriceArea/ForecastType), with the header eds-revision as its
-- version (0 without it): a correction (the same key, a higher revision)
-- replaces what it corrects, and a replay of the topic changes nothing. Read
-- it with FINAL. For a keyless dataset (PowerSystemRightNow) drop the
-- PriceArea/ForecastType lines and change the names.
-- scripts/downstream runs this file as written (brokers in place of
-- localhost:9092) and compares what it reads with `eds-kafka consume`.
CREATE TABLE forecasts_aggregates_queue (
  dataset String, window_start DateTime64(0, 'UTC'), window_end DateTime64(0, 'UTC'),
  rows UInt32, expected_rows UInt32, missing Array(DateTime64(0, 'UTC')),
  PriceArea String, ForecastType String,
  fields Map(String, Tuple(count UInt32, mean Nullable(Float64), min Nullable(Float64),
                           max Nullable(Float64), last Nullable(Float64)))
) ENGINE = Kafka SETTINGS kafka_broker_list = 'localhost:9092',
  kafka_topic_list = 'eds.Forecasts_5Min.aggregates', kafka_group_name = 'clickhouse_forecasts_aggregates',
  kafka_format = 'JSONEachRow', date_time_input_format = 'best_effort';

CREATE TABLE forecasts_aggregates (
  message_key String,  -- the Kafka key
  revision UInt32,     -- header eds-revision, 0 without it
  dataset String, window_start DateTime64(0, 'UTC'), window_end DateTime64(0, 'UTC'),
  rows UInt32, expected_rows UInt32, missing Array(DateTime64(0, 'UTC')),
  PriceArea String, ForecastType String,
  fields Map(String, Tuple(count UInt32, mean Nullable(Float64), min Nullable(Float64),
                           max Nullable(Float64), last Nullable(Float64)))
) ENGINE = ReplacingMergeTree(revision) ORDER BY message_key;

CREATE MATERIALIZED VIEW forecasts_aggregates_mv TO forecasts_aggregates AS
SELECT _key AS message_key,
  toUInt32OrZero(_headers.value[indexOf(_headers.name, 'eds-revision')]) AS revision,
  *
FROM forecasts_aggregates_queue;

-- Per hour, area and type: how many 5-minute windows ended in it (an hour
-- holds the windows ending at :00 to :55, as a Flink TUMBLE over window_end),
-- and the mean of their ForecastCurrent means (only complete windows:
-- WHERE length(missing) = 0).
SELECT toStartOfHour(window_end) AS hour, PriceArea, ForecastType,
  count() AS windows, avg(fields['ForecastCurrent'].mean) AS forecast_current
FROM forecasts_aggregates FINAL
GROUP BY hour, PriceArea, ForecastType
ORDER BY hour, PriceArea, ForecastType;
