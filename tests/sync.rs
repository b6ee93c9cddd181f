//! `histoactive sync` against the real local DSA: runs when labels changed,
//! is a no-op otherwise, and respects another job's lease.

mod common;

use common::*;
use serde_json::{Map, json};

fn sync(key: &str, folder: &str) -> (bool, String, String) {
    let args = cohort_args("sync", folder, 5, &[]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = histoactive(key, &refs);
    let (stdout, stderr) = text(&out);
    (out.status.success(), stdout, stderr)
}

#[test]
fn sync_runs_only_when_labels_change_and_honours_the_lease() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(1));
    let admin = rt.block_on(admin());
    let folder = cohort.folder_id.as_str();

    let (ok, stdout, stderr) = sync(&key, folder);
    assert!(
        ok && stdout.contains("histoactive round"),
        "first pass runs the round:\n{stdout}\n{stderr}"
    );
    let state =
        rt.block_on(admin.folder(&cohort.folder_id)).unwrap().meta["histoactiveSync"].clone();
    assert!(
        state["fingerprint"].is_string() && state.get("lease").is_none(),
        "{state}"
    );
    let layer_version = |rt: &tokio::runtime::Runtime| {
        let listed = rt.block_on(admin.annotations_of(&cohort.items[0])).unwrap();
        let queue = listed
            .iter()
            .find(|a| a.annotation.name == "histoactive review queue")
            .unwrap();
        (queue.id.clone(), queue.version, queue.updated.clone())
    };
    let before = layer_version(&rt);

    let (ok, stdout, _) = sync(&key, folder);
    assert!(
        ok && stdout.contains("labels and sites unchanged since the last run"),
        "{stdout}"
    );
    assert_eq!(
        layer_version(&rt),
        before,
        "an unchanged pass writes nothing"
    );

    // An expert labels one more nucleus.
    let mut nuclei = rt
        .block_on(admin.annotation(&cohort.nuclei_annotations[0]))
        .unwrap();
    let target = nuclei
        .annotation
        .elements
        .iter_mut()
        .find(|e| e.group.is_none())
        .unwrap();
    target.group = Some("benign".into());
    rt.block_on(admin.replace_annotation(&nuclei.id, &nuclei.annotation))
        .unwrap();
    let (ok, stdout, stderr) = sync(&key, folder);
    assert!(
        ok && stdout.contains("histoactive round"),
        "a label change runs the round:\n{stdout}\n{stderr}"
    );
    assert_ne!(layer_version(&rt), before);

    // The slide moves to another site: its share of the batch may change, so run.
    let (ok, stdout, _) = sync(&key, folder);
    assert!(ok && stdout.contains("unchanged"), "{stdout}");
    let mut site = Map::new();
    site.insert("site".into(), json!("site-Q"));
    rt.block_on(admin.set_item_metadata(&cohort.items[0], &site))
        .unwrap();
    let (ok, stdout, stderr) = sync(&key, folder);
    assert!(
        ok && stdout.contains("histoactive round") && stdout.contains("site-Q"),
        "a site change runs the round:\n{stdout}\n{stderr}"
    );

    // Another job holds the lease: skip. Once it is stale: take it over.
    let mut state =
        rt.block_on(admin.folder(&cohort.folder_id)).unwrap().meta["histoactiveSync"].clone();
    state["fingerprint"] = json!("forces-a-run");
    state["lease"] = json!({"holder": "other-job", "expires": (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339()});
    let mut meta = Map::new();
    meta.insert("histoactiveSync".into(), state.clone());
    rt.block_on(admin.set_folder_metadata(&cohort.folder_id, &meta))
        .unwrap();
    let (ok, stdout, _) = sync(&key, folder);
    assert!(
        ok && stdout.contains("another sync (other-job) holds the lease"),
        "{stdout}"
    );
    assert!(!stdout.contains("histoactive round"));

    state["lease"]["expires"] =
        json!((chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339());
    meta.insert("histoactiveSync".into(), state);
    rt.block_on(admin.set_folder_metadata(&cohort.folder_id, &meta))
        .unwrap();
    let (ok, stdout, _) = sync(&key, folder);
    assert!(
        ok && stdout.contains("histoactive round"),
        "a stale lease is taken over: {stdout}"
    );
    let state =
        rt.block_on(admin.folder(&cohort.folder_id)).unwrap().meta["histoactiveSync"].clone();
    assert!(
        state.get("lease").is_none(),
        "released after the pass: {state}"
    );
}

#[test]
fn sync_needs_a_folder_and_a_valid_interval() {
    let out = histoactive(
        "k",
        &[
            "sync",
            "--item",
            "0123456789abcdef01234567",
            "--classes",
            "a,b",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("--folder"), "{:?}", text(&out));
    let out = histoactive(
        "k",
        &[
            "sync",
            "--folder",
            "0123456789abcdef01234567",
            "--classes",
            "a,b",
            "--every",
            "soon",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("--every"), "{:?}", text(&out));
}
