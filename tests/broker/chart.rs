//! `chart` against the real broker: six backfilled hours of a keyed dataset
//! (ElectricityProdex5MinRealtime, DK1 and DK2) with one row of DK1 missing
//! and SolarPower always null, checked structurally (axes, legend, one line
//! per key, the gap, the "no data" panel) and rendered by `rsvg-convert`;
//! an empty topic is exit 3.

use crate::support;

use std::collections::BTreeMap;

use support::args::Args;
use support::broker::{prodex_backfilled, test_broker, Topics};
use support::feed;

const NOW: &str = "2026-11-28T10:00:30Z";
const DATASET: &str = "ElectricityProdex5MinRealtime";

fn backfilled(brokers: &str) -> Topics {
    prodex_backfilled(brokers, "chart")
}

fn chart(brokers: &str, topic: &str, extra: &[&str]) -> (i32, String, String) {
    Args::new("chart")
        .brokers(brokers)
        .flag("--dataset", DATASET)
        .flag("--aggregates-topic", topic)
        .flag("--now", NOW)
        .flag("--since", "6h")
        .extra(extra)
        .run()
}

/// The texts of the SVG's `<text>` elements.
fn texts(svg: &str) -> Vec<&str> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim()))
        .collect()
}

/// The data lines (stroke width 2: lines and legend swatches), counted by colour.
fn lines_by_colour(svg: &str) -> BTreeMap<&str, usize> {
    let mut out = BTreeMap::new();
    for p in svg.split("<polyline").skip(1) {
        let p = p.split_once("/>").unwrap().0;
        if !p.contains("stroke-width=\"2\"") {
            continue;
        }
        let colour = p
            .split_once("stroke=\"")
            .unwrap()
            .1
            .split_once('"')
            .unwrap()
            .0;
        *out.entry(colour).or_default() += 1;
    }
    out
}

#[test]
fn a_keyed_chart_has_axes_a_line_per_key_and_the_gap() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let t = backfilled(&brokers);
    let fields = "ProductionLt100MW,SolarPower";
    let (code, svg, err) = chart(&brokers, &t.aggregates, &["--fields", fields]);
    assert_eq!(code, 0, "{err}");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    let texts = texts(&svg);
    for wanted in [
        "ProductionLt100MW (MW)",
        "time (UTC)",
        "DK1",
        "DK2",
        "2026-11-28 06:00",
    ] {
        assert!(texts.contains(&wanted), "{wanted} in {texts:?}");
    }
    assert!(
        texts.contains(&"SolarPower: no data in this period"),
        "{texts:?}"
    );
    assert_eq!(
        texts.iter().filter(|t| **t == "DK1").count(),
        1,
        "one legend"
    );
    // DK1: two segments around its incomplete windows and the legend's
    // swatch; DK2: one line and its swatch.
    let lines: Vec<usize> = lines_by_colour(&svg).into_values().collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(sorted, [2, 3], "{lines:?}");
    // The incomplete windows are marked: each key's first two (the backfill
    // starts at 04:00, a 15-minute window ending 04:05 lacks 03:50 and 03:55)
    // and DK1's ending 07:10 and 07:15 (its window ending 07:05 was never
    // published: its last row is the one missing). The null field has none.
    assert_eq!(svg.matches("<circle").count(), 6);
    render_with_rsvg(&svg);
    // --output writes the same picture to a file.
    let dir = support::temp_dir();
    let file = dir.path().join("chart.svg");
    let (code, out, err) = chart(
        &brokers,
        &t.aggregates,
        &["--fields", fields, "--output", file.to_str().unwrap()],
    );
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), svg);
    if let Some(path) = std::env::var_os("EDS_CHART_EXAMPLE") {
        std::fs::write(path, &svg).unwrap();
    }
}

#[test]
fn an_empty_period_is_exit_3_said_plainly() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let t = backfilled(&brokers);
    let (code, out, err) = Args::new("chart")
        .brokers(&brokers)
        .flag("--dataset", DATASET)
        .flag("--aggregates-topic", &t.aggregates)
        .flag("--now", "2026-12-05T00:00:00Z")
        .run();
    assert_eq!((code, out.as_str()), (3, ""), "{err}");
    assert!(err.contains("nothing to draw"), "{err}");
}

/// Renders `svg` to PNG with `rsvg-convert` (librsvg): proof that it is an
/// SVG a viewer draws. Skipped with a line on stderr where it is not
/// installed, a failure in CI.
fn render_with_rsvg(svg: &str) {
    use std::io::Write as _;
    use std::process::Command;
    let spawned = support::spawn_piped(Command::new("rsvg-convert").args(["--format", "png"]));
    let child = match spawned {
        Ok(c) => c,
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("CI is set but rsvg-convert cannot run ({e}): apt-get install librsvg2-bin")
        }
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "skipped rendering the chart: rsvg-convert cannot run ({e}); apt-get install librsvg2-bin"
            );
            return;
        }
    };
    let out = feed(child, svg.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.starts_with(b"\x89PNG"), "a PNG");
    assert!(out.stdout.len() > 10_000, "a picture, not a blank page");
}
