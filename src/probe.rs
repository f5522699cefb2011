//! A quick TCP probe of the bootstrap brokers before a Kafka client is made:
//! when every bootstrap address refuses the connection (nothing listens
//! there: a wrong port, a broker that is not started), the run fails at once
//! (exit 4) instead of after `--kafka-timeout` with librdkafka's
//! `BrokerTransportFailure`. Anything else (one address answering, a
//! timeout, a name that does not resolve) is left to librdkafka, bounded by
//! `--kafka-timeout` as before. TLS and SASL use the same port, so a plain
//! TCP connection tells the same.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::kafka::KafkaSettings;

/// How long the probe waits at most (less when `--kafka-timeout` is shorter).
const PROBE_MAX: Duration = Duration::from_secs(2);
/// librdkafka's port when `bootstrap.servers` names none.
const DEFAULT_PORT: u16 = 9092;

/// What connecting to one bootstrap server gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Connected,
    /// Every address of the server refused the connection.
    Refused,
    /// Anything else (timeout, unreachable, unresolvable): librdkafka decides.
    Unknown,
}

/// Fails (exit 4) when every bootstrap server refuses the connection.
/// `validate` (making the client) runs first in that case only, so a bad
/// property is still the usage error (exit 2) it is with a reachable broker.
pub fn check_bootstrap(
    settings: &KafkaSettings,
    validate: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let servers = servers(settings.brokers());
    let limit = settings.remaining().min(PROBE_MAX);
    if servers.is_empty() || !all_refused(&servers, limit) {
        return Ok(());
    }
    validate()?;
    Err(crate::kafka::BrokerError::NothingListens {
        servers: servers.iter().map(|(h, p)| join(h, *p)).collect(),
    }
    .into())
}

/// Probes every server side by side; true only when all of them refused
/// within `limit` (the first one that connects ends the wait).
fn all_refused(servers: &[(String, u16)], limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let (tx, rx) = mpsc::channel();
    for (host, port) in servers {
        let (tx, host, port) = (tx.clone(), host.clone(), *port);
        // A thread per server: a slow name lookup must not hold up the others.
        std::thread::spawn(move || {
            let _ = tx.send(probe(&host, port, deadline));
        });
    }
    drop(tx);
    for _ in servers {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Outcome::Refused) => {}
            Ok(_) | Err(_) => return false,
        }
    }
    true
}

/// Connects to each address of `host:port` until one answers or `deadline`.
fn probe(host: &str, port: u16, deadline: Instant) -> Outcome {
    let Ok(addresses) = (host, port).to_socket_addrs() else {
        return Outcome::Unknown;
    };
    let addresses: Vec<SocketAddr> = addresses.collect();
    if addresses.is_empty() {
        return Outcome::Unknown;
    }
    let mut outcome = Outcome::Refused;
    for address in addresses {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Outcome::Unknown;
        }
        match TcpStream::connect_timeout(&address, left) {
            Ok(_) => return Outcome::Connected,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
            Err(_) => outcome = Outcome::Unknown,
        }
    }
    outcome
}

/// The `host`/`port` pairs of a `bootstrap.servers` value: comma-separated,
/// each `host:port`, `[v6]:port` or `host`, with an optional `proto://`.
/// Entries it cannot read are left out (librdkafka will say what is wrong).
fn servers(list: &str) -> Vec<(String, u16)> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|entry| {
            let entry = entry.split_once("://").map_or(entry, |(_, rest)| rest);
            if let Some(rest) = entry.strip_prefix('[') {
                let (host, tail) = rest.split_once(']')?;
                let port = match tail.strip_prefix(':') {
                    Some(p) => p.parse().ok()?,
                    None if tail.is_empty() => DEFAULT_PORT,
                    None => return None,
                };
                return Some((host.to_string(), port));
            }
            match entry.rsplit_once(':') {
                Some((host, _)) if host.contains(':') => None,
                Some((host, port)) => Some((host.to_string(), port.parse().ok()?)),
                None => Some((entry.to_string(), DEFAULT_PORT)),
            }
        })
        .collect()
}

/// `host:port`, with brackets around an IPv6 address.
fn join(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Exit;
    use std::net::TcpListener;

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[test]
    fn bootstrap_servers_are_read_in_every_form() {
        assert_eq!(
            servers("a:1, SASL_SSL://b.example:9093,[::1]:7,c,[::2],bad:port,::1:9"),
            vec![
                ("a".to_string(), 1),
                ("b.example".to_string(), 9093),
                ("::1".to_string(), 7),
                ("c".to_string(), 9092),
                ("::2".to_string(), 9092),
            ]
        );
        assert_eq!(join("::1", 7), "[::1]:7");
    }

    #[test]
    fn only_all_refused_fails_fast() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap().port();
        let closed = free_port();
        let second = Duration::from_secs(1);
        let local = |p: u16| ("127.0.0.1".to_string(), p);
        assert!(all_refused(&[local(closed)], second));
        assert!(all_refused(&[local(closed), local(free_port())], second));
        // One broker down while another answers: not a fast failure.
        assert!(!all_refused(&[local(closed), local(open)], second));
        assert!(!all_refused(&[local(open)], second));
        // A name that does not resolve is left to librdkafka.
        assert!(!all_refused(&[("nowhere.invalid".to_string(), 1)], second));
    }

    #[test]
    fn the_message_names_the_address_and_the_flag_and_its_variable() {
        let port = free_port();
        let brokers = format!("127.0.0.1:{port}");
        let s = KafkaSettings::new(Some(&brokers), None, &[], Duration::from_secs(30)).unwrap();
        let e = check_bootstrap(&s, || Ok(())).unwrap_err();
        assert_eq!(crate::failure::exit_of(&e), Exit::Kafka);
        assert_eq!(
            e.to_string(),
            format!(
                "cannot connect to {brokers} (connection refused); check --brokers / KAFKA_BROKERS"
            )
        );
        let bad = || Err(crate::kafka::BrokerError::NoBrokers.into());
        let e = check_bootstrap(&s, bad).unwrap_err();
        assert_eq!(
            crate::failure::exit_of(&e),
            Exit::Usage,
            "the configuration first"
        );
    }
}
