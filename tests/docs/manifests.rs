//! The Kubernetes manifests under deploy/kubernetes against the real binary:
//! every YAML document parses; in the CronJob's containers every `--flag` of
//! `command`/`args` and every environment variable name (`env` entries, and the
//! keys of the ConfigMaps and Secrets taken with `envFrom`) is one that
//! `eds-kafka publish --help` shows; the CronJob keeps its invariants (every
//! minute, concurrencyPolicy Forbid, activeDeadlineSeconds under 60, no
//! retries, non-root, read-only root filesystem, no privilege escalation, all
//! capabilities dropped, resources set); the Secret is optional (a plaintext
//! cluster runs on the ConfigMap alone); with the ConfigMap's commented-out
//! KAFKA_CONFIG_FILE enabled, the Secret's client.properties is mounted where
//! it points, holds only placeholders, and the ConfigMap plus that file make a
//! configuration the binary accepts; the Dockerfile's numeric USER and
//! ENTRYPOINT agree with the CronJob; the Kubernetes steps of
//! docs/operations.md cover the image, the brokers, the optional Secret and a
//! first run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Deserialize;
use serde_yaml::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

/// Every YAML document of every file under deploy/kubernetes, with its file name.
fn documents() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut docs = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let value = Value::deserialize(doc).unwrap_or_else(|e| panic!("{name}: {e}"));
            if !value.is_null() {
                docs.push((name.clone(), value));
            }
        }
    }
    docs
}

fn kind<'a>(docs: &'a [(String, Value)], kind: &str) -> Vec<&'a Value> {
    docs.iter()
        .filter(|(_, d)| d["kind"].as_str() == Some(kind))
        .map(|(_, d)| d)
        .collect()
}

fn named<'a>(docs: &'a [(String, Value)], k: &str, name: &str) -> &'a Value {
    kind(docs, k)
        .into_iter()
        .find(|d| d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {k} named {name} under deploy/kubernetes"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| s.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// The keys of a ConfigMap's or Secret's data (and stringData).
fn keys(doc: &Value) -> Vec<String> {
    ["data", "stringData"]
        .iter()
        .filter_map(|f| doc[*f].as_mapping())
        .flat_map(|m| m.keys().map(|k| k.as_str().unwrap().to_string()))
        .collect()
}

/// `eds-kafka publish --help`, unwrapped (one line an option).
pub(crate) fn publish_help() -> String {
    let out = assert_cmd::Command::cargo_bin("eds-kafka")
        .unwrap()
        .args(["publish", "--help"])
        .env("COLUMNS", "1000")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// The `--long` and `-s` flags and the `[env: NAME=]` names of a help text.
fn help_names(help: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut flags = BTreeSet::new();
    for word in help.split(|c: char| c.is_whitespace() || c == ',') {
        if word.starts_with('-') && word.len() > 1 && word != "-" {
            flags.insert(word.trim_end_matches(['.', ']']).to_string());
        }
    }
    let envs = help
        .split("[env: ")
        .skip(1)
        .map(|rest| rest.split(['=', ']']).next().unwrap().to_string())
        .collect();
    (flags, envs)
}

/// The containers of the CronJob's pod template (init containers too).
fn containers(cronjob: &Value) -> Vec<&Value> {
    let pod = &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    ["initContainers", "containers"]
        .iter()
        .filter_map(|f| pod[*f].as_sequence())
        .flatten()
        .collect()
}

/// What the CronJob's containers use: flags (with their values), env names.
struct Uses {
    flags: Vec<(String, Option<String>)>,
    envs: Vec<String>,
}

fn uses(docs: &[(String, Value)], cronjob: &Value) -> Uses {
    let mut uses = Uses {
        flags: Vec::new(),
        envs: Vec::new(),
    };
    for c in containers(cronjob) {
        let words: Vec<String> = [strings(&c["command"]), strings(&c["args"])].concat();
        for (i, w) in words.iter().enumerate() {
            if let Some((flag, value)) = w.split_once('=').filter(|_| w.starts_with("--")) {
                uses.flags.push((flag.to_string(), Some(value.to_string())));
            } else if w.starts_with('-') {
                uses.flags.push((w.clone(), words.get(i + 1).cloned()));
            }
        }
        for e in c["env"].as_sequence().into_iter().flatten() {
            uses.envs.push(e["name"].as_str().unwrap().to_string());
        }
        for from in c["envFrom"].as_sequence().into_iter().flatten() {
            let prefix = from["prefix"].as_str().unwrap_or("");
            for (field, k) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
                if let Some(name) = from[field]["name"].as_str() {
                    let doc = named(docs, k, name);
                    uses.envs
                        .extend(keys(doc).into_iter().map(|key| format!("{prefix}{key}")));
                }
            }
        }
    }
    uses
}

fn cronjob(docs: &[(String, Value)]) -> &Value {
    let jobs = kind(docs, "CronJob");
    assert_eq!(jobs.len(), 1, "one CronJob under deploy/kubernetes");
    assert_eq!(jobs[0]["apiVersion"].as_str(), Some("batch/v1"));
    jobs[0]
}

#[test]
fn every_flag_and_env_var_is_one_of_publish() {
    let docs = documents();
    let job = cronjob(&docs);
    let (flags, envs) = help_names(&publish_help());
    assert!(flags.contains("--kafka-config") && envs.contains("KAFKA_BROKERS"));
    let uses = uses(&docs, job);
    let c = containers(job)[0];
    let words = [strings(&c["command"]), strings(&c["args"])].concat();
    assert_eq!(
        words.first().map(String::as_str),
        Some("publish"),
        "the image's ENTRYPOINT is eds-kafka: args start with the subcommand"
    );
    assert!(!uses.envs.is_empty());
    // The commented-out KAFKA_CONFIG_FILE, once enabled, is a variable too.
    let mut uses = uses;
    uses.envs.extend(keys(&configmap_with_kafka_config()));
    assert!(uses.envs.iter().any(|e| e == "KAFKA_CONFIG_FILE"));
    for (flag, _) in &uses.flags {
        assert!(
            flags.contains(flag),
            "cronjob.yaml passes {flag}, which eds-kafka publish --help does not list"
        );
    }
    for name in &uses.envs {
        assert!(
            envs.contains(name),
            "{name} is set for the CronJob, but eds-kafka publish reads no such variable"
        );
    }
    // The reference clock is for replays only; a CronJob must use the system clock.
    assert!(!uses.envs.iter().any(|e| e == "EDS_NOW"));
    assert!(!uses
        .flags
        .iter()
        .any(|(f, _)| f == "--now" || f == "--dry-run"));
}

#[test]
fn cronjob_invariants() {
    let docs = documents();
    let job = cronjob(&docs);
    let spec = &job["spec"];
    assert_eq!(spec["schedule"].as_str(), Some("* * * * *"));
    assert_eq!(spec["concurrencyPolicy"].as_str(), Some("Forbid"));
    let starting = spec["startingDeadlineSeconds"].as_u64().unwrap();
    assert!(starting > 0 && starting < 60, "{starting}");
    let job_spec = &spec["jobTemplate"]["spec"];
    let deadline = job_spec["activeDeadlineSeconds"].as_u64().unwrap();
    assert!(
        deadline > 0 && deadline < 60,
        "activeDeadlineSeconds {deadline}"
    );
    assert_eq!(job_spec["backoffLimit"].as_u64(), Some(0));
    let pod = &job_spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"].as_str(), Some("Never"));
    for c in containers(job) {
        let sc = &c["securityContext"];
        let non_root = sc["runAsNonRoot"]
            .as_bool()
            .or(pod["securityContext"]["runAsNonRoot"].as_bool());
        assert_eq!(non_root, Some(true), "runAsNonRoot");
        assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true));
        assert_eq!(sc["allowPrivilegeEscalation"].as_bool(), Some(false));
        assert!(strings(&sc["capabilities"]["drop"]).contains(&"ALL".to_string()));
        assert!(sc["privileged"].as_bool() != Some(true));
        for kind in ["requests", "limits"] {
            for res in ["cpu", "memory"] {
                assert!(
                    c["resources"][kind][res].as_str().is_some(),
                    "resources.{kind}.{res}"
                );
            }
        }
    }
}

/// configmap.yaml with its commented-out KAFKA_CONFIG_FILE line enabled, as
/// docs/operations.md says to do for TLS/SASL.
fn configmap_with_kafka_config() -> Value {
    let text = std::fs::read_to_string(dir().join("configmap.yaml")).unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("# KAFKA_CONFIG_FILE:"))
        .expect("a commented-out KAFKA_CONFIG_FILE line in configmap.yaml");
    let enabled = text.replace(line, &line.replacen("# ", "", 1));
    let doc: Value = serde_yaml::from_str(&enabled).unwrap();
    assert_eq!(doc["kind"].as_str(), Some("ConfigMap"));
    doc
}

/// The Secret volume mounted at the directory of `path`, and the key of `path`.
fn secret_volume_for<'a>(job: &'a Value, path: &str) -> (&'a Value, String) {
    let c = containers(job)[0];
    let pod = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let mount = c["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| path.starts_with(&format!("{}/", m["mountPath"].as_str().unwrap())))
        .unwrap_or_else(|| panic!("no volume mounted for {path}"));
    assert_eq!(mount["readOnly"].as_bool(), Some(true));
    let key = path[mount["mountPath"].as_str().unwrap().len() + 1..].to_string();
    let volume = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    (&volume["secret"], key)
}

/// The client.properties that KAFKA_CONFIG_FILE names once enabled, found
/// through the volume mounted at its directory: (Secret name, file content).
fn kafka_config_file(docs: &[(String, Value)]) -> (String, String) {
    let job = cronjob(docs);
    let enabled = configmap_with_kafka_config();
    let path = enabled["data"]["KAFKA_CONFIG_FILE"].as_str().unwrap();
    let (volume, key) = secret_volume_for(job, path);
    let secret_name = volume["secretName"].as_str().unwrap();
    let secret = named(docs, "Secret", secret_name);
    let text = secret["stringData"][key.as_str()]
        .as_str()
        .unwrap_or_else(|| panic!("Secret {secret_name} has no stringData key {key}"));
    (secret_name.to_string(), text.to_string())
}

/// `eds-kafka publish` with `configmap`'s data as its environment plus `env`,
/// against an unreachable broker: (exit code, stderr). Exit 2 would be a bad
/// configuration; exit 4 (Kafka not reachable) means everything was accepted
/// up to the connection.
fn run_with_configmap(configmap: &Value, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = assert_cmd::Command::cargo_bin("eds-kafka").unwrap();
    for (k, _) in std::env::vars() {
        if k.starts_with("EDS_") || k.starts_with("KAFKA_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in configmap["data"].as_mapping().unwrap() {
        cmd.env(
            k.as_str().unwrap(),
            v.as_str().expect("ConfigMap values are strings"),
        );
    }
    let out = cmd
        .envs(env.iter().copied())
        .args([
            "publish",
            "--brokers",
            "127.0.0.1:1",
            "--kafka-timeout",
            "1s",
        ])
        .args(["--api-url", "http://127.0.0.1:1"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn plaintext_cluster_needs_no_secret() {
    let docs = documents();
    let job = cronjob(&docs);
    let configmap = named(&docs, "ConfigMap", "eds-kafka");
    assert!(
        configmap["data"]["KAFKA_CONFIG_FILE"].is_null(),
        "the default ConfigMap names no client.properties"
    );
    let uses = uses(&docs, job);
    assert!(
        !uses.flags.iter().any(|(f, _)| f == "--kafka-config"),
        "the CronJob does not require the Secret's file"
    );
    let path = configmap_with_kafka_config()["data"]["KAFKA_CONFIG_FILE"]
        .as_str()
        .unwrap()
        .to_string();
    let (volume, _) = secret_volume_for(job, &path);
    assert_eq!(volume["optional"].as_bool(), Some(true), "{volume:?}");
    let (code, err) = run_with_configmap(configmap, &[]);
    assert_eq!(
        code,
        Some(4),
        "the ConfigMap alone is a configuration: {err}"
    );
}

#[test]
fn secret_is_mounted_for_kafka_config_and_holds_placeholders_only() {
    let docs = documents();
    let (name, text) = kafka_config_file(&docs);
    let props: BTreeMap<&str, &str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| l.split_once('=').expect("key=value"))
        .collect();
    assert_eq!(props.get("security.protocol"), Some(&"SASL_SSL"), "{name}");
    for (key, value) in &props {
        if key.contains("password") || key.contains("jaas") || key.contains("username") {
            assert!(value.contains("CHANGE-ME"), "{key} must be a placeholder");
        }
    }
    // It is an example: its file name says so.
    assert!(docs
        .iter()
        .any(|(f, d)| f == "secret.example.yaml" && d["kind"].as_str() == Some("Secret")));
}

#[test]
fn configmap_and_secret_make_a_configuration_the_binary_accepts() {
    // The ConfigMap with KAFKA_CONFIG_FILE enabled, the file being the
    // Secret's client.properties (written locally, where the mount is not).
    let docs = documents();
    let (_, properties) = kafka_config_file(&docs);
    let dir = crate::support::temp_dir();
    let file = dir.path().join("client.properties");
    std::fs::write(&file, properties).unwrap();
    let enabled = configmap_with_kafka_config();
    let (code, err) =
        run_with_configmap(&enabled, &[("KAFKA_CONFIG_FILE", file.to_str().unwrap())]);
    assert_eq!(code, Some(4), "{err}");
    // Enabled without the Secret, the file is missing: a configuration error.
    let (code, err) = run_with_configmap(&enabled, &[]);
    assert_eq!(code, Some(2), "{err}");
}

#[test]
fn image_user_and_entrypoint_match_the_cronjob() {
    let dockerfile =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Dockerfile"))
            .unwrap();
    let last = |prefix: &str| {
        dockerfile
            .lines()
            .rfind(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in Dockerfile"))[prefix.len()..]
            .trim()
            .to_string()
    };
    // runAsNonRoot can only be verified for a numeric USER.
    let user = last("USER ");
    let uid: u64 = user
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("numeric USER");
    assert_ne!(uid, 0);
    assert_eq!(last("ENTRYPOINT "), r#"["eds-kafka"]"#);
    let docs = documents();
    let job = cronjob(&docs);
    let pod = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsUser"].as_u64(), Some(uid));
    for c in containers(job) {
        assert!(
            c["command"].is_null(),
            "the image's ENTRYPOINT runs eds-kafka"
        );
    }
}

/// The "## Kubernetes" section of docs/operations.md, up to the next heading.
fn docs_kubernetes() -> String {
    let page = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md"),
    )
    .unwrap();
    let start = page
        .find("\n## Kubernetes\n")
        .expect("a Kubernetes section")
        + 1;
    let len = page[start + 3..]
        .find("\n#")
        .map_or(page.len() - start, |n| n + 3);
    page[start..start + len].to_string()
}

#[test]
fn docs_kubernetes_steps_are_complete() {
    let text = docs_kubernetes();
    let docs = documents();
    let job = cronjob(&docs);
    let image = containers(job)[0]["image"].as_str().unwrap();
    let repository = image.rsplit_once(':').unwrap().0;
    let (secret, _) = kafka_config_file(&docs);
    for step in [
        "docker build",
        "docker push",
        repository,
        "image:",
        "KAFKA_BROKERS",
        "KAFKA_CONFIG_FILE",
        &format!("kubectl create secret generic {secret}"),
        "kubectl apply -f deploy/kubernetes/configmap.yaml -f deploy/kubernetes/cronjob.yaml",
        "kubectl create job --from=cronjob/eds-kafka",
        "kubectl logs",
        "EDS_CREATE_TOPICS",
    ] {
        assert!(text.contains(step), "the steps say {step}:\n{text}");
    }
    assert!(
        !text.contains("passed with\n`--kafka-config`")
            && !text.contains("passed with `--kafka-config`"),
        "the CronJob passes no --kafka-config"
    );
}
