//! `chart`'s picture (no Kafka here): one panel per field, the mean per
//! window as a line per key combination with its min-max band shaded, a UTC
//! time axis with dated ticks, the field's unit when known, and a legend in a
//! column of its own right of the plot (it never covers data). A window with missing rows (or
//! no window at all) breaks the line, and an incomplete window is marked by
//! a red dot on the panel's floor; a window between two gaps (or the only
//! one) is a dot of the line's colour. More windows than the plot is wide are
//! downsampled to one point per pixel column first. Drawn with plotters'
//! SVG backend (text as SVG `<text>`, no font files).

use chrono::{DateTime, TimeDelta, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;

/// The picture's width, and each panel's height, in pixels.
pub const WIDTH: u32 = 1200;
pub const PANEL_HEIGHT: u32 = 280;
/// Pixels left of and around the plot area (labels, margins).
const Y_LABELS: u32 = 70;
const MARGIN: u32 = 12;
/// The legend's column, right of the plot: it never covers data.
const LEGEND: u32 = 190;
/// A legend label's most characters (the rest is cut, `...`).
const LABEL_CHARS: usize = 24;
/// The plot area's width: at most one point per pixel column.
pub const PLOT_WIDTH: usize = (WIDTH - Y_LABELS - LEGEND - 4 * MARGIN) as usize;

/// One window of one key combination: its end and the field's statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub end: DateTime<Utc>,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The window missed rows.
    pub incomplete: bool,
}

/// One key combination's windows, sorted by end.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<Point>,
}

/// One field.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub field: String,
    pub unit: Option<&'static str>,
    pub series: Vec<Series>,
}

/// What the whole picture shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    pub title: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The time between two windows' ends (a longer step is a gap).
    pub step: TimeDelta,
    pub panels: Vec<Panel>,
}

/// A field's unit, where the dataset's documentation gives it ([`crate::catalogue`]).
pub fn unit(dataset: &str, field: &str) -> Option<&'static str> {
    crate::catalogue::find(dataset)?.unit(field)
}

/// At most `columns` points: the windows of each column of the time axis
/// merged (mean of the means, least min, greatest max, incomplete if any is).
pub fn downsample(
    points: &[Point],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    columns: usize,
) -> Vec<Point> {
    let span = (to - from).num_milliseconds().max(1);
    if points.len() <= columns || columns == 0 {
        return points.to_vec();
    }
    let column = |p: &Point| {
        let at = (p.end - from).num_milliseconds().clamp(0, span - 1);
        (at as i128 * columns as i128 / span as i128) as usize
    };
    let mut out: Vec<Point> = Vec::with_capacity(columns);
    let mut sums: Vec<(f64, u32)> = Vec::with_capacity(columns);
    let mut last_column = None;
    for p in points {
        let c = column(p);
        if last_column != Some(c) {
            last_column = Some(c);
            let end =
                from + TimeDelta::milliseconds((c as i128 * span as i128 / columns as i128) as i64);
            out.push(Point {
                end,
                mean: None,
                min: None,
                max: None,
                incomplete: false,
            });
            sums.push((0.0, 0));
        }
        let (q, s) = (
            out.last_mut().expect("pushed"),
            sums.last_mut().expect("pushed"),
        );
        if let Some(m) = p.mean {
            *s = (s.0 + m, s.1 + 1);
            q.mean = Some(s.0 / f64::from(s.1));
        }
        q.min = merge(q.min, p.min, f64::min);
        q.max = merge(q.max, p.max, f64::max);
        q.incomplete |= p.incomplete;
    }
    out
}

fn merge(a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(f(a, b)),
        (a, b) => a.or(b),
    }
}

/// The runs of points a line joins: split at an incomplete window, a window
/// without a mean, and a step longer than `step` (with a margin).
pub fn segments(points: &[Point], step: TimeDelta) -> Vec<&[Point]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..=points.len() {
        let breaks = i == points.len()
            || points[i].incomplete
            || points[i].mean.is_none()
            || (i > start && points[i].end - points[i - 1].end > step + step / 2);
        if breaks {
            if i > start {
                out.push(&points[start..i]);
            }
            start = if i < points.len() && (points[i].incomplete || points[i].mean.is_none()) {
                i + 1
            } else {
                i
            };
        }
    }
    out
}

/// The picture as SVG text.
pub fn render(picture: &Picture) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let height = PANEL_HEIGHT * picture.panels.len().max(1) as u32 + 30;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let root = root
            .titled(&picture.title, ("sans-serif", 18))
            .map_err(draw_error)?;
        let areas = root.split_evenly((picture.panels.len().max(1), 1));
        for (area, panel) in areas.iter().zip(&picture.panels) {
            draw_panel(area, panel, picture)?;
        }
        root.present().map_err(draw_error)?;
    }
    Ok(svg)
}

/// plotters could not draw the picture: a bug (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("drawing the chart: {0}")]
pub struct DrawError(String);

impl crate::exit::Staged for DrawError {
    fn exit(&self) -> crate::exit::Exit {
        crate::exit::Exit::Internal
    }
}

fn draw_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> anyhow::Error {
    DrawError(e.to_string()).into()
}

/// The values' range, padded; `None` when the field has no value at all.
fn value_range(panel: &Panel) -> Option<(f64, f64)> {
    let values = panel
        .series
        .iter()
        .flat_map(|s| &s.points)
        .flat_map(|p| [p.mean, p.min, p.max])
        .flatten()
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold(None, |r: Option<(f64, f64)>, v| {
        Some(r.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
    })?;
    // Values beyond a quarter of f64's range are drawn at its edge: the
    // axis's span (hi - lo, padded) must stay finite, or plotters' tick
    // search never ends.
    const EDGE: f64 = f64::MAX / 4.0;
    let (lo, hi) = (lo.clamp(-EDGE, EDGE), hi.clamp(-EDGE, EDGE));
    let pad = ((hi - lo) * 0.05).max(hi.abs().max(lo.abs()).max(1.0) * 1e-3);
    Some((lo - pad, hi + pad))
}

fn caption(panel: &Panel) -> String {
    match panel.unit {
        Some(u) => format!("{} ({u})", panel.field),
        None => panel.field.clone(),
    }
}

/// A field without any value: its name and "no data", no axes.
fn draw_empty(area: &DrawingArea<SVGBackend, Shift>, panel: &Panel) -> anyhow::Result<()> {
    let (w, h) = area.dim_in_pixel();
    let style = ("sans-serif", 16).into_font().color(&BLACK);
    area.draw(&Text::new(
        caption(panel),
        (w as i32 / 2 - 60, 12),
        style.clone(),
    ))
    .map_err(draw_error)?;
    let text = format!("{}: no data in this period", panel.field);
    area.draw(&Text::new(text, (w as i32 / 2 - 120, h as i32 / 2), style))
        .map_err(draw_error)
}

fn draw_panel(
    area: &DrawingArea<SVGBackend, Shift>,
    panel: &Panel,
    picture: &Picture,
) -> anyhow::Result<()> {
    let Some((lo, hi)) = value_range(panel) else {
        return draw_empty(area, panel);
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption(panel), ("sans-serif", 16))
        .margin(MARGIN)
        .margin_right(2 * MARGIN + LEGEND)
        .x_label_area_size(40)
        .y_label_area_size(Y_LABELS - MARGIN)
        .build_cartesian_2d(picture.from..picture.to, lo..hi)
        .map_err(draw_error)?;
    // Every tick has its date: no label is ambiguous across midnight.
    let span = picture.to - picture.from;
    let format = if span > TimeDelta::days(3) {
        "%Y-%m-%d"
    } else {
        "%Y-%m-%d %H:%M"
    };
    chart
        .configure_mesh()
        .x_labels(if span > TimeDelta::days(3) { 8 } else { 6 })
        .y_labels(6)
        .x_label_formatter(&|t| t.format(format).to_string())
        .x_desc("time (UTC)")
        .y_desc(panel.unit.unwrap_or(""))
        .light_line_style(WHITE)
        .draw()
        .map_err(draw_error)?;
    for (i, series) in panel.series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        draw_series(&mut chart, series, color, picture.step, lo)?;
    }
    draw_legend(area, panel)
}

/// The legend in its own column right of the plot: a line of each series'
/// colour and its label (cut); what does not fit the panel is counted.
fn draw_legend(area: &DrawingArea<SVGBackend, Shift>, panel: &Panel) -> anyhow::Result<()> {
    let (w, h) = area.dim_in_pixel();
    let x = w as i32 - LEGEND as i32;
    let style = ("sans-serif", 12).into_font().color(&BLACK);
    let fits = ((h as i32 - 60) / 16).max(1) as usize;
    for (i, series) in panel.series.iter().enumerate() {
        let y = 40 + 16 * i as i32;
        if i + 1 == fits && panel.series.len() > fits {
            let more = format!("and {} more", panel.series.len() - i);
            return area
                .draw(&Text::new(more, (x, y - 6), style))
                .map_err(draw_error);
        }
        let color = Palette99::pick(i).to_rgba();
        area.draw(&PathElement::new(
            vec![(x, y), (x + 18, y)],
            color.stroke_width(2),
        ))
        .map_err(draw_error)?;
        let label = crate::text::visible_cut(&series.label, LABEL_CHARS);
        area.draw(&Text::new(label, (x + 24, y - 6), style.clone()))
            .map_err(draw_error)?;
    }
    Ok(())
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<
        plotters::coord::types::RangedDateTime<DateTime<Utc>>,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// One key combination: the band and the line of each segment, and a red
/// dot under each incomplete window (its legend entry is [`draw_legend`]'s).
fn draw_series(
    chart: &mut Chart<'_, '_>,
    series: &Series,
    color: RGBAColor,
    step: TimeDelta,
    floor: f64,
) -> anyhow::Result<()> {
    for segment in segments(&series.points, step) {
        let band: Vec<(DateTime<Utc>, f64)> = segment
            .iter()
            .filter_map(|p| Some((p.end, p.max?)))
            .chain(segment.iter().rev().filter_map(|p| Some((p.end, p.min?))))
            .collect();
        if band.len() > 2 {
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band,
                    color.mix(0.15).filled(),
                )))
                .map_err(draw_error)?;
        }
        if let [only] = segment {
            // A line of one point is invisible: a dot instead.
            let dot = only
                .mean
                .map(|m| Circle::new((only.end, m), 3, color.filled()));
            chart.draw_series(dot).map_err(draw_error)?;
        }
        let line = LineSeries::new(
            segment.iter().filter_map(|p| Some((p.end, p.mean?))),
            color.stroke_width(2),
        );
        chart.draw_series(line).map_err(draw_error)?;
    }
    let marks = series.points.iter().filter(|p| p.incomplete);
    chart
        .draw_series(marks.map(|p| Circle::new((p.end, floor), 3, RED.filled())))
        .map_err(draw_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_utc;

    fn point(minute: i64, mean: Option<f64>, incomplete: bool) -> Point {
        Point {
            end: parse_utc("2026-11-28T00:00:00").unwrap() + TimeDelta::minutes(minute),
            mean,
            min: mean.map(|m| m - 1.0),
            max: mean.map(|m| m + 1.0),
            incomplete,
        }
    }

    #[test]
    fn lines_break_at_incomplete_windows_missing_means_and_holes() {
        let step = TimeDelta::minutes(1);
        let points = [
            point(0, Some(1.0), false),
            point(1, Some(2.0), false),
            point(2, Some(3.0), true),
            point(3, Some(4.0), false),
            point(4, None, false),
            point(5, Some(5.0), false),
            point(9, Some(6.0), false),
        ];
        let lens: Vec<usize> = segments(&points, step).iter().map(|s| s.len()).collect();
        assert_eq!(lens, [2, 1, 1, 1]);
    }

    #[test]
    fn downsampling_keeps_the_extremes_and_the_incomplete_mark() {
        let from = point(0, None, false).end;
        let to = from + TimeDelta::minutes(100);
        let points: Vec<Point> = (0..100)
            .map(|m| point(m, Some(m as f64), m == 37))
            .collect();
        let down = downsample(&points, from, to, 10);
        assert_eq!(down.len(), 10);
        assert_eq!(down[0].mean, Some(4.5));
        assert_eq!((down[9].min, down[9].max), (Some(89.0), Some(100.0)));
        assert_eq!(down.iter().filter(|p| p.incomplete).count(), 1);
        assert!(down[3].incomplete);
        assert_eq!(downsample(&points[..5], from, to, 10).len(), 5);
    }

    #[test]
    fn one_window_is_a_dot_and_an_empty_field_a_sentence() {
        let from = point(0, None, false).end;
        let series = |mean| Series {
            label: "DK1".into(),
            points: vec![point(30, mean, false)],
        };
        let picture = Picture {
            title: "one window".into(),
            from,
            to: from + TimeDelta::hours(1),
            step: TimeDelta::minutes(5),
            panels: vec![
                Panel {
                    field: "A".into(),
                    unit: Some("MW"),
                    series: vec![series(Some(5.0))],
                },
                Panel {
                    field: "B".into(),
                    unit: None,
                    series: vec![series(None)],
                },
            ],
        };
        let svg = render(&picture).unwrap();
        assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
        assert!(svg.contains("B: no data in this period"));
        assert!(svg.contains("A (MW)"));
    }

    /// Values at the limits of f64 spun plotters' axis at 100% CPU.
    #[test]
    fn values_at_the_limits_of_f64_render_in_bounded_time() {
        let from = point(0, None, false).end;
        let extremes = [
            (-1e308, 1e308),
            (f64::MAX, f64::MAX),
            (-f64::MAX, f64::MAX),
            (5e-324, 5e-324),
            (1e308, 1.7976931348623157e308),
            (0.0, f64::MIN_POSITIVE),
        ];
        for (lo, hi) in extremes {
            let points = vec![
                Point {
                    end: from + TimeDelta::minutes(1),
                    mean: Some(lo),
                    min: Some(lo),
                    max: Some(hi),
                    incomplete: false,
                },
                Point {
                    end: from + TimeDelta::minutes(2),
                    mean: Some(hi),
                    min: Some(lo),
                    max: Some(hi),
                    incomplete: false,
                },
            ];
            let picture = Picture {
                title: "limits".into(),
                from,
                to: from + TimeDelta::hours(1),
                step: TimeDelta::minutes(1),
                panels: vec![Panel {
                    field: "A".into(),
                    unit: None,
                    series: vec![Series {
                        label: "k".into(),
                        points,
                    }],
                }],
            };
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || tx.send(render(&picture).map(|s| s.len())));
            let rendered = rx
                .recv_timeout(std::time::Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("{lo}..{hi} did not render within 20 s"));
            assert!(rendered.unwrap() > 1000, "{lo}..{hi}");
        }
    }

    /// The legend stands in its own column: no data is drawn right of its
    /// left edge, and many keys end in "and N more".
    #[test]
    fn the_legend_never_covers_data() {
        let from = point(0, None, false).end;
        let series = |i: usize| Series {
            label: format!("key {i} with a label far longer than the legend takes"),
            points: (0..60)
                .map(|m| point(m, Some((m * i as i64) as f64), false))
                .collect(),
        };
        let picture = Picture {
            title: "legend".into(),
            from,
            to: from + TimeDelta::hours(1),
            step: TimeDelta::minutes(1),
            panels: vec![Panel {
                field: "A".into(),
                unit: None,
                series: (0..40).map(series).collect(),
            }],
        };
        let svg = render(&picture).unwrap();
        let legend_x = (WIDTH - LEGEND) as f64;
        for line in svg.split("points=\"").skip(1) {
            let xs: Vec<f64> = (line.split('"').next().unwrap().split(' '))
                .filter_map(|xy| xy.split(',').next()?.parse().ok())
                .collect();
            // The legend's own lines start at its edge.
            if xs.first().is_some_and(|x| *x >= legend_x) {
                continue;
            }
            assert!(
                xs.iter().all(|x| *x < legend_x),
                "data at {xs:?}, the legend from {legend_x}"
            );
        }
        assert!(svg.contains("key 1 with a label far l..."), "cut labels");
        assert!(svg.contains(" more"), "40 keys do not fit a panel");
    }

    #[test]
    fn units_where_known() {
        assert_eq!(unit("PowerSystemRightNow", "CO2Emission"), Some("g/kWh"));
        assert_eq!(unit("PowerSystemRightNow", "SolarPower"), Some("MW"));
        assert_eq!(unit("DayAheadPrices", "DayAheadPriceEUR"), Some("EUR/MWh"));
        assert_eq!(unit("Other", "x"), None);
    }
}
