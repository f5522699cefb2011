//! `chart`'s picture of a year of a keyed dataset's 5-minute aggregates
//! (two key combinations, four fields, one of them always null): downsampled
//! to the plot's width and drawn in under a second, every line within the
//! plot's width, the null field a "no data" panel. No broker: the picture is
//! built from the library's parts, as `chart` builds it after reading.

use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use eds_kafka::chart::{downsample, render, Panel, Picture, Point, Series, PLOT_WIDTH};

fn year() -> (DateTime<Utc>, DateTime<Utc>) {
    let from = DateTime::parse_from_rfc3339("2025-11-28T00:00:00Z")
        .unwrap()
        .to_utc();
    (from, from + TimeDelta::days(365))
}

/// A year of windows of one key: a daily wave, one incomplete window a week.
fn windows(key: usize, field: usize, from: DateTime<Utc>) -> Vec<Point> {
    (0..365 * 288)
        .map(|i: i64| {
            let v = (i as f64 / 288.0 * std::f64::consts::TAU).sin() * 100.0
                + (key * 1000 + field * 10) as f64;
            let value = (field != 3).then_some(v);
            Point {
                end: from + TimeDelta::minutes(5 * (i + 1)),
                mean: value,
                min: value.map(|v| v - 5.0),
                max: value.map(|v| v + 5.0),
                incomplete: i % 2016 == 1000,
            }
        })
        .collect()
}

#[test]
fn a_year_of_keyed_windows_is_drawn_in_under_a_second() {
    let (from, to) = year();
    let raw: Vec<Vec<Vec<Point>>> = (0..4)
        .map(|f| (0..2).map(|k| windows(k, f, from)).collect())
        .collect();
    let started = Instant::now();
    let panels = raw
        .iter()
        .enumerate()
        .map(|(f, keys)| Panel {
            field: format!("Field{f}"),
            unit: Some("MW"),
            series: keys
                .iter()
                .enumerate()
                .map(|(k, points)| Series {
                    label: ["DK1", "DK2"][k].to_string(),
                    points: downsample(points, from, to, PLOT_WIDTH),
                })
                .collect(),
        })
        .collect();
    let picture = Picture {
        title: "a year".into(),
        from,
        to,
        step: TimeDelta::days(365) / PLOT_WIDTH as i32,
        panels,
    };
    let svg = render(&picture).unwrap();
    let took = started.elapsed();
    eprintln!(
        "a year of 2 x {} windows x 4 fields: downsampled and drawn in {took:?}, {} bytes of SVG",
        raw[0][0].len(),
        svg.len()
    );
    assert!(took.as_secs_f64() < 1.0, "{took:?}");
    for line in svg.split("<polyline").skip(1) {
        let points = line
            .split_once("points=\"")
            .unwrap()
            .1
            .split_once('"')
            .unwrap()
            .0;
        assert!(
            points.split(' ').count() <= PLOT_WIDTH,
            "a line within the plot's width"
        );
    }
    assert!(svg.contains("Field3: no data in this period"));
    assert!(svg.contains(">\n2026-"), "dates on the time axis of a year");
    // One mark per incomplete window (a week apart from day 3: 52 a key; 3 panels drawn).
    assert_eq!(svg.matches("<circle").count(), 3 * 2 * 52);
}
