//! Unit tests of the config structs (beside the code, in their own file).

use super::*;

#[test]
fn max_lag_defaults_to_two_resolutions_when_longer_than_30m() {
    let m = TimeDelta::minutes;
    assert_eq!(max_lag(None, m(1)), m(30));
    assert_eq!(max_lag(None, m(15)), m(30));
    assert_eq!(max_lag(None, m(60)), m(120), "an hourly row");
    let given = std::time::Duration::from_secs(600);
    assert_eq!(max_lag(Some(given), m(60)), m(10), "as given");
    assert_eq!(max_lag(None, TimeDelta::MAX), TimeDelta::MAX, "no overflow");
}
use crate::cli::{Cli, Command};
use clap::Parser;

fn config(extra: &[&str]) -> Result<PublishConfig> {
    let mut argv = vec!["eds-kafka", "publish", "--dry-run"];
    argv.extend_from_slice(extra);
    let Command::Publish(args) = Cli::try_parse_from(argv).unwrap().command else {
        panic!()
    };
    PublishConfig::from_args(&args, DateTime::from_timestamp(0, 0).unwrap())
}

fn exit(extra: &[&str]) -> Exit {
    crate::failure::exit_of(&config(extra).unwrap_err())
}

#[test]
fn defaults() {
    let c = config(&[]).unwrap();
    assert_eq!(c.source.dataset.name, "PowerSystemRightNow");
    assert_eq!(c.aggregate.window, TimeDelta::minutes(5));
    assert_eq!(c.aggregate.stats.len(), 5);
    assert_eq!(c.max_lag, TimeDelta::minutes(30));
    assert_eq!(
        c.now.timestamp(),
        0,
        "the clock passed in is used without --now"
    );
    let Fields::Named(f) = &c.aggregate.fields else {
        panic!()
    };
    assert_eq!(f.len(), 7);
}

#[test]
fn bad_values_are_usage_errors() {
    assert_eq!(exit(&["--dataset", "Nope"]), Exit::Usage);
    assert_eq!(exit(&["--api-url", "ftp://x"]), Exit::Usage);
    assert_eq!(exit(&["--window", "90s"]), Exit::Usage);
    assert_eq!(
        exit(&["--dataset", "CO2Emis", "--window", "7m"]),
        Exit::Usage
    );
    assert_eq!(exit(&["--fields", "Minutes1UTC"]), Exit::Usage);
    assert_eq!(exit(&["--fields", ","]), Exit::Usage);
    assert!(config(&["--dataset", "CO2Emis", "--window", "15m"]).is_ok());
    let err = config(&["--api-url", "not a url"]).unwrap_err();
    let typed = err.chain().find_map(|e| e.downcast_ref::<ConfigError>());
    assert!(matches!(typed, Some(ConfigError::BadUrl { .. })), "{err}");
}

#[test]
fn default_window_is_the_smallest_multiple_of_the_resolution_from_5m() {
    let window = |extra: &[&str]| config(extra).unwrap().aggregate.window;
    assert_eq!(window(&[]), TimeDelta::minutes(5));
    assert_eq!(window(&["--dataset", "CO2Emis"]), TimeDelta::minutes(5));
    assert_eq!(
        window(&["--dataset", "DayAheadPrices"]),
        TimeDelta::minutes(15)
    );
    let hourly = [
        "--dataset",
        "Elspotprices",
        "--time-column",
        "HourUTC",
        "--dk-time-column",
        "HourDK",
        "--key-columns",
        "PriceArea",
        "--resolution",
        "1h",
    ];
    assert_eq!(window(&hourly), TimeDelta::hours(1));
    assert_eq!(default_window(TimeDelta::minutes(2)), TimeDelta::minutes(6));
    assert_eq!(default_window(TimeDelta::minutes(1)), TimeDelta::minutes(5));
    // Given explicitly, it is checked as before.
    assert!(config(&[&hourly[..], &["--window", "5m"]].concat()).is_err());
}

#[test]
fn a_field_named_twice_is_aggregated_once() {
    let c = config(&["--fields", "SolarPower,CO2Emission,SolarPower"]).unwrap();
    assert_eq!(
        c.aggregate.fields,
        Fields::Named(vec!["SolarPower".into(), "CO2Emission".into()])
    );
}

#[test]
fn kafka_output_topics() {
    let publish = |extra: &[&str]| {
        let mut argv = vec!["eds-kafka", "publish", "--brokers", "b:9092"];
        argv.extend_from_slice(extra);
        let Command::Publish(args) = Cli::try_parse_from(argv).unwrap().command else {
            panic!()
        };
        PublishConfig::from_args(&args, DateTime::from_timestamp(0, 0).unwrap())
    };
    let Output::Kafka(k) = publish(&[]).unwrap().output else {
        panic!()
    };
    assert_eq!(
        k.topics.records.as_deref(),
        Some("eds.PowerSystemRightNow.records")
    );
    assert_eq!(
        k.topics.aggregates.as_deref(),
        Some("eds.PowerSystemRightNow.aggregates")
    );
    assert_eq!(k.create_topics, None);
    let Output::Kafka(k) = publish(&["--records-topic", "", "--create-topics"])
        .unwrap()
        .output
    else {
        panic!()
    };
    assert_eq!(k.topics.records, None);
    assert_eq!(k.create_topics, Some(NewTopics::default()));
    let e = publish(&["--records-topic", "", "--aggregates-topic", ""]).unwrap_err();
    assert_eq!(crate::failure::exit_of(&e), Exit::Usage);
}

#[test]
fn replication_factor_and_topic_config_shape_new_topics() {
    let created = |extra: &[&str]| {
        let mut argv = vec!["eds-kafka", "publish", "--brokers", "b:9092"];
        argv.extend_from_slice(extra);
        let args = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        let Command::Publish(args) = args.command else {
            panic!()
        };
        let config = PublishConfig::from_args(&args, DateTime::from_timestamp(0, 0).unwrap())
            .map_err(|e| e.to_string())?;
        let Output::Kafka(k) = config.output else {
            panic!()
        };
        Ok::<_, String>(k.create_topics)
    };
    let new = created(&[
        "--create-topics",
        "--replication-factor",
        "3",
        "--topic-config",
        "min.insync.replicas=2",
        "--topic-config",
        "cleanup.policy=compact,delete",
    ])
    .unwrap()
    .unwrap();
    assert_eq!(new.replication_factor, Some(3));
    assert_eq!(
        new.config,
        [
            ("min.insync.replicas".into(), "2".into()),
            ("cleanup.policy".into(), "compact,delete".into())
        ]
    );
    for bad in [
        &["--create-topics", "--replication-factor", "0"][..],
        &["--create-topics", "--replication-factor", "40000"],
        &["--create-topics", "--replication-factor", "x"],
        &["--replication-factor", "3"],
        &["--topic-config", "min.insync.replicas=2"],
        &["--create-topics", "--topic-config", "novalue"],
        &["--create-topics", "--topic-config", "a b=1"],
        &[
            "--create-topics",
            "--topic-config",
            "x=1",
            "--topic-config",
            "x=2",
        ],
    ] {
        assert!(created(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn all_fields_and_now() {
    let c = config(&["--fields", "all", "--now", "2026-11-28T13:00:30+01:00"]).unwrap();
    assert_eq!(c.aggregate.fields, Fields::All);
    assert_eq!(crate::time::format_utc(c.now), "2026-11-28T12:00:30Z");
}
