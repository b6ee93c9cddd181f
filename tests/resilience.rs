//! What a real server cannot be made to do on demand: 5xx bursts, slow
//! answers, malformed bodies, dropped connections. Each must end in a clear
//! error (or succeed after a safe retry), never a panic.

use std::time::Duration;

use histoactive::dsa::{Auth, Client, ClientBuilder, DsaError, FolderId, ItemId, Retry, Secret};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const FOLDER: &str = "6b119a70e5fc2c70876f61bc";

/// Fails the test loudly for any request no other mock expected.
async fn strict_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &Request| {
            ResponseTemplate::new(599)
                .set_body_string(format!("unexpected request {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer) -> Client {
    ClientBuilder::new(format!("{}/api/v1", server.uri()))
        .auth(Auth::Token(Secret::new("secret-token-value")))
        .timeout(Duration::from_millis(400))
        .retry(Retry {
            retries: 2,
            backoff: Duration::from_millis(10),
        })
        .build()
        .unwrap()
}

/// `GET /folder/{FOLDER}` through a client with short timeouts and retries.
async fn get_folder(server: &MockServer) -> Result<histoactive::dsa::Folder, DsaError> {
    client(server)
        .folder(&FolderId::parse(FOLDER).unwrap())
        .await
}

fn folder_json() -> serde_json::Value {
    json!({"_id": FOLDER, "name": "cohort", "meta": {}})
}

/// Answers with the given templates in turn, then repeats the last one.
struct Sequence(std::sync::Mutex<Vec<ResponseTemplate>>);

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut list = self.0.lock().unwrap();
        if list.len() > 1 {
            list.remove(0)
        } else {
            list[0].clone()
        }
    }
}

#[tokio::test]
async fn a_502_burst_on_a_get_is_retried_until_it_succeeds() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/folder/{FOLDER}")))
        .respond_with(Sequence(std::sync::Mutex::new(vec![
            ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"),
            ResponseTemplate::new(503).set_body_json(json!({"message": "busy", "type": "rest"})),
            ResponseTemplate::new(200).set_body_json(folder_json()),
        ])))
        .expect(3)
        .mount(&server)
        .await;
    let folder = get_folder(&server).await.unwrap();
    assert_eq!(folder.name, "cohort");
}

#[tokio::test]
async fn a_server_that_stays_down_gives_up_with_its_message() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_json(json!({"message": "maintenance until 5pm", "type": "rest"})),
        )
        .expect(3)
        .mount(&server)
        .await;
    let err = get_folder(&server).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(err.to_string().contains("maintenance until 5pm"), "{err}");
}

#[tokio::test]
async fn a_post_is_never_retried() {
    let server = strict_server().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/annotation"))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;
    let body = histoactive::dsa::AnnotationBody {
        name: "x".into(),
        description: None,
        display: None,
        attributes: Default::default(),
        elements: vec![],
    };
    let err = client(&server)
        .create_annotation(&ItemId::parse(FOLDER).unwrap(), &body)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502));
}

#[tokio::test]
async fn a_slow_server_times_out_with_a_clear_message() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(folder_json())
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let err = get_folder(&server).await.unwrap_err();
    assert!(matches!(err, DsaError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("timed out after 0.4s"), "{err}");
    assert!(err.to_string().contains("--timeout"), "{err}");
}

#[tokio::test]
async fn a_malformed_body_names_the_json_path() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/folder/{FOLDER}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"_id": FOLDER, "name": 42})))
        .mount(&server)
        .await;
    let err = get_folder(&server).await.unwrap_err();
    match &err {
        DsaError::Decode { path, request, .. } => {
            assert_eq!(path, "name");
            assert_eq!(request, &format!("GET /folder/{FOLDER}"));
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    Mock::given(method("GET"))
        .and(path("/api/v1/item"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"truncated\": [1, 2"))
        .mount(&server)
        .await;
    let err = client(&server)
        .items_in(&FolderId::parse(FOLDER).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, DsaError::Decode { .. }), "{err:?}");
}

#[tokio::test]
async fn a_dropped_connection_is_reported_and_secrets_stay_out() {
    // A server that accepts and hangs up without answering, every time.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(socket);
        }
    });
    let client = ClientBuilder::new(format!("http://{addr}/api/v1"))
        .auth(Auth::Token(Secret::new("secret-token-value")))
        .retry(Retry {
            retries: 1,
            backoff: Duration::from_millis(10),
        })
        .build()
        .unwrap();
    let err = client
        .folder(&FolderId::parse(FOLDER).unwrap())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("GET /folder/{FOLDER}")), "{text}");
    assert!(
        !text.contains("secret-token-value") && !format!("{err:?}").contains("secret-token-value")
    );
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "one retry for an idempotent GET"
    );
}

#[tokio::test]
async fn paging_continues_until_a_short_page() {
    let server = strict_server().await;
    let page = |n: usize, start: usize| -> Vec<serde_json::Value> {
        (start..start + n)
            .map(|i| json!({"_id": format!("{:024x}", i + 1), "name": format!("s{i}"), "folderId": FOLDER}))
            .collect()
    };
    Mock::given(method("GET"))
        .and(path("/api/v1/item"))
        .and(wiremock::matchers::query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(1000, 0)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/item"))
        .and(wiremock::matchers::query_param("offset", "1000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(7, 1000)))
        .expect(1)
        .mount(&server)
        .await;
    let items = client(&server)
        .items_in(&FolderId::parse(FOLDER).unwrap())
        .await
        .unwrap();
    assert_eq!(items.len(), 1007);
    assert_eq!(items[1006].name, "s1006");
}
