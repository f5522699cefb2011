//! A local stand-in for api.energidataservice.dk, as `docs/api.md` describes
//! it: `start`/`end` read as Danish local time, `sort`, `limit`, newest-first
//! by default, numbers with six decimals, 400 text/plain for a bad period,
//! `RemainingCalls` headers. Its clock is set by the test (or follows the
//! system clock, for `examples/stub_api.rs`); faults can be queued for the
//! next requests.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Europe::Copenhagen;
use serde_json::{json, Map, Value};
use tiny_http::{Header, Response, Server};

/// What the next request gets instead of data.
#[derive(Debug, Clone)]
pub enum Fault {
    Status(u16, &'static str),
    RateLimited {
        retry_after: u64,
    },
    Html,
    Truncated,
    Slow(Duration),
    /// 302 to this URL.
    Redirect(String),
}

/// Rows of `[start, end)` made on demand, given the stub's clock:
/// `(start, end, now)`.
pub type Generator =
    Arc<dyn Fn(DateTime<Utc>, DateTime<Utc>, DateTime<Utc>) -> Vec<Value> + Send + Sync>;

#[derive(Default)]
struct State {
    now: Option<DateTime<Utc>>,
    /// Use the system clock at each request instead of `now`.
    system_clock: bool,
    /// Serve the row of the current (incomplete) minute too, as the real API may.
    serve_current_minute: bool,
    missing: HashSet<DateTime<Utc>>,
    /// Values served in place of the generated ones: (minute, field) -> value.
    corrected: HashMap<(DateTime<Utc>, String), Value>,
    faults: VecDeque<Fault>,
    fixed: Option<Vec<Value>>,
    /// Sort the rows given to `serve_rows` by time when asked to, as the API does.
    sort_fixed: bool,
    requests: Vec<String>,
    /// Rows with every PowerSystemRightNow field (about 700 bytes each, as the real API).
    full_rows: bool,
    /// Bodies kept by request target, for benchmarks that fetch the same year again.
    cache: Option<HashMap<String, Arc<Vec<u8>>>>,
    /// Another dataset than PowerSystemRightNow, its rows made on demand.
    generated: Option<(String, Generator)>,
}

pub struct StubApi {
    pub url: String,
    state: Arc<Mutex<State>>,
    server: Arc<Server>,
}

/// Every field of the real dataset, for [`psrn_full_row`]: the value fields
/// the records schema knows (`docs/api.md` lists them).
pub fn full_fields() -> Vec<&'static str> {
    let fields = eds_kafka::dataset::known_fields("PowerSystemRightNow");
    fields.iter().map(|f| f.name).collect()
}

/// A row with all 24 columns of PowerSystemRightNow (values depend only on `t`).
pub fn psrn_full_row(t: DateTime<Utc>) -> Value {
    let m = t.timestamp() / 60;
    let mut row = psrn_row(t).as_object().unwrap().clone();
    for (i, name) in full_fields().iter().enumerate() {
        if !row.contains_key(*name) || row[*name].is_null() {
            let i = i as i64;
            row.insert(
                name.to_string(),
                json!((m % (37 + i)) as f64 * 10.37 - 150.0 + i as f64),
            );
        }
    }
    Value::Object(row)
}

/// The synthetic PowerSystemRightNow row for minute `t`: values depend only on `t`.
pub fn psrn_row(t: DateTime<Utc>) -> Value {
    let m = t.timestamp() / 60;
    let dk = t.with_timezone(&Copenhagen).naive_local();
    let v = |base: i64, spread: i64| json!(base as f64 + (m % spread) as f64 * 0.25 + 0.000001);
    let mut row = Map::new();
    row.insert(
        "Minutes1UTC".into(),
        json!(t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string()),
    );
    row.insert(
        "Minutes1DK".into(),
        json!(dk.format("%Y-%m-%dT%H:%M:%S").to_string()),
    );
    row.insert("CO2Emission".into(), v(100, 17));
    row.insert("ProductionGe100MW".into(), v(800, 31));
    row.insert("ProductionLt100MW".into(), v(470, 13));
    row.insert(
        "SolarPower".into(),
        if m % 7 == 0 { Value::Null } else { v(0, 5) },
    );
    row.insert("OffshoreWindPower".into(), v(1000, 41));
    row.insert("OnshoreWindPower".into(), v(820, 23));
    row.insert("Exchange_Sum".into(), json!(-((m % 19) as f64) * 10.5));
    row.insert("Exchange_DK1_DE".into(), v(-400, 11));
    row.insert("mFRR_ActivatedDK1".into(), Value::Null);
    Value::Object(row)
}

fn parse_local(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(&format!("{text}T00:00"), "%Y-%m-%dT%H:%M"))
        .ok()?;
    Copenhagen
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The UTC time columns of the datasets the stub serves.
const TIME_COLUMNS: [&str; 3] = ["Minutes1UTC", "Minutes5UTC", "TimeUTC"];

/// A row's UTC time; `None` for a (deliberately broken) row without one.
fn row_time(row: &Value) -> Option<DateTime<Utc>> {
    let text = TIME_COLUMNS.iter().find_map(|c| row.get(*c))?.as_str()?;
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

/// Writes JSON the way the API does: every float with six decimals.
fn api_json(value: &Value) -> String {
    match value {
        Value::Number(n) if n.is_f64() => format!("{:.6}", n.as_f64().unwrap()),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(api_json).collect::<Vec<_>>().join(",")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}:{}", json!(k), api_json(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

impl StubApi {
    pub fn start() -> StubApi {
        StubApi::start_on("127.0.0.1:0")
    }

    /// Listens on `address` (`host:port`; port 0 picks a free one).
    pub fn start_on(address: &str) -> StubApi {
        let server = Arc::new(
            Server::http(address).unwrap_or_else(|e| panic!("cannot listen on {address}: {e}")),
        );
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let state = Arc::new(Mutex::new(State {
            serve_current_minute: true,
            ..State::default()
        }));
        let (srv, st) = (server.clone(), state.clone());
        thread::spawn(move || {
            for request in srv.incoming_requests() {
                let st = st.clone();
                thread::spawn(move || {
                    let (status, headers, body, delay) = respond(&st, request.url());
                    if let Some(d) = delay {
                        thread::sleep(d);
                    }
                    let mut response = Response::new(
                        status.into(),
                        headers,
                        Cursor::new(body.clone()),
                        Some(body.len()),
                        None,
                    );
                    response.add_header(header(
                        "Cache-Control",
                        "public, must-revalidate, max-age=30",
                    ));
                    let _ = request.respond(response);
                });
            }
        });
        StubApi { url, state, server }
    }

    pub fn set_now(&self, now: DateTime<Utc>) {
        self.state.lock().unwrap().now = Some(now);
    }
    /// Serve every minute up to the system clock's, read at each request.
    pub fn follow_system_clock(&self) {
        self.state.lock().unwrap().system_clock = true;
    }
    pub fn serve_current_minute(&self, yes: bool) {
        self.state.lock().unwrap().serve_current_minute = yes;
    }
    pub fn drop_minute(&self, t: DateTime<Utc>) {
        self.state.lock().unwrap().missing.insert(t);
    }
    /// Serve a dropped minute again (a row the API serves late).
    pub fn restore_minute(&self, t: DateTime<Utc>) {
        self.state.lock().unwrap().missing.remove(&t);
    }
    /// Serve `value` as `field` of minute `t` from now on (a correction).
    pub fn correct(&self, t: DateTime<Utc>, field: &str, value: Value) {
        let mut st = self.state.lock().unwrap();
        st.corrected.insert((t, field.to_string()), value);
    }
    pub fn fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push_back(fault);
    }
    /// Serve these rows (already in the API's form) instead of generated ones.
    pub fn serve_rows(&self, rows: Vec<Value>) {
        self.state.lock().unwrap().fixed = Some(rows);
    }
    /// Serve these rows sorted by time when the request asks for it (rows
    /// of one time keep the order given), as the real API does.
    pub fn serve_sorted_rows(&self, rows: Vec<Value>) {
        let mut st = self.state.lock().unwrap();
        st.fixed = Some(rows);
        st.sort_fixed = true;
    }
    /// Serve `dataset` (instead of PowerSystemRightNow) with the rows `rows`
    /// makes for each request, given its range and the stub's clock.
    pub fn serve_generated(&self, dataset: &str, rows: Generator) {
        self.state.lock().unwrap().generated = Some((dataset.to_string(), rows));
    }
    /// Serve all 24 fields per row, like the real dataset.
    pub fn full_rows(&self, yes: bool) {
        self.state.lock().unwrap().full_rows = yes;
    }
    /// Keep every body and serve it again for the same request target.
    pub fn cache_bodies(&self) {
        self.state.lock().unwrap().cache = Some(HashMap::new());
    }
    /// The request targets (path and query) received so far.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }
}

impl Drop for StubApi {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

type Reply = (u16, Vec<Header>, Vec<u8>, Option<Duration>);

fn text_reply(status: u16, content_type: &str, body: &str) -> Reply {
    (
        status,
        vec![header("Content-Type", content_type)],
        body.as_bytes().to_vec(),
        None,
    )
}

fn respond(state: &Mutex<State>, target: &str) -> Reply {
    let mut st = state.lock().unwrap();
    st.requests.push(target.to_string());
    let fault = st.faults.pop_front();
    let mut delay = None;
    match fault {
        Some(Fault::Status(code, body)) => return text_reply(code, "text/plain", body),
        Some(Fault::RateLimited { retry_after }) => {
            let mut r = text_reply(429, "text/plain", "Too Many Requests");
            r.1.push(header("Retry-After", &retry_after.to_string()));
            return r;
        }
        Some(Fault::Html) => {
            return text_reply(
                200,
                "text/html",
                "<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>",
            )
        }
        Some(Fault::Slow(d)) => delay = Some(d),
        Some(Fault::Redirect(to)) => {
            let mut r = text_reply(302, "text/plain", "Found");
            r.1.push(header("Location", &to));
            return r;
        }
        Some(Fault::Truncated) | None => {}
    }
    let json_headers = || {
        vec![
            header("Content-Type", "application/json; charset=utf-8"),
            header("RemainingCalls", "39"),
            header("TotalCalls", "40"),
        ]
    };
    if let Some(body) = st.cache.as_ref().and_then(|c| c.get(target)) {
        return (200, json_headers(), body.to_vec(), delay);
    }
    let url = reqwest::Url::parse(&format!("http://stub{target}")).unwrap();
    let Some(dataset) = url.path().strip_prefix("/dataset/").map(str::to_string) else {
        return text_reply(404, "text/plain", "Not Found");
    };
    let served = st
        .generated
        .as_ref()
        .map_or("PowerSystemRightNow", |(name, _)| name.as_str());
    if !dataset.eq_ignore_ascii_case(served) && st.fixed.is_none() {
        return text_reply(404, "text/plain", "Dataset not found");
    }
    let param = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.to_string())
    };
    let (start, end) = match (
        param("start").map(|s| parse_local(&s)),
        param("end").map(|s| parse_local(&s)),
    ) {
        (Some(Some(s)), Some(Some(e))) => (s, e),
        _ => return text_reply(400, "text/plain", "Invalid period specified"),
    };
    let ascending = param("sort").is_some_and(|s| s.ends_with(" asc") || s.ends_with("%20asc"));
    let mut rows: Vec<Value> = match &st.fixed {
        Some(rows) => rows
            .iter()
            .filter(|r| row_time(r).is_none_or(|t| (start..end).contains(&t)))
            .cloned()
            .collect(),
        None => {
            let now = match st.system_clock {
                true => Utc::now(),
                false => st.now.expect("set the stub's clock first"),
            };
            if let Some((_, generate)) = &st.generated {
                generate(start, end, now)
            } else {
                psrn_rows(&st, start, end, now)
            }
        }
    };
    if st.fixed.is_none() {
        rows.sort_by_key(|r| std::cmp::Reverse(row_time(r)));
        if ascending {
            rows.reverse();
        }
    } else if ascending && st.sort_fixed {
        // Sorted by time only, as asked: rows of one time keep the order given.
        rows.sort_by_key(row_time);
    }
    let mut body = json!({"total": rows.len(), "dataset": dataset});
    if let Some(sort) = param("sort") {
        body["sort"] = json!(sort);
    }
    body["records"] = Value::Array(rows);
    let mut text = api_json(&body).into_bytes();
    if matches!(fault, Some(Fault::Truncated)) {
        text.truncate(text.len() / 2);
    }
    if let Some(cache) = st.cache.as_mut() {
        cache.insert(target.to_string(), Arc::new(text.clone()));
    }
    (200, json_headers(), text, delay)
}

/// The generated PowerSystemRightNow rows of `[start, end)`: one a minute up
/// to the clock's minute (or the one before), skipping dropped minutes.
fn psrn_rows(
    st: &State,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Value> {
    let mut newest = now - TimeDelta::seconds(now.timestamp().rem_euclid(60));
    if !st.serve_current_minute {
        newest -= TimeDelta::minutes(1);
    }
    let mut t = start - TimeDelta::seconds(start.timestamp().rem_euclid(60));
    if t < start {
        t += TimeDelta::minutes(1);
    }
    let mut out = Vec::new();
    while t < end && t <= newest {
        if !st.missing.contains(&t) {
            let mut row = match st.full_rows {
                true => psrn_full_row(t),
                false => psrn_row(t),
            };
            for ((at, field), value) in &st.corrected {
                if *at == t {
                    row[field.as_str()] = value.clone();
                }
            }
            out.push(row);
        }
        t += TimeDelta::minutes(1);
    }
    out
}
