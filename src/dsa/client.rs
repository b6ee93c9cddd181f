//! The HTTP transport: builder, authentication, one decoding path, retries.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{DsaError, from_status};
use super::models::{TokenResponse, User};

/// A credential that never shows itself in `Debug` or `Display`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the client proves who it is.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Exchanged for a token with `POST /api_key/token` on connect.
    ApiKey(Secret),
    /// A Girder token, e.g. the one the DSA hands a job.
    Token(Secret),
    /// No credentials (public data, or bootstrapping a test server).
    Anonymous,
}

/// Retry policy for idempotent requests (GET, PUT, DELETE) only.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts after the first one.
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            retries: 3,
            backoff: Duration::from_millis(500),
        }
    }
}

/// Builds a [`Client`]; tests point it at any URL.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    auth: Auth,
    timeout: Duration,
    retry: Retry,
}

impl ClientBuilder {
    pub fn new(base_url: impl Into<String>) -> Self {
        ClientBuilder {
            base_url: base_url.into(),
            auth: Auth::Anonymous,
            timeout: Duration::from_secs(120),
            retry: Retry::default(),
        }
    }

    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Per-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Builds the client without contacting the server.
    pub fn build(self) -> Result<Client, DsaError> {
        let base = reqwest::Url::parse(self.base_url.trim_end_matches('/')).map_err(|e| {
            DsaError::BadUrl {
                url: self.base_url.clone(),
                reason: e.to_string(),
            }
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(DsaError::BadUrl {
                url: self.base_url,
                reason: "the scheme must be http or https".into(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .user_agent(concat!("histoactive/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DsaError::Transport {
                request: "building the HTTP client".into(),
                reason: e.to_string(),
            })?;
        let credential = match &self.auth {
            Auth::Token(t) => Credential::Token(t.clone()),
            _ => Credential::None,
        };
        Ok(Client {
            http,
            base,
            credential,
            timeout: self.timeout,
            retry: self.retry,
            auth: self.auth,
        })
    }

    /// Builds the client, turns an API key into a token and checks that the
    /// credentials name a user, so a bad key fails here with a clear message.
    pub async fn connect(self) -> Result<(Client, Option<User>), DsaError> {
        let mut client = self.build()?;
        if let Auth::ApiKey(key) = client.auth.clone() {
            let form = [("key", key.expose())];
            let response: TokenResponse = client
                .send(Method::POST, "/api_key/token", &[], Body::<()>::Form(&form))
                .await
                .map_err(|e| match e {
                    DsaError::Api {
                        request,
                        status: 400,
                        message,
                    } => DsaError::Unauthorized { request, message },
                    other => other,
                })?;
            client.credential = Credential::Token(Secret::new(response.auth_token.token));
        }
        let user: Option<User> = client.get("/user/me", &[]).await?;
        if user.is_none() && !matches!(client.auth, Auth::Anonymous) {
            // Girder answers an unknown or expired token with `null`, not 401.
            return Err(DsaError::Unauthorized {
                request: "GET /user/me".into(),
                message: "the token is not valid (expired or revoked)".into(),
            });
        }
        Ok((client, user))
    }
}

/// A DSA (Girder) REST client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: reqwest::Url,
    credential: Credential,
    auth: Auth,
    timeout: Duration,
    retry: Retry,
}

/// What each request carries to prove who is asking.
#[derive(Debug, Clone)]
enum Credential {
    None,
    Token(Secret),
    /// Only for the login request that trades a password for a token.
    Basic(String, Secret),
}

/// What a request sends.
pub(crate) enum Body<'a, B: Serialize + ?Sized> {
    None,
    Json(&'a B),
    Form(&'a [(&'a str, &'a str)]),
    Bytes(&'a [u8]),
}

/// The page size for listings; Girder's own default is 50.
const PAGE: usize = 1000;

impl Client {
    /// The API base URL, e.g. `http://dsa.example/api/v1`.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// The server root (the API URL without `/api/v1`), for HistomicsUI links.
    pub fn web_root(&self) -> String {
        let url = self.base.as_str().trim_end_matches('/');
        url.strip_suffix("/api/v1").unwrap_or(url).to_string()
    }

    /// Logs in with a password (`GET /user/authentication`, Basic auth) and
    /// uses the resulting token from then on.
    pub async fn login(&mut self, login: &str, password: &Secret) -> Result<(), DsaError> {
        let mut basic = self.clone();
        basic.credential = Credential::Basic(login.to_string(), password.clone());
        let response: TokenResponse = basic.get("/user/authentication", &[]).await?;
        self.credential = Credential::Token(Secret::new(response.auth_token.token));
        Ok(())
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, DsaError> {
        self.send(Method::GET, path, query, Body::<()>::None).await
    }

    /// Every page of a listing: Girder only sometimes sends a total count, so
    /// keep asking until a page comes back short.
    pub(crate) async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, DsaError> {
        let mut all = Vec::new();
        loop {
            let mut q = query.to_vec();
            q.push(("limit", PAGE.to_string()));
            q.push(("offset", all.len().to_string()));
            q.push(("sort", "_id".to_string()));
            let page: Vec<T> = self.get(path, &q).await?;
            let short = page.len() < PAGE;
            all.extend(page);
            if short {
                return Ok(all);
            }
        }
    }

    /// Sends a request and decodes the answer, retrying idempotent requests on
    /// transient failures (connection errors, timeouts, 429/502/503/504).
    pub(crate) async fn send<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Body<'_, B>,
    ) -> Result<T, DsaError> {
        let idempotent = matches!(method, Method::GET | Method::PUT | Method::DELETE);
        let mut attempt = 0;
        loop {
            match self.send_once(method.clone(), path, query, &body).await {
                Err(e) if idempotent && e.is_transient() && attempt < self.retry.retries => {
                    let wait = self.retry.backoff * 2u32.pow(attempt);
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    async fn send_once<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: &Body<'_, B>,
    ) -> Result<T, DsaError> {
        let request_name = format!("{method} {path}");
        let (status, bytes) = self.exchange(method, path, query, body).await?;
        let bytes = if status == StatusCode::NO_CONTENT || bytes.is_empty() {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        let mut de = serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(&mut de).map_err(|e| DsaError::Decode {
            request: request_name,
            path: e.path().to_string(),
            reason: e.inner().to_string(),
        })
    }

    /// A GET whose answer is not JSON (an XML spec, a file), as bytes.
    pub async fn get_raw(&self, path: &str) -> Result<Vec<u8>, DsaError> {
        let (_, bytes) = self
            .exchange(Method::GET, path, &[], &Body::<()>::None)
            .await?;
        Ok(bytes)
    }

    /// A GET of any JSON resource, for endpoints this client has no typed call for.
    pub async fn get_json(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<serde_json::Value, DsaError> {
        self.get(path, query).await
    }

    /// One request and its successful answer; a non-2xx status becomes a typed error.
    async fn exchange<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: &Body<'_, B>,
    ) -> Result<(StatusCode, Vec<u8>), DsaError> {
        let request_name = format!("{method} {path}");
        let url = format!("{}{}", self.base.as_str().trim_end_matches('/'), path);
        // CherryPy refuses a POST/PUT without Content-Length (411), even an empty one.
        let needs_length = method != Method::GET;
        let mut req = self.http.request(method, &url);
        if !query.is_empty() {
            req = req.query(query);
        }
        req = match &self.credential {
            Credential::Token(token) => req.header("Girder-Token", token.expose()),
            Credential::Basic(login, password) => req.basic_auth(login, Some(password.expose())),
            Credential::None => req,
        };
        req = match body {
            Body::None if needs_length => req.header("Content-Length", "0"),
            Body::None => req,
            Body::Json(value) => req.json(value),
            Body::Form(fields) => req.form(fields),
            Body::Bytes(bytes) => req
                .header("Content-Type", "application/octet-stream")
                .body(bytes.to_vec()),
        };
        let response = req
            .send()
            .await
            .map_err(|e| self.transport_error(&request_name, e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&request_name, e))?;
        if !status.is_success() {
            return Err(from_status(request_name, status.as_u16(), &bytes));
        }
        Ok((status, bytes.to_vec()))
    }

    fn transport_error(&self, request: &str, e: reqwest::Error) -> DsaError {
        // reqwest's message can quote the URL; ours never holds secrets, but drop
        // it anyway and say which request failed instead.
        let e = e.without_url();
        if e.is_timeout() {
            DsaError::Timeout {
                request: request.to_string(),
                timeout: self.timeout,
            }
        } else if e.is_connect() {
            DsaError::Unreachable {
                url: self.base.to_string(),
                reason: root_cause(&e),
            }
        } else {
            DsaError::Transport {
                request: request.to_string(),
                reason: root_cause(&e),
            }
        }
    }
}

/// The innermost error message, which names the actual problem
/// ("connection refused", "connection closed before message completed").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    let mut text = current.to_string();
    while let Some(next) = current.source() {
        current = next;
        text = current.to_string();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let auth = Auth::ApiKey(Secret::new("very-secret-key"));
        assert!(!format!("{auth:?}").contains("very-secret"));
        let client = ClientBuilder::new("http://127.0.0.1:1/api/v1")
            .auth(Auth::Token(Secret::new("tok-123")))
            .build()
            .unwrap();
        assert!(!format!("{client:?}").contains("tok-123"));
    }

    #[test]
    fn bad_urls_are_rejected_up_front() {
        assert!(matches!(
            ClientBuilder::new("dsa.example").build(),
            Err(DsaError::BadUrl { .. })
        ));
        assert!(matches!(
            ClientBuilder::new("ftp://dsa.example/api/v1").build(),
            Err(DsaError::BadUrl { .. })
        ));
    }

    #[test]
    fn web_root_strips_the_api_path() {
        let c = ClientBuilder::new("http://dsa.example/api/v1/")
            .build()
            .unwrap();
        assert_eq!(c.web_root(), "http://dsa.example");
    }
}
