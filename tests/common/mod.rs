//! Shared helpers: the local test DSA (started on first use, reused when up),
//! demo cohorts, and running the binary.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use histoactive::dataset::wdbc;
use histoactive::demo::{DemoCohort, DemoSpec, admin_client, seed_cohort};
use histoactive::dsa::{AnnotationBody, Client, Element, Extra, Secret, Shape};

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "adminpassword1";

/// Starts the project's test DSA (or finds it up) and returns its API URL.
fn start_server(port: Option<&str>, slicer: bool) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/dsa-server/start.sh");
    let mut command = Command::new("bash");
    command.arg(&script).args(port);
    if slicer {
        command.env("HISTOACTIVE_DSA_SLICER", "1");
    }
    let out = command
        .output()
        .expect("running scripts/dsa-server/start.sh");
    assert!(
        out.status.success(),
        "the test DSA did not start:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The API URL of the test DSA: `HISTOACTIVE_TEST_API_URL` if set, else the
/// project's own server, started by `scripts/dsa-server/start.sh`.
pub fn api_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        std::env::var("HISTOACTIVE_TEST_API_URL").unwrap_or_else(|_| start_server(None, false))
    })
    .clone()
}

/// A second test DSA with the slicer_cli_web plugin loaded (port 8766, or
/// `HISTOACTIVE_TEST_SLICER_API_URL`), started on first use.
pub fn slicer_api_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        std::env::var("HISTOACTIVE_TEST_SLICER_API_URL")
            .unwrap_or_else(|_| start_server(Some("8766"), true))
    })
    .clone()
}

/// Names of an item's annotations, in creation order.
pub fn annotation_names(
    rt: &tokio::runtime::Runtime,
    client: &Client,
    item: &histoactive::dsa::ItemId,
) -> Vec<String> {
    rt.block_on(client.annotations_of(item))
        .unwrap()
        .into_iter()
        .map(|a| a.annotation.name)
        .collect()
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub async fn admin() -> Client {
    admin_client(&api_url(), ADMIN, &Secret::new(PASSWORD))
        .await
        .expect("admin sign-in on the test DSA")
}

/// An admin API key, for tests that need no data.
pub async fn admin_key() -> String {
    admin()
        .await
        .create_api_key("tests")
        .await
        .unwrap()
        .expose()
        .to_string()
}

/// A fresh demo cohort (in its own folder) and an admin API key.
pub async fn cohort(slides: usize) -> (DemoCohort, String) {
    let client = admin().await;
    let table = wdbc();
    let spec = DemoSpec {
        collection: "histoactive tests".into(),
        slides,
        nuclei_per_slide: None,
        seed: 11,
    };
    let cohort = seed_cohort(&client, &table, &spec)
        .await
        .expect("seeding a demo cohort");
    let key = client.create_api_key("tests").await.unwrap();
    (cohort, key.expose().to_string())
}

/// Runs the binary with the test DSA's URL and this API key in the environment.
pub fn histoactive(api_key: &str, args: &[&str]) -> Output {
    histoactive_with(
        &[("DSA_API_URL", &api_url()), ("DSA_API_KEY", api_key)],
        args,
    )
}

/// `histoactive <command>` over a demo cohort's folder: its nuclei, its
/// expert labels, its two classes, `batch` queued, no progress lines.
pub fn cohort_args(command: &str, folder: &str, batch: usize, extra: &[&str]) -> Vec<String> {
    let batch = batch.to_string();
    [
        command,
        "--folder",
        folder,
        "--samples",
        "^nuclei$",
        "--labels",
        "expert labels",
        "--classes",
        "benign,malignant",
        "--batch",
        &batch,
        "--quiet",
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect()
}

/// Runs the binary (as [`histoactive`]) and returns its stdout; a failure
/// fails the test with both streams.
pub fn run_ok(api_key: &str, args: &[String]) -> String {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = histoactive(api_key, &refs);
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "run failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

/// Runs the binary with exactly these `DSA_*` variables (others removed).
pub fn histoactive_with(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_histoactive"));
    for name in ["DSA_API_URL", "DSA_API_KEY", "DSA_TOKEN"] {
        command.env_remove(name);
    }
    command
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("running histoactive")
}

/// A point element with these `user` values and an optional class.
pub fn point(x: f64, user: Option<serde_json::Value>, group: Option<&str>) -> Element {
    let mut e = Element::new(Shape::Point {
        center: [x, 3.0, 0.0],
        extra: Extra::new(),
    });
    e.user = user.and_then(|u| u.as_object().cloned());
    e.group = group.map(str::to_string);
    e
}

/// A plain annotation body, as a person's tool would post it.
pub fn annotation(name: &str, elements: Vec<Element>) -> AnnotationBody {
    AnnotationBody {
        name: name.into(),
        description: None,
        display: None,
        attributes: Default::default(),
        elements,
    }
}

pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
