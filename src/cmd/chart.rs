//! `eds-kafka chart`: reads the aggregates topic over the last `--since`
//! ([`crate::scan`]) and draws it ([`crate::chart`]) as SVG to stdout or
//! `--output FILE`. No aggregate in the period: exit 3, said plainly; a
//! `--fields` name the aggregates do not have: exit 2, listing those they
//! have. At most `--max-keys` key combinations are drawn: those with the
//! most windows in the period (ties by name); the title says how many were
//! left out. Messages that are not valid aggregates are skipped, said once.
//! Aggregates in the schema registry's wire format are read with
//! `--schema-registry` (without it: exit 2, naming the flag).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write as _;
use std::time::Instant;

use anyhow::{Context as _, Result};
use chrono::{DateTime, TimeDelta, Utc};

use crate::aggregate::{Aggregate, FieldStats};
use crate::chart::{downsample, render, unit, Panel, Picture, Point, Series, PLOT_WIDTH};
use crate::config::chart::MAX_PANELS;
use crate::config::ChartConfig;
use crate::logging::Tally;
use crate::registry::Values;
use crate::scan::Scan;
use crate::text::visible;
use crate::time::format_utc;

/// One window of one key combination, as read: only the fields drawn.
struct Window {
    end: DateTime<Utc>,
    incomplete: bool,
    fields: Vec<(String, FieldStats)>,
}

/// What one read of the topic found.
#[derive(Default)]
struct Read {
    /// The windows of the key combinations kept (see [`Chosen`]).
    keys: BTreeMap<Vec<String>, Vec<Window>>,
    /// Every key combination's number of windows.
    counts: BTreeMap<Vec<String>, usize>,
    /// A key combination was not kept for want of room.
    overflow: bool,
    /// The field names, in the order first seen.
    fields: Vec<String>,
    seen: HashSet<String>,
    windows: usize,
    invalid: Tally,
}

/// Which key combinations a read keeps: the first `max` it meets, or
/// those chosen by an earlier read.
enum Chosen<'a> {
    First(usize),
    These(&'a BTreeSet<Vec<String>>),
}

pub fn run(config: &ChartConfig) -> Result<()> {
    let started = Instant::now();
    let read = read_chosen(config)?;
    log::debug!(
        "read {} windows in {}",
        read.windows,
        crate::logging::elapsed(started.elapsed())
    );
    if read.windows == 0 {
        return Err(nothing_to_draw(config, &read));
    }
    let fields = fields(config, &read)?;
    let drawn = Instant::now();
    let svg = render(&picture(config, &read, fields))?;
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

/// Reads the period; when it has more key combinations than `--max-keys`
/// and those kept are not the ones with the most windows, reads it again
/// keeping those.
fn read_chosen(config: &ChartConfig) -> Result<Read> {
    // One registry client for both reads: each schema id is fetched once.
    let mut values = Values::connect(config.registry.as_ref())?;
    let first = read(config, Chosen::First(config.max_keys), &mut values)?;
    if !first.overflow {
        return Ok(first);
    }
    let mut ranked: Vec<(&Vec<String>, &usize)> = first.counts.iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let chosen: BTreeSet<Vec<String>> = (ranked.into_iter().take(config.max_keys))
        .map(|(k, _)| k.clone())
        .collect();
    if chosen.iter().eq(first.keys.keys()) {
        return Ok(first);
    }
    log::debug!(
        "reading again for the {} key combinations drawn",
        chosen.len()
    );
    read(config, Chosen::These(&chosen), &mut values)
}

fn nothing_to_draw(config: &ChartConfig, read: &Read) -> anyhow::Error {
    super::CommandError::NothingToDraw {
        dataset: config.dataset.name.clone(),
        topic: config.topic.clone(),
        since: config.since,
        now: config.now,
        skipped: read.invalid.count,
    }
    .into()
}

fn read(config: &ChartConfig, chosen: Chosen<'_>, values: &mut Values) -> Result<Read> {
    let mut read = Read::default();
    let scan = Scan {
        settings: &config.settings,
        dataset: &config.dataset,
        topics: &[&config.topic],
        partition: config.partition,
        from: config.now - config.since,
    };
    scan.run(|m| {
        let key = m.key;
        if key.time > config.now || config.now - key.time >= config.since {
            return Ok(());
        }
        let got = values.aggregate(m.payload, &key, &config.dataset);
        match got.map_err(|e| super::status::at(&config.topic, m.offset, e))? {
            Ok(agg) => read.add(config, &chosen, key.key, key.time, agg),
            Err(why) => read.invalid.add(format!("offset {}: {why}", m.offset)),
        }
        Ok(())
    })?;
    let what = format!(
        "in {} that are not aggregates of {}, skipped",
        config.topic, config.dataset.name
    );
    if let Some(line) = read.invalid.summary(&what) {
        log::warn!("{line}");
    }
    read.keys.values_mut().for_each(latest_per_end);
    Ok(read)
}

/// Windows in the order read become one per window end, in time order: a
/// changelog, so the latest message of a window end is its aggregate
/// (reversed, a stable sort keeps it first among its equals).
fn latest_per_end(windows: &mut Vec<Window>) {
    windows.reverse();
    windows.sort_by_key(|w| w.end);
    windows.dedup_by_key(|w| w.end);
}

impl Read {
    /// One valid aggregate: its fields noted, its window kept when its key
    /// combination is (only the fields drawn: a year is 100,000 windows a key).
    fn add(
        &mut self,
        config: &ChartConfig,
        chosen: &Chosen<'_>,
        key: Vec<String>,
        end: DateTime<Utc>,
        agg: Aggregate,
    ) {
        for (name, _) in &agg.fields {
            if self.seen.insert(name.clone()) {
                self.fields.push(name.clone());
            }
        }
        self.windows += 1;
        *self.counts.entry(key.clone()).or_default() += 1;
        let keep = match chosen {
            Chosen::These(keys) => keys.contains(&key),
            Chosen::First(max) => {
                let room = self.keys.contains_key(&key) || self.keys.len() < *max;
                self.overflow |= !room;
                room
            }
        };
        if !keep {
            return;
        }
        let named = config.fields.named();
        let fields = (agg.fields.into_iter())
            .filter(|(n, _)| match named {
                Some(named) => named.contains(n),
                None => self.fields.iter().take(MAX_PANELS).any(|f| f == n),
            })
            .collect();
        self.keys.entry(key).or_default().push(Window {
            end,
            incomplete: agg.completeness.is_some_and(|c| !c.missing.is_empty()),
            fields,
        });
    }
}

/// `chart --fields` naming a field the aggregates do not have (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error(
        "--fields: the aggregates of {dataset} in {topic} have no field {}; they have {}{}",
        unknown.iter().map(|f| format!("'{}'", visible(f))).collect::<Vec<_>>().join(", "),
        had.iter().take(40).map(|f| visible(f).into_owned()).collect::<Vec<_>>().join(","),
        match had.len().saturating_sub(40) { 0 => String::new(), n => format!(" and {n} more") }
    )]
    UnknownFields {
        dataset: String,
        topic: String,
        unknown: Vec<String>,
        had: Vec<String>,
    },
}

impl crate::exit::Staged for ChartError {
    fn exit(&self) -> crate::exit::Exit {
        crate::exit::Exit::Usage
    }
}

/// The fields drawn: those named (each must be one the aggregates have:
/// exit 2 otherwise), or the first [`MAX_PANELS`] read.
fn fields(config: &ChartConfig, read: &Read) -> Result<Vec<String>> {
    if let Some(named) = config.fields.named() {
        let unknown: Vec<&String> = named.iter().filter(|f| !read.seen.contains(*f)).collect();
        if unknown.is_empty() {
            return Ok(named.to_vec());
        }
        return Err(ChartError::UnknownFields {
            dataset: config.dataset.name.clone(),
            topic: config.topic.clone(),
            unknown: unknown.into_iter().cloned().collect(),
            had: read.fields.clone(),
        }
        .into());
    }
    if read.fields.len() > MAX_PANELS {
        log::warn!(
            "the aggregates have {} fields: drawing the first {MAX_PANELS} ({}); \
             name others with --fields",
            read.fields.len(),
            visible(&read.fields[..MAX_PANELS].join(","))
        );
    }
    Ok(read.fields.iter().take(MAX_PANELS).cloned().collect())
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

fn picture(config: &ChartConfig, read: &Read, fields: Vec<String>) -> Picture {
    let from = config.now - config.since;
    let column = (config.since / PLOT_WIDTH as i32).max(TimeDelta::seconds(1));
    let most = read.keys.values().map(Vec::len).max().unwrap_or(0);
    let step = if most > PLOT_WIDTH {
        step(config, read).max(column)
    } else {
        step(config, read)
    };
    let panels = fields
        .into_iter()
        .map(|field| Panel {
            unit: unit(&config.dataset.name, &field),
            series: read
                .keys
                .iter()
                .map(|(key, windows)| series(config, key, windows, &field, from))
                .collect(),
            field: visible(&field).into_owned(),
        })
        .collect();
    let downsampled = if most > PLOT_WIDTH {
        format!(", {PLOT_WIDTH} points a line")
    } else {
        String::new()
    };
    let left_out = match read.counts.len().saturating_sub(read.keys.len()) {
        0 => String::new(),
        n => format!(
            "; {} of {} key combinations drawn (most windows; --max-keys), {n} left out",
            read.keys.len(),
            read.counts.len()
        ),
    };
    Picture {
        // About 90 characters: the picture is 1200 pixels wide.
        title: format!(
            "{}: {} to {}, {} window(s){downsampled}{left_out}",
            visible(&config.dataset.name),
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
    config: &ChartConfig,
    key: &[String],
    windows: &[Window],
    field: &str,
    from: DateTime<Utc>,
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
        // A dataset without key columns has one line: its name says what it is.
        label: if key.is_empty() {
            visible(&config.dataset.name).into_owned()
        } else {
            crate::text::key(key)
        },
        points: downsample(&points, from, config.now, PLOT_WIDTH),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_message_of_a_window_end_is_drawn() {
        let t = |m: i64| DateTime::<Utc>::UNIX_EPOCH + TimeDelta::minutes(m);
        let w = |end: i64, incomplete: bool| Window {
            end: t(end),
            incomplete,
            fields: Vec::new(),
        };
        // Read in this order: 2 (incomplete), 1, then 2 corrected, 2 again.
        let mut windows = vec![w(2, true), w(1, false), w(2, false), w(2, true)];
        latest_per_end(&mut windows);
        let got: Vec<_> = windows.iter().map(|w| (w.end, w.incomplete)).collect();
        assert_eq!(got, [(t(1), false), (t(2), true)]);
        let mut corrected = vec![w(2, true), w(2, false)];
        latest_per_end(&mut corrected);
        assert!(!corrected[0].incomplete);
    }
}
