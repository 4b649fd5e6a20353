//! A local receiver for the custom webhook (`farmhook receive`): it listens
//! on loopback, checks `X-API-Key` in constant time and the signature when
//! one is configured, and reports each delivery, so a user can test the
//! custom webhook with no server of their own.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use subtle::ConstantTimeEq;

use crate::core::api_key::{ApiKey, SigningSecret};

/// Signatures older or newer than this are refused (Standard Webhooks).
pub const TIMESTAMP_TOLERANCE_S: i64 = 5 * 60;

/// What the receiver checks against.
#[derive(Clone)]
pub struct ReceiverConfig {
    pub key: ApiKey,
    pub signing: Option<SigningSecret>,
}

/// One request the receiver got, judged. Holds no secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReceivedDelivery {
    pub method: String,
    pub path: String,
    pub event_type: Option<String>,
    pub webhook_id: Option<String>,
    pub key_ok: bool,
    /// `None` when no signing secret is configured.
    pub signature_ok: Option<bool>,
    /// What was wrong, in words; `None` when accepted.
    pub problem: Option<String>,
    pub status: u16,
    pub body: String,
}

/// Judges one request. Pure apart from `now_unix`.
pub fn judge(
    config: &ReceiverConfig,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    now_unix: i64,
) -> ReceivedDelivery {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let key_ok = header("x-api-key")
        .is_some_and(|given| bool::from(given.as_bytes().ct_eq(config.key.expose().as_bytes())));
    let webhook_id = header("webhook-id").map(String::from);
    let signature_ok = config.signing.as_ref().map(|secret| {
        let (Some(id), Some(ts), Some(sig)) = (
            header("webhook-id"),
            header("webhook-timestamp").and_then(|t| t.parse::<i64>().ok()),
            header("webhook-signature"),
        ) else {
            return false;
        };
        (now_unix - ts).abs() <= TIMESTAMP_TOLERANCE_S && secret.verify(id, ts, body, sig)
    });
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let event_type = parsed
        .as_ref()
        .and_then(|v| v.get("type"))
        .and_then(|t| t.as_str())
        .map(String::from);
    let problem = if method != Method::POST {
        Some(format!("{method} is not a delivery; farmhook sends POST"))
    } else if header("x-api-key").is_none() {
        Some("no X-API-Key header".to_string())
    } else if !key_ok {
        Some("the X-API-Key does not match this profile's key".to_string())
    } else if signature_ok == Some(false) {
        Some("the webhook-signature is missing, stale or does not match".to_string())
    } else if parsed.is_none() {
        Some("the body is not JSON".to_string())
    } else {
        None
    };
    let status = match &problem {
        None => 200,
        Some(_) if method != Method::POST => 405,
        Some(_) if !key_ok || signature_ok == Some(false) => 401,
        Some(_) => 400,
    };
    let body = match &parsed {
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
        None => String::from_utf8_lossy(&body[..body.len().min(4096)]).into_owned(),
    };
    ReceivedDelivery {
        method: method.to_string(),
        path: path.chars().take(200).collect(),
        event_type,
        webhook_id,
        key_ok,
        signature_ok,
        problem,
        status,
        body,
    }
}

/// Serves until the future is dropped. `report` sees every request.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: ReceiverConfig,
    report: impl Fn(ReceivedDelivery) + Send + Sync + 'static,
) -> std::io::Result<()> {
    let config = Arc::new(config);
    let report = Arc::new(report);
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let config = config.clone();
            let report = report.clone();
            async move {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let judged = judge(&config, &method, uri.path(), &headers, &body, now);
                let status = StatusCode::from_u16(judged.status).unwrap_or(StatusCode::BAD_REQUEST);
                let answer = match &judged.problem {
                    None => serde_json::json!({"ok": true}),
                    Some(p) => serde_json::json!({"ok": false, "error": p}),
                };
                report(judged);
                (
                    status,
                    [("content-type", "application/json")],
                    answer.to_string(),
                )
                    .into_response()
            }
        },
    );
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn config(signing: bool) -> ReceiverConfig {
        ReceiverConfig {
            key: ApiKey::parse("k".repeat(40).as_str()).unwrap(),
            signing: signing
                .then(|| SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()),
        }
    }

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn accepts_the_right_key_and_refuses_others() {
        let body = br#"{"type":"job.failed"}"#;
        let ok = judge(
            &config(false),
            &Method::POST,
            "/hook",
            &headers(&[("x-api-key", "k".repeat(40))]),
            body,
            0,
        );
        assert_eq!(
            (ok.status, ok.key_ok, ok.problem.clone()),
            (200, true, None)
        );
        assert_eq!(ok.event_type.as_deref(), Some("job.failed"));
        let wrong = judge(
            &config(false),
            &Method::POST,
            "/hook",
            &headers(&[("x-api-key", "x".repeat(40))]),
            body,
            0,
        );
        assert_eq!(wrong.status, 401);
        assert!(wrong.problem.unwrap().contains("does not match"));
        let missing = judge(
            &config(false),
            &Method::POST,
            "/hook",
            &HeaderMap::new(),
            body,
            0,
        );
        assert_eq!(missing.status, 401);
    }

    #[test]
    fn checks_the_signature_and_its_age() {
        let c = config(true);
        let body = br#"{"type":"job.failed"}"#;
        let ts = 1_800_000_000;
        let sig = c.signing.as_ref().unwrap().sign("evt_1", ts, body);
        let h = |ts: i64, sig: &str| {
            headers(&[
                ("x-api-key", "k".repeat(40)),
                ("webhook-id", "evt_1".into()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", sig.into()),
            ])
        };
        assert_eq!(
            judge(&c, &Method::POST, "/", &h(ts, &sig), body, ts + 10).status,
            200
        );
        assert_eq!(
            judge(&c, &Method::POST, "/", &h(ts, &sig), body, ts + 600).status,
            401
        );
        assert_eq!(
            judge(&c, &Method::POST, "/", &h(ts, "v1,AAAA"), body, ts).status,
            401
        );
        assert_eq!(
            judge(
                &c,
                &Method::POST,
                "/",
                &h(ts, &sig),
                b"{\"type\":\"x\"}",
                ts
            )
            .status,
            401
        );
    }
}
