//! The exit code of a failed run, and how `main` reports it: the one place
//! that knows every stage's typed error. Each stage's error says its own
//! code ([`Staged::exit`]); here an `anyhow` chain is searched for the first
//! of them, outermost first, with contexts added on the way up (`.context`)
//! above it. An error of no stage is a bug (exit 1), but for our own stdout
//! closed by its reader (`| head`), which ends the run with exit 0.

use std::error::Error;

use crate::exit::{Exit, Staged};

/// The stage's exit code of one error of a chain; `None` when it is none
/// of the stages' (a context, or a cause below a stage's error).
fn stage(e: &(dyn Error + 'static)) -> Option<Exit> {
    macro_rules! stages {
        ($($t:ty),* $(,)?) => {
            $(if let Some(s) = e.downcast_ref::<$t>() {
                return Some(s.exit());
            })*
        };
    }
    stages!(
        crate::cli::UsageError,
        crate::config::ConfigError,
        crate::files::FileError,
        crate::api::ApiError,
        crate::api::NoText,
        crate::api::TooLong,
        crate::dataset::RowError,
        crate::aggregate::FieldError,
        crate::contract::aggregate::NotAggregate,
        crate::kafka::BrokerError,
        crate::kafka::read::ReadError,
        crate::kafka::topics::TopicError,
        crate::cursor::CursorError,
        crate::sink::SinkError,
        crate::chart::DrawError,
        crate::cmd::chart::ChartError,
        crate::cmd::CommandError,
        crate::registry::RegistryError,
        crate::registry::ReadError,
        crate::contract::avro::AvroError,
    );
    None
}

/// The exit code for an error: 0 when stdout was closed by its reader, else
/// the first stage's error in its chain, else [`Exit::Internal`].
pub fn exit_of(err: &anyhow::Error) -> Exit {
    if crate::exit::output_closed(err, |e| stage(e).is_some()) {
        return Exit::Success;
    }
    err.chain().find_map(stage).unwrap_or(Exit::Internal)
}

/// The error as `main` prints it: the contexts and the stage's message,
/// then, when `causes` is set, each error below it on a `caused by:` line
/// (one saying what the line above said is left out). `redact` scrubs
/// secrets out of every part.
pub fn report(err: &anyhow::Error, causes: bool, redact: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut chain = err.chain();
    for e in chain.by_ref() {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&redact(&e.to_string()));
        if stage(e).is_some() {
            break;
        }
    }
    if causes {
        let mut last = out.clone();
        for e in chain {
            let text = redact(&e.to_string());
            if !last.contains(&text) {
                out.push_str("\n  caused by: ");
                out.push_str(&text);
            }
            last = text;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_code_is_the_first_stages_and_survives_context() {
        let err: anyhow::Result<()> = Err(crate::config::ConfigError::NoFields.into());
        let err = err.context("reading the flags").unwrap_err();
        assert_eq!(exit_of(&err), Exit::Usage);
        assert_eq!(
            report(&err, true, str::to_string),
            "reading the flags: --fields is empty: name fields or use 'all'"
        );
        assert_eq!(exit_of(&anyhow::Error::msg("boom")), Exit::Internal);
    }

    #[test]
    fn the_causes_below_the_stage_are_shown_with_v() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let err = anyhow::Error::new(crate::files::FileError::LockOpen {
            path: "/run/x.lock".into(),
            source: io,
        })
        .context("publishing");
        assert_eq!(exit_of(&err), Exit::Usage);
        assert_eq!(
            report(&err, false, str::to_string),
            "publishing: cannot open --lock-file /run/x.lock: reset by peer"
        );
        assert_eq!(
            report(&err, true, |s| s.replace("peer", "[redacted]")),
            "publishing: cannot open --lock-file /run/x.lock: reset by [redacted]"
        );
    }

    #[test]
    fn a_broken_pipe_of_our_output_is_success_but_not_a_connections() {
        let pipe = || std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let ours = anyhow::Error::new(pipe()).context("writing CSV");
        assert_eq!(exit_of(&ours), Exit::Success);
        let theirs = anyhow::Error::new(crate::files::FileError::LockOpen {
            path: "x".into(),
            source: pipe(),
        });
        assert_eq!(exit_of(&theirs), Exit::Usage);
    }

    /// Every type that says an exit code is one [`stage`] knows: a new
    /// stage's error left out would end runs with exit 1.
    #[test]
    fn every_staged_type_is_listed() {
        let listed = include_str!("failure.rs");
        let mut missing = Vec::new();
        let src = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
        for file in sources(src)
            .into_iter()
            .filter(|f| !f.ends_with("failure.rs"))
        {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in text
                .lines()
                .filter(|l| l.contains("impl ") && l.contains("Staged for "))
            {
                let name = line
                    .split("Staged for ")
                    .nth(1)
                    .unwrap()
                    .trim_end_matches(" {")
                    .trim();
                if !listed.contains(&format!("::{name},")) {
                    missing.push(format!("{}: {name}", file.display()));
                }
            }
        }
        assert!(missing.is_empty(), "not in failure::stage: {missing:?}");
    }

    fn sources(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(sources(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
        out
    }
}
