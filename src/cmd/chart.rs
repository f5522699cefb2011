//! `eds-kafka chart`: reads the aggregates topic over the last `--since`
//! ([`crate::scan`]) and draws it ([`crate::chart`]) as SVG to stdout or
//! `--output FILE`. No aggregate in the period: exit 3, said plainly.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Instant;

use anyhow::{Context as _, Result};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use crate::aggregate::{Aggregate, FieldStats};
use crate::chart::{downsample, render, unit, Panel, Picture, Point, Series, PLOT_WIDTH};
use crate::config::chart::MAX_PANELS;
use crate::config::ChartConfig;
use crate::exit::{fail, Exit};
use crate::scan::Scan;
use crate::time::{format_span, format_utc};

/// One window of one key combination, as read.
struct Window {
    end: DateTime<Utc>,
    incomplete: bool,
    fields: Vec<(String, FieldStats)>,
}

/// Each key combination's windows, and the field names in the order first seen.
#[derive(Default)]
struct Read {
    keys: BTreeMap<Vec<String>, Vec<Window>>,
    fields: Vec<String>,
    windows: usize,
}

pub fn run(config: &ChartConfig) -> Result<()> {
    let started = Instant::now();
    let read = read(config)?;
    log::debug!(
        "read {} windows in {}",
        read.windows,
        crate::logging::elapsed(started.elapsed())
    );
    if read.windows == 0 {
        return Err(fail(
            Exit::Data,
            format!(
                "no aggregates of {} in {} within the last {} before {}: nothing to draw \
                 (check --aggregates-topic, --dataset and --since)",
                config.dataset.name,
                config.topic,
                format_span(config.since),
                format_utc(config.now)
            ),
        ));
    }
    let drawn = Instant::now();
    let svg = render(&picture(config, &read))?;
    log::debug!("drawn in {}", crate::logging::elapsed(drawn.elapsed()));
    match &config.output {
        Some(path) => std::fs::write(path, svg)
            .with_context(|| format!("writing --output {}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(svg.as_bytes())?;
            out.flush().context("writing stdout")
        }
    }
}

fn read(config: &ChartConfig) -> Result<Read> {
    let mut read = Read::default();
    let scan = Scan {
        settings: &config.settings,
        dataset: &config.dataset,
        topics: &[&config.topic],
        partition: config.partition,
        from: config.now - config.since,
    };
    scan.run(|_, key, payload| {
        if key.time > config.now || config.now - key.time >= config.since {
            return;
        }
        let parsed = serde_json::from_slice::<Value>(payload)
            .map_err(anyhow::Error::from)
            .and_then(|v| Aggregate::from_json(&v, &config.dataset));
        let agg = match parsed {
            Ok((agg, _)) => agg,
            Err(e) => {
                log::warn!("{}: not an aggregate of ours ({e}); skipped", config.topic);
                return;
            }
        };
        for (name, _) in &agg.fields {
            if !read.fields.contains(name) {
                read.fields.push(name.clone());
            }
        }
        read.windows += 1;
        // Only the fields drawn are kept (a year is 100,000 windows a key).
        let named = config.fields.named();
        let drawn = |name: &String| {
            named.map_or_else(
                || read.fields.iter().take(MAX_PANELS).any(|f| f == name),
                |n| n.contains(name),
            )
        };
        let fields = agg.fields.into_iter().filter(|(n, _)| drawn(n)).collect();
        read.keys.entry(key.key).or_default().push(Window {
            end: key.time,
            incomplete: agg.completeness.is_some_and(|c| !c.missing.is_empty()),
            fields,
        });
    })?;
    for windows in read.keys.values_mut() {
        windows.sort_by_key(|w| w.end);
        windows.dedup_by_key(|w| w.end);
    }
    Ok(read)
}

/// The fields drawn: those named, or the first [`MAX_PANELS`] read.
fn fields(config: &ChartConfig, read: &Read) -> Vec<String> {
    match config.fields.named() {
        Some(named) => named.to_vec(),
        None => {
            if read.fields.len() > MAX_PANELS {
                log::warn!(
                    "the aggregates have {} fields: drawing the first {MAX_PANELS} ({}); \
                     name others with --fields",
                    read.fields.len(),
                    read.fields[..MAX_PANELS].join(",")
                );
            }
            read.fields.iter().take(MAX_PANELS).cloned().collect()
        }
    }
}

/// The time between two windows: the smallest step of the first key
/// combination (the resolution with fewer than two windows).
fn step(config: &ChartConfig, read: &Read) -> TimeDelta {
    read.keys
        .values()
        .next()
        .and_then(|w| w.windows(2).map(|p| p[1].end - p[0].end).min())
        .unwrap_or(config.dataset.resolution)
}

fn picture(config: &ChartConfig, read: &Read) -> Picture {
    let from = config.now - config.since;
    let column = (config.since / PLOT_WIDTH as i32).max(TimeDelta::seconds(1));
    let most = read.keys.values().map(Vec::len).max().unwrap_or(0);
    let step = if most > PLOT_WIDTH {
        step(config, read).max(column)
    } else {
        step(config, read)
    };
    let panels = fields(config, read)
        .into_iter()
        .map(|field| Panel {
            unit: unit(&config.dataset.name, &field),
            series: read
                .keys
                .iter()
                .map(|(key, windows)| series(key, windows, &field, from, config.now))
                .collect(),
            field,
        })
        .collect();
    let downsampled = if most > PLOT_WIDTH {
        format!(", {PLOT_WIDTH} points a line")
    } else {
        String::new()
    };
    Picture {
        // About 90 characters: the picture is 1200 pixels wide.
        title: format!(
            "{}: {} to {}, {} window(s){downsampled}",
            config.dataset.name,
            format_utc(from),
            format_utc(config.now),
            read.windows
        ),
        from,
        to: config.now,
        step,
        panels,
    }
}

fn series(
    key: &[String],
    windows: &[Window],
    field: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Series {
    let points: Vec<Point> = windows
        .iter()
        .map(|w| {
            let stats = w.fields.iter().find(|(n, _)| n == field).map(|(_, s)| s);
            Point {
                end: w.end,
                mean: stats.and_then(|s| s.mean),
                min: stats.and_then(|s| s.min),
                max: stats.and_then(|s| s.max),
                incomplete: w.incomplete,
            }
        })
        .collect();
    Series {
        label: if key.is_empty() {
            "(no key)".to_string()
        } else {
            key.join("/")
        },
        points: downsample(&points, from, to, PLOT_WIDTH),
    }
}
