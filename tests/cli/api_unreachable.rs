//! An API that cannot be reached: the error says where the URL comes from
//! (`--api-url` / `EDS_API_URL`) and, for the public API's default URL
//! (usually: no internet access), how to try the program without it.
//! Nothing here reaches the network: the default URL is requested through a
//! proxy nobody listens on.

use crate::support;

use support::{assert_says, eds, free_port, outcome, NOW};

#[test]
fn the_default_url_unreachable_points_at_the_stub() {
    let proxy = format!("http://127.0.0.1:{}", free_port());
    let (code, out, err) = outcome(
        eds()
            .args(["publish", "--dry-run", "--now", NOW])
            .env("HTTPS_PROXY", &proxy)
            .env("https_proxy", &proxy)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy"),
    );
    assert_eq!((code, out.as_str()), (75, ""), "{err}");
    assert!(
        err.contains(
            "GET https://api.energidataservice.dk/dataset/PowerSystemRightNow: cannot connect"
        ) && err.contains("--api-url / EDS_API_URL")
            && err.contains("\"Try it locally\""),
        "{err}"
    );
}

#[test]
fn another_url_unreachable_names_the_flag_and_its_variable() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let (code, _, err) =
        outcome(eds().args(["publish", "--dry-run", "--now", NOW, "--api-url", &url]));
    assert_eq!(code, 75, "{err}");
    assert_says(&err, &["cannot connect", "; check --api-url / EDS_API_URL"]);
    assert!(!err.contains("Try it locally"), "{err}");
}
