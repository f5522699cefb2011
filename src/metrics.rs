//! `--metrics-file`: after every `publish` run, success or not, a Prometheus
//! text file for node_exporter's textfile collector, written atomically (a
//! temporary file in the same directory, then a rename).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use crate::exit::Exit;

/// What one run reports.
#[derive(Debug, Clone)]
pub struct RunMetrics<'a> {
    pub dataset: &'a str,
    /// When the run ended (wall clock).
    pub ended: DateTime<Utc>,
    pub duration: Duration,
    pub exit: Exit,
    pub records: u64,
    pub aggregates: u64,
    /// Aggregates published whose window missed rows.
    pub incomplete: u64,
    /// Values of known value fields that were not numbers, published as null.
    pub non_numeric: u64,
    /// `--now` minus the newest row time, when the run got that far.
    pub data_lag: Option<chrono::TimeDelta>,
    /// Key combinations left behind by `--max-key-lateness`, when planned.
    pub keys_behind: Option<u64>,
    /// Messages published as corrections (another value for a key published before).
    pub corrections: u64,
    /// Rows and windows published late (a hole filled).
    pub late: u64,
    /// Rows and windows late or changed beyond `--max-revision-age` (not published).
    pub beyond_horizon: u64,
    /// Records the topic has and the API no longer serves (left alone).
    pub withdrawn: u64,
}

const LAST_SUCCESS: &str = "eds_kafka_last_success_timestamp_seconds";

/// The last-success gauge of an earlier file, if any.
fn previous_success(text: &str) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(LAST_SUCCESS) && l[LAST_SUCCESS.len()..].starts_with(['{', ' ']))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}

fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// A gauge's value for a run (`success`: when the last successful run
/// ended); `None` leaves the gauge out.
type Value = fn(&RunMetrics<'_>, Option<f64>) -> Option<f64>;

/// Every gauge of the file: its name, its help text, its value.
const GAUGES: &[(&str, &str, Value)] = &[
    (
        "eds_kafka_last_run_timestamp_seconds",
        "Unix time the last run ended.",
        |m, _| Some(seconds(m.ended)),
    ),
    (
        LAST_SUCCESS,
        "Unix time the last successful run ended.",
        |_, success| success,
    ),
    (
        "eds_kafka_run_duration_seconds",
        "Wall time of the last run.",
        |m, _| Some(m.duration.as_secs_f64()),
    ),
    (
        "eds_kafka_records_published",
        "Records the last run published.",
        |m, _| Some(m.records as f64),
    ),
    (
        "eds_kafka_aggregates_published",
        "Aggregates the last run published.",
        |m, _| Some(m.aggregates as f64),
    ),
    (
        "eds_kafka_incomplete_windows_published",
        "Aggregates the last run published whose window missed rows.",
        |m, _| Some(m.incomplete as f64),
    ),
    (
        "eds_kafka_non_numeric_values",
        "Values of known numeric fields the last run found not numeric and published as null.",
        |m, _| Some(m.non_numeric as f64),
    ),
    (
        "eds_kafka_data_lag_seconds",
        "Reference time minus the newest row time the last run saw.",
        |m, _| m.data_lag.map(|l| l.num_milliseconds() as f64 / 1000.0),
    ),
    (
        "eds_kafka_keys_behind",
        "Key combinations the last run left more than --max-key-lateness behind the newest (their rows are skipped).",
        |m, _| m.keys_behind.map(|n| n as f64),
    ),
    (
        "eds_kafka_corrections_published",
        "Messages the last run published again with another value (header eds-revision).",
        |m, _| Some(m.corrections as f64),
    ),
    (
        "eds_kafka_late_published",
        "Rows and windows the last run published late: holes behind their key's newest, filled.",
        |m, _| Some(m.late as f64),
    ),
    (
        "eds_kafka_beyond_revision_horizon",
        "Rows and windows late or changed beyond --max-revision-age the last run found and did not publish.",
        |m, _| Some(m.beyond_horizon as f64),
    ),
    (
        "eds_kafka_records_withdrawn",
        "Records the topic has that the API no longer serves (left as they are).",
        |m, _| Some(m.withdrawn as f64),
    ),
    (
        "eds_kafka_exit_code",
        "Exit code of the last run (0 = success).",
        |m, _| Some(m.exit.code() as f64),
    ),
];

/// The file's text. `previous` is the earlier file's text, for the last success.
pub fn render(m: &RunMetrics<'_>, previous: Option<&str>) -> String {
    let label = format!(
        "{{dataset=\"{}\"}}",
        m.dataset.replace(['\\', '"', '\n'], "_")
    );
    let success = if m.exit == Exit::Success {
        Some(seconds(m.ended))
    } else {
        previous.and_then(previous_success)
    };
    let mut out = String::new();
    for (name, help, value) in GAUGES {
        if let Some(v) = value(m, success) {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name}{label} {v}"
            );
        }
    }
    out
}

/// Writes the metrics file atomically.
pub fn write(path: &Path, m: &RunMetrics<'_>) -> Result<()> {
    // Only a small regular file is read back (a FIFO there must not block the run).
    let previous = crate::files::read_if_small(path, 1 << 20);
    let text = render(m, previous.as_deref());
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .context("--metrics-file names no file")?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(exit: Exit) -> RunMetrics<'static> {
        RunMetrics {
            dataset: "PowerSystemRightNow",
            ended: DateTime::from_timestamp(1_764_331_230, 0).unwrap(),
            duration: Duration::from_millis(42),
            exit,
            records: 5,
            aggregates: 1,
            incomplete: 0,
            non_numeric: 2,
            data_lag: Some(chrono::TimeDelta::seconds(90)),
            keys_behind: Some(2),
            corrections: 1,
            late: 3,
            beyond_horizon: 0,
            withdrawn: 0,
        }
    }

    #[test]
    fn success_sets_every_gauge() {
        let text = render(&run(Exit::Success), None);
        assert!(text.contains("eds_kafka_last_success_timestamp_seconds{dataset=\"PowerSystemRightNow\"} 1764331230\n"), "{text}");
        assert!(text.contains("eds_kafka_data_lag_seconds{dataset=\"PowerSystemRightNow\"} 90\n"));
        assert!(text
            .contains("eds_kafka_run_duration_seconds{dataset=\"PowerSystemRightNow\"} 0.042\n"));
        assert!(text.contains("eds_kafka_exit_code{dataset=\"PowerSystemRightNow\"} 0\n"));
        assert!(text.contains("eds_kafka_keys_behind{dataset=\"PowerSystemRightNow\"} 2\n"));
        assert!(text.contains("eds_kafka_non_numeric_values{dataset=\"PowerSystemRightNow\"} 2\n"));
        assert!(
            text.contains("eds_kafka_corrections_published{dataset=\"PowerSystemRightNow\"} 1\n")
        );
        assert!(text.contains("eds_kafka_late_published{dataset=\"PowerSystemRightNow\"} 3\n"));
        assert_eq!(text.matches("# TYPE").count(), 14);
    }

    #[test]
    fn failure_keeps_the_previous_success() {
        let earlier = render(&run(Exit::Success), None);
        let mut failed = run(Exit::Temporary);
        failed.ended = DateTime::from_timestamp(1_764_331_290, 0).unwrap();
        failed.data_lag = None;
        let text = render(&failed, Some(&earlier));
        assert!(text.contains("eds_kafka_last_success_timestamp_seconds{dataset=\"PowerSystemRightNow\"} 1764331230\n"), "{text}");
        assert!(text.contains(
            "eds_kafka_last_run_timestamp_seconds{dataset=\"PowerSystemRightNow\"} 1764331290\n"
        ));
        assert!(text.contains("eds_kafka_exit_code{dataset=\"PowerSystemRightNow\"} 75\n"));
        assert!(
            !text.contains("eds_kafka_data_lag_seconds"),
            "no lag is known when the fetch failed"
        );
        // Never a success before: no last-success gauge at all.
        assert!(!render(&failed, None).contains(LAST_SUCCESS));
    }
}
