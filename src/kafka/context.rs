//! The librdkafka client context: keeps the errors librdkafka reports (the
//! last one, the first refusal), counts failed deliveries, and sends its log
//! lines, redacted, to our log.

use std::sync::Mutex;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::ProducerContext;
use rdkafka::Message;

use super::is_denied_code;
use crate::redact;

/// librdkafka callbacks: errors are kept (the last one explains a failure),
/// delivery failures counted, log lines redacted and sent to our log at debug.
#[derive(Default)]
pub struct Context {
    last_error: Mutex<Option<String>>,
    /// The first authentication or TLS failure librdkafka reported: definite,
    /// retrying with the same settings cannot help.
    refusal: Mutex<Option<(RDKafkaErrorCode, String)>>,
    /// The first authorization failure reported as an error event (a group
    /// this principal may not read is told only there, not by a poll).
    denied: Mutex<Option<KafkaError>>,
    failures: Mutex<(u64, Option<String>)>,
    /// The first failed delivery's topic and error code.
    failure_code: Mutex<Option<(String, Option<RDKafkaErrorCode>)>>,
}

impl Context {
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().unwrap().clone()
    }

    /// The first authentication (SASL) or TLS failure librdkafka reported,
    /// with its reason (redacted).
    pub fn refusal(&self) -> Option<(RDKafkaErrorCode, String)> {
        self.refusal.lock().unwrap().clone()
    }

    /// The first authorization failure reported as an error event.
    pub fn denied(&self) -> Option<KafkaError> {
        self.denied.lock().unwrap().clone()
    }

    /// The first failed delivery's topic and error code.
    pub fn failure_code(&self) -> Option<(String, Option<RDKafkaErrorCode>)> {
        self.failure_code.lock().unwrap().clone()
    }

    /// (failed deliveries, the first failure's description)
    pub fn failures(&self) -> (u64, Option<String>) {
        self.failures.lock().unwrap().clone()
    }
}

impl ClientContext for Context {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        let message = redact::text(message);
        if (level as i32) <= (RDKafkaLogLevel::Error as i32) {
            // Connection and TLS failures are told here first ("Connect to ... failed",
            // "SSL handshake failed: certificate verify failed"): keep the latest.
            log::debug!("librdkafka {fac}: {message}");
            *self.last_error.lock().unwrap() = Some(message);
        } else if (level as i32) <= (RDKafkaLogLevel::Warning as i32) {
            log::debug!("librdkafka {fac}: {message}");
        } else {
            log::trace!("librdkafka {fac}: {message}");
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let text = redact::text(&format!("{error}: {reason}"));
        log::debug!("librdkafka error: {text}");
        let code = error.rdkafka_error_code();
        if let Some(code @ (RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SSL)) = code {
            self.refusal
                .lock()
                .unwrap()
                .get_or_insert((code, redact::text(reason)));
        }
        if code.is_some_and(is_denied_code) {
            self.denied.lock().unwrap().get_or_insert(error.clone());
        }
        let mut last = self.last_error.lock().unwrap();
        // "All broker connections are down" follows the failure that says why: keep that.
        if code != Some(RDKafkaErrorCode::AllBrokersDown) || last.is_none() {
            *last = Some(text);
        }
    }
}

impl ProducerContext for Context {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((err, message)) = result {
            let key = message
                .key()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let mut f = self.failures.lock().unwrap();
            f.0 += 1;
            if f.1.is_none() {
                *self.failure_code.lock().unwrap() =
                    Some((message.topic().to_string(), err.rdkafka_error_code()));
                f.1 = Some(redact::text(&format!(
                    "{} key {key}: {err}",
                    message.topic()
                )));
            }
        }
    }
}

impl ConsumerContext for Context {}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::exit::Exit;
    use crate::kafka::KafkaSettings;

    /// What librdkafka's error events leave in the context: an authentication
    /// or TLS failure is a refusal (the first one kept, its reason redacted);
    /// "all brokers down" does not hide the failure that explains it.
    #[test]
    fn refusals_are_kept_and_explained() {
        use rdkafka::error::RDKafkaErrorCode as Code;
        let s = KafkaSettings::new(
            Some("b:1"),
            None,
            &["sasl.password=Hunter2Secret".into()],
            Duration::from_secs(30),
        )
        .unwrap();
        let context = Context::default();
        context.error(
            KafkaError::Global(Code::BrokerTransportFailure),
            "ssl://b:1/bootstrap: alert bad certificate",
        );
        context.error(
            KafkaError::Global(Code::AllBrokersDown),
            "1/1 brokers are down",
        );
        assert!(
            context.refusal().is_none(),
            "a transport failure is not definite"
        );
        assert!(
            context.last_error().unwrap().contains("bad certificate"),
            "{:?}",
            context.last_error()
        );
        context.error(
            KafkaError::Global(Code::Authentication),
            "SASL authentication error: bad password Hunter2Secret",
        );
        context.error(KafkaError::Global(Code::SSL), "handshake failed");
        let refusal = context.refusal().unwrap();
        assert_eq!(refusal.0, Code::Authentication, "the first refusal is kept");
        assert!(!refusal.1.contains("Hunter2Secret"), "{}", refusal.1);
        let e = s.refused("fetch metadata", refusal);
        assert_eq!(crate::failure::exit_of(&e), Exit::Kafka);
        let text = e.to_string();
        assert!(text.contains("refused the credentials") && text.contains("sasl.password"));
        assert!(
            !text.contains("Hunter2Secret") && !text.contains("within"),
            "{text}"
        );
        let tls = s.refused("x", (Code::SSL, "certificate verify failed".into()));
        assert!(tls.to_string().contains("ssl.ca.location"), "{tls}");
    }
}
