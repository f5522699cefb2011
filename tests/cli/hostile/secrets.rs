//! Secrets in `--api-url` on every error path.

use super::*;

/// `stub`'s URL with a user and [`PASSWORD`] in it.
fn with_password(url: &str) -> String {
    url.replace("http://", &format!("http://eds:{PASSWORD}@"))
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(
        !text.contains(PASSWORD),
        "{what}: the password is shown: {text}"
    );
    assert!(!text.contains(TOKEN), "{what}: the token is shown: {text}");
}

#[test]
fn a_query_in_api_url_is_a_usage_error_that_hides_it() {
    let url = format!("http://127.0.0.1:1/?token={TOKEN}");
    let (code, _, err) = outcome(eds().args(["-vv", "publish", "--dry-run", "--api-url", &url]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--api-url"), "{err}");
    assert_no_secret("usage error", &err);
    let bad = format!("http://eds:{PASSWORD}@[::1/?token={TOKEN}");
    let (code, _, err) = outcome(eds().args(["-vv", "publish", "--dry-run", "--api-url", &bad]));
    assert_eq!(code, 2, "{err}");
    assert_no_secret("unparsable URL", &err);
}

/// Every error path of the HTTP request, with -vv (debug logs and the causes).
#[test]
fn the_password_in_api_url_appears_on_no_error_path() {
    use support::stub::Fault;
    let stub = stub_at(NOW);
    let url = with_password(&stub.url);
    let faults = [
        ("5xx", Some(Fault::Status(503, "down")), 75),
        ("4xx", Some(Fault::Status(404, "no such dataset")), 3),
        ("not JSON", Some(Fault::Html), 3),
        ("truncated", Some(Fault::Truncated), 3),
        (
            "redirect elsewhere",
            Some(Fault::Redirect(format!(
                "http://elsewhere.invalid/?token={TOKEN}"
            ))),
            3,
        ),
        ("ok", None, 0),
    ];
    for (name, fault, expected) in faults {
        if let Some(f) = fault {
            stub.fault(f);
        }
        let (code, out, err) = outcome(eds().args([
            "-vv",
            "publish",
            "--dry-run",
            "--api-url",
            &url,
            "--now",
            NOW,
        ]));
        assert_eq!(code, expected, "{name}: {err}");
        assert_no_secret(name, &err);
        assert_no_secret(name, &out);
    }
    let refused = format!("http://eds:{PASSWORD}@127.0.0.1:1/");
    let timeout = with_password(&server(silent));
    let stalled = with_password(&server(stalled_body));
    let huge = with_password(&server(huge_content_length));
    let looping = with_password(&server(redirect_loop));
    for (name, url, expected) in [
        ("refused", refused, 75),
        ("timeout", timeout, 75),
        ("stalled body", stalled, 75),
        ("huge body", huge, 3),
        ("redirect loop", looping, 75),
    ] {
        let (code, _, err) = outcome(eds().args([
            "-vv",
            "publish",
            "--dry-run",
            "--api-url",
            &url,
            "--http-timeout",
            "1s",
            "--now",
            NOW,
        ]));
        assert_eq!(code, expected, "{name}: {err}");
        assert_no_secret(name, &err);
        assert!(
            err.contains("caused by") || expected == 3,
            "{name}: -vv shows the causes: {err}"
        );
    }
}
