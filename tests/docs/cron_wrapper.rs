//! The cron wrapper `cron/eds-kafka-run`, run for real with `EDS_KAFKA_BIN`
//! pointing at a fake program (a sh script written at test time) that records
//! its arguments and environment: the env file's variables reach the program,
//! the exit code passes through (0, 3, 75), stderr is appended to the log file
//! and stdout is not, a run finding the flock held exits 75 without starting
//! the program, and the wrapper's own configuration errors exit 2. Also checks
//! `cron/eds-kafka.cron` and that `cron/env.example` names every environment
//! variable of `eds-kafka publish --help`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const WRAPPER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cron/eds-kafka-run");
const CRON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cron/eds-kafka.cron");
const ENV_EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cron/env.example");

/// Stands in for eds-kafka: writes its arguments, its environment, whether it
/// inherited the wrapper's lock descriptor and whether the lock is held while
/// it runs to $FAKE_OUT; one line to stderr and one to stdout; exits $FAKE_EXIT.
const FAKE: &str = r#"#!/bin/sh
{
    echo "args=$*"
    if [ -e "/proc/$$/fd/9" ]; then echo "fd9=inherited"; else echo "fd9=closed"; fi
    if flock -n "$EDS_CRON_LOCK" true; then echo "lock=free"; else echo "lock=held"; fi
    env | sort
} >"$FAKE_OUT"
echo "fake: stderr line, exit ${FAKE_EXIT:-0}" >&2
echo "fake: stdout line"
exit "${FAKE_EXIT:-0}"
"#;

/// The files of one test (the fake program, env files, lock, log), in a
/// temporary directory removed on drop.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = crate::support::temp_dir();
        let fake = dir.path().join("fake-eds-kafka");
        fs::write(&fake, FAKE).unwrap();
        make_executable(&fake);
        Scratch { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn s(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_string()
    }

    /// An env file pointing the wrapper at this directory, plus `extra` lines.
    fn env_file(&self, name: &str, extra: &str) -> String {
        let text = format!(
            "# written by tests/docs/cron_wrapper.rs\n\
             EDS_KAFKA_BIN={bin}\n\
             EDS_CRON_LOCK={lock}\n\
             EDS_LOG_FILE={log}\n\
             FAKE_OUT={out}\n\
             {extra}\n",
            bin = self.s("fake-eds-kafka"),
            lock = self.s("cron.lock"),
            log = self.s("logs/eds-kafka.log"),
            out = self.s("fake.out"),
        );
        fs::write(self.path(name), text).unwrap();
        self.s(name)
    }

    fn log(&self) -> String {
        fs::read_to_string(self.path("logs/eds-kafka.log")).unwrap_or_default()
    }

    /// What the fake program recorded; None if it did not run.
    fn fake_out(&self) -> Option<String> {
        let out = fs::read_to_string(self.path("fake.out")).ok();
        let _ = fs::remove_file(self.path("fake.out"));
        out
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// The wrapper with a clean environment (PATH only, plus `env`) and `args`.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(WRAPPER);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .envs(env.iter().copied())
        .args(args);
    cmd.output().expect("cron/eds-kafka-run must be executable")
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn wrapper_is_posix_sh() {
    let out = Command::new("sh").args(["-n", WRAPPER]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = fs::read_to_string(WRAPPER).unwrap();
    assert!(script.starts_with("#!/bin/sh\n"));
}

#[test]
fn env_file_reaches_the_program_and_exit_code_passes_through() {
    let t = Scratch::new();
    let env = t.env_file(
        "env",
        "KAFKA_BROKERS=broker-a:9092,broker-b:9092\n\
         EDS_FIELDS=CO2Emission,SolarPower\n\
         EDS_HTTP_TIMEOUT=\"15s\"\n\
         FAKE_EXIT=3",
    );
    let out = run(&[&env, "--create-topics", "-X", "linger.ms=5"], &[]);
    assert_eq!(code(&out), 3, "{}", text(&out.stderr));
    let rec = t.fake_out().expect("the program ran");
    assert!(
        rec.contains("args=publish --create-topics -X linger.ms=5\n"),
        "{rec}"
    );
    for line in [
        "KAFKA_BROKERS=broker-a:9092,broker-b:9092",
        "EDS_FIELDS=CO2Emission,SolarPower",
        "EDS_HTTP_TIMEOUT=15s",
    ] {
        assert!(rec.lines().any(|l| l == line), "{line} missing in {rec}");
    }
    // The lock is held while the program runs, but not through its descriptors.
    assert!(rec.contains("lock=held\n"), "{rec}");
    assert!(rec.contains("fd9=closed\n"), "{rec}");
    // stdout stays the wrapper's (cron's); nothing of it in the log.
    assert_eq!(text(&out.stdout), "fake: stdout line\n");
    assert_eq!(text(&out.stderr), "");

    // Same file, now exiting 0: the log keeps both runs' stderr, in order.
    let env = t.env_file("env", "FAKE_EXIT=0");
    let out = run(&[&env], &[]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(t.fake_out().unwrap().contains("args=publish\n"));
    assert_eq!(
        t.log(),
        "fake: stderr line, exit 3\nfake: stderr line, exit 0\n"
    );

    let env = t.env_file("env", "FAKE_EXIT=75");
    assert_eq!(code(&run(&[&env], &[])), 75);
    assert!(t.fake_out().is_some(), "the program's own 75 ran it");
}

#[test]
fn env_file_from_eds_env_file_and_first_argument() {
    let t = Scratch::new();
    let a = t.env_file("a.env", "EDS_DATASET=CO2Emis");
    let b = t.env_file("b.env", "EDS_DATASET=DayAheadPrices");
    let out = run(&[], &[("EDS_ENV_FILE", a.as_str())]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(t.fake_out().unwrap().contains("\nEDS_DATASET=CO2Emis\n"));
    // The first argument wins over EDS_ENV_FILE.
    let out = run(&[&b], &[("EDS_ENV_FILE", a.as_str())]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(t
        .fake_out()
        .unwrap()
        .contains("\nEDS_DATASET=DayAheadPrices\n"));
    // The env file wins over the caller's environment.
    let out = run(&[&b], &[("EDS_DATASET", "PowerSystemRightNow")]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(t
        .fake_out()
        .unwrap()
        .contains("\nEDS_DATASET=DayAheadPrices\n"));
}

#[test]
fn held_lock_exits_75_without_running_the_program() {
    let t = Scratch::new();
    let env = t.env_file("env", "");
    let holder = fs::File::create(t.path("cron.lock")).unwrap();
    holder.lock().unwrap(); // flock(2), as the wrapper's `flock -n`
    let out = run(&[&env], &[]);
    assert_eq!(code(&out), 75, "{}", text(&out.stderr));
    assert!(t.fake_out().is_none(), "the program must not run");
    let log = t.log();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(
        log.contains("eds-kafka-run: previous run still holds") && log.contains(&t.s("cron.lock")),
        "{log}"
    );
    // Released: the next run goes ahead.
    drop(holder);
    let out = run(&[&env], &[]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(t.fake_out().is_some());
}

#[test]
fn lock_held_by_another_process_exits_75() {
    let t = Scratch::new();
    let env = t.env_file("env", "");
    // A previous run still going, as cron would see it: another process holds
    // the lock (flock(1) from util-linux), signalling through a file once it does.
    let ready = t.s("holding");
    let mut holder = Command::new("flock")
        .args([&t.s("cron.lock"), "sh", "-c"])
        .arg(format!("touch {ready}; sleep 30"))
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !Path::new(&ready).exists() {
        assert!(std::time::Instant::now() < deadline, "flock did not start");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = run(&[&env], &[]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(code(&out), 75, "{}", text(&out.stderr));
    assert!(t.fake_out().is_none());
    assert!(t.log().contains("previous run still holds"), "{}", t.log());
}

#[test]
fn wrapper_configuration_errors_exit_2() {
    let t = Scratch::new();
    // No env file: said on stderr (cron mails it), nothing run.
    let out = run(&[&t.s("missing.env")], &[]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("cannot read env file"));
    assert!(t.fake_out().is_none());

    // The binary's --lock-file on the wrapper's lock file would always conflict.
    let env = t.env_file("same.env", &format!("EDS_LOCK_FILE={}", t.s("cron.lock")));
    let out = run(&[&env], &[]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("must be different files"));
    assert!(t.fake_out().is_none());
    // A different file is fine, and reaches the program.
    let env = t.env_file("ok.env", &format!("EDS_LOCK_FILE={}", t.s("run.lock")));
    let out = run(&[&env], &[]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(t.fake_out().unwrap().contains("\nEDS_LOCK_FILE="));

    // Log file not writable (its directory is a file).
    fs::write(t.path("notadir"), "").unwrap();
    let env = t.env_file("log.env", &format!("EDS_LOG_FILE={}/x.log", t.s("notadir")));
    let out = run(&[&env], &[]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("cannot append to log file"));

    // Lock file not creatable.
    let env = t.env_file(
        "lock.env",
        &format!("EDS_CRON_LOCK={}/x.lock", t.s("notadir")),
    );
    let out = run(&[&env], &[]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("cannot open lock file"));
    assert!(t.fake_out().is_none());
}

#[test]
fn missing_binary_is_logged_with_its_status() {
    let t = Scratch::new();
    let env = t.env_file("env", &format!("EDS_KAFKA_BIN={}", t.s("nope")));
    let out = run(&[&env], &[]);
    assert_eq!(code(&out), 127);
    assert!(
        t.log().contains("publish ended with status 127"),
        "{}",
        t.log()
    );
}

#[test]
fn env_example_works_with_the_wrapper() {
    let t = Scratch::new();
    // The example as shipped, then this test's paths (later lines win).
    let example = fs::read_to_string(ENV_EXAMPLE).unwrap();
    let ours = fs::read_to_string(t.env_file("ours", "")).unwrap();
    fs::write(t.path("env"), format!("{example}\n{ours}")).unwrap();
    let out = run(&[&t.s("env")], &[]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let rec = t.fake_out().unwrap();
    assert!(rec.contains("\nKAFKA_BROKERS="), "{rec}");
    // Commented-out settings stay unset, so the binary's defaults apply.
    assert!(!rec.contains("\nEDS_NOW="), "{rec}");
    assert!(!rec.contains("\nEDS_CREATE_TOPICS="), "{rec}");
}

/// The `[env: NAME=]` names of `eds-kafka publish --help`.
fn publish_env_vars() -> Vec<String> {
    let help = crate::manifests::publish_help();
    let names: Vec<String> = help
        .split("[env: ")
        .skip(1)
        .map(|rest| rest.split(['=', ']']).next().unwrap().to_string())
        .collect();
    assert!(names.len() >= 20, "{help}");
    names
}

#[test]
fn env_example_names_every_publish_variable_and_no_other() {
    let example = fs::read_to_string(ENV_EXAMPLE).unwrap();
    let vars = publish_env_vars();
    for var in &vars {
        assert!(
            example.contains(&format!("\n{var}=")) || example.contains(&format!("\n#{var}=")),
            "cron/env.example does not mention {var}"
        );
    }
    // The wrapper's own, and the one publish reads from the environment only
    // (a password: no flag, so not in --help).
    let wrapper = [
        "EDS_KAFKA_BIN",
        "EDS_CRON_LOCK",
        "EDS_LOG_FILE",
        "EDS_SCHEMA_REGISTRY_USER_INFO",
    ];
    for line in example.lines() {
        let setting = line.strip_prefix('#').unwrap_or(line);
        let Some((name, _)) = setting.split_once('=') else {
            continue;
        };
        if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !name.is_empty() {
            assert!(
                vars.iter().any(|v| v == name) || wrapper.contains(&name),
                "cron/env.example sets {name}, which neither eds-kafka publish nor the wrapper reads"
            );
        }
    }
}

#[test]
fn cron_line_runs_the_wrapper_every_minute() {
    let cron = fs::read_to_string(CRON).unwrap();
    assert!(
        cron.ends_with('\n'),
        "cron ignores a last line without newline"
    );
    let jobs: Vec<Vec<&str>> = cron
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.split_whitespace().next().unwrap().contains('='))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(jobs.len(), 1, "{cron}");
    let job = &jobs[0];
    // /etc/cron.d format: five time fields, the user, the command.
    assert_eq!(job[..5], ["*", "*", "*", "*", "*"]);
    assert_eq!(job[5], "eds-kafka");
    assert_eq!(
        job[6..],
        ["/usr/local/bin/eds-kafka-run", "/etc/eds-kafka/env"]
    );
}
