//! What can go wrong talking to a DSA server, phrased so a user knows what to do.
//!
//! No variant ever holds a token or API key: requests that carry secrets put
//! them in headers or form bodies, never in the URL that errors quote.

use std::time::Duration;

/// The JSON body Girder sends with every error.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ServerMessage {
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DsaError {
    #[error(
        "'{url}' is not a usable API URL: {reason} (expected e.g. https://dsa.example.org/api/v1)"
    )]
    BadUrl { url: String, reason: String },

    #[error(
        "cannot reach the DSA server at {url}: {reason}. Check --api-url / DSA_API_URL and that the server is up"
    )]
    Unreachable { url: String, reason: String },

    #[error("{request} timed out after {}s; the server may be overloaded (raise --timeout if it is just slow)", timeout.as_secs_f64())]
    Timeout { request: String, timeout: Duration },

    #[error(
        "the server rejected the credentials ({request}): {message}. Check --api-key / DSA_API_KEY or --token / DSA_TOKEN (tokens expire)"
    )]
    Unauthorized { request: String, message: String },

    #[error(
        "access denied ({request}): {message}. The user of this API key/token needs more access"
    )]
    Forbidden { request: String, message: String },

    #[error("not found ({request}): {message}")]
    NotFound { request: String, message: String },

    #[error("{request} failed with HTTP {status}: {message}")]
    Api {
        request: String,
        status: u16,
        message: String,
    },

    #[error("{request} returned a body that is not what the DSA API sends, at `{path}`: {reason}")]
    Decode {
        request: String,
        path: String,
        reason: String,
    },

    #[error("{request} failed: {reason}")]
    Transport { request: String, reason: String },
}

impl DsaError {
    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            DsaError::Unauthorized { .. } => Some(401),
            DsaError::Forbidden { .. } => Some(403),
            DsaError::NotFound { .. } => Some(404),
            DsaError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether repeating an idempotent request may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            DsaError::Unreachable { .. }
            | DsaError::Timeout { .. }
            | DsaError::Transport { .. } => true,
            DsaError::Api { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            _ => false,
        }
    }
}

/// Turns a non-2xx response into a typed error carrying the server's message.
pub(crate) fn from_status(request: String, status: u16, body: &[u8]) -> DsaError {
    let parsed: Option<ServerMessage> = serde_json::from_slice(body).ok();
    let message = match parsed {
        Some(m) if !m.message.is_empty() => match m.field {
            Some(field) => format!("{} (field '{field}')", m.message),
            None => m.message,
        },
        _ => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                "no message from the server".to_string()
            } else {
                // An HTML error page from a proxy can be long; its start says enough.
                text.chars().take(200).collect()
            }
        }
    };
    match status {
        401 => DsaError::Unauthorized { request, message },
        403 => DsaError::Forbidden { request, message },
        404 => DsaError::NotFound { request, message },
        // Girder answers a well-formed id that matches nothing with
        // 400 "Invalid <model> id (<id>)."
        400 if message.starts_with("Invalid ") && message.contains(" id (") => {
            DsaError::NotFound { request, message }
        }
        _ => DsaError::Api {
            request,
            status,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping_keeps_the_server_message() {
        let e = from_status(
            "GET /x".into(),
            403,
            br#"{"message": "Write access denied for item 1.", "type": "access"}"#,
        );
        assert!(
            matches!(e, DsaError::Forbidden { ref message, .. } if message == "Write access denied for item 1.")
        );
        let e = from_status(
            "GET /folder/1".into(),
            400,
            br#"{"message": "Invalid folder id (1).", "type": "rest"}"#,
        );
        assert!(matches!(e, DsaError::NotFound { .. }));
        let e = from_status(
            "POST /a".into(),
            400,
            br#"{"message": "Bad", "type": "validation", "field": "name"}"#,
        );
        assert_eq!(
            e.to_string(),
            "POST /a failed with HTTP 400: Bad (field 'name')"
        );
        let e = from_status("GET /b".into(), 502, b"<html>Bad Gateway</html>");
        assert!(e.is_transient());
        assert!(e.to_string().contains("Bad Gateway"));
    }
}
