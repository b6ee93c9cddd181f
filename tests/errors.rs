//! Bad input against the real local DSA: each case exits non-zero with a
//! message that names the problem, and never prints a secret.

mod common;

use common::*;
use histoactive::dsa::{ClientBuilder, Secret};
use serde_json::json;

fn assert_fails(out: &std::process::Output, code: i32, needles: &[&str]) -> String {
    let (stdout, stderr) = text(out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for needle in needles {
        assert!(stderr.contains(needle), "expected '{needle}' in:\n{stderr}");
    }
    stderr
}

const CLASSES: &[&str] = &[
    "--samples",
    "^nuclei$",
    "--classes",
    "benign,malignant",
    "--quiet",
];

fn args<'a>(scope: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["run"];
    v.extend_from_slice(scope);
    v.extend_from_slice(CLASSES);
    v
}

#[test]
fn a_wrong_api_key_is_rejected_without_echoing_it() {
    let secret = "not-a-real-key-0123456789abcdefghijklmn";
    let out = histoactive(secret, &args(&["--folder", "6b119a70e5fc2c70876f61bc"]));
    let stderr = assert_fails(&out, 1, &["Invalid API key", "--api-key"]);
    assert!(!stderr.contains(secret));
}

#[test]
fn an_expired_or_unknown_token_is_rejected() {
    let token = "Zz9tokenThatTheServerNeverIssued000000000000000000000000000000";
    let url = api_url();
    let env = [("DSA_API_URL", url.as_str()), ("DSA_TOKEN", token)];
    let out = histoactive_with(&env, &args(&["--folder", "6b119a70e5fc2c70876f61bc"]));
    let stderr = assert_fails(&out, 1, &["token is not valid"]);
    assert!(!stderr.contains(token));
}

#[test]
fn a_missing_folder_and_a_missing_item_are_named() {
    let key = runtime().block_on(admin_key());
    let out = histoactive(&key, &args(&["--folder", "0123456789abcdef01234567"]));
    assert_fails(
        &out,
        1,
        &[
            "folder 0123456789abcdef01234567 was not found",
            "Invalid folder id",
        ],
    );
    let out = histoactive(&key, &args(&["--item", "0123456789abcdef01234567"]));
    assert_fails(&out, 1, &["item 0123456789abcdef01234567 was not found"]);
}

#[test]
fn unmatched_sample_pattern_lists_the_names_it_saw() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(1));
    let out = histoactive(
        &key,
        &[
            "run",
            "--folder",
            cohort.folder_id.as_str(),
            "--samples",
            "superpixels",
            "--classes",
            "benign,malignant",
        ],
    );
    assert_fails(
        &out,
        1,
        &[
            "no annotation",
            "'superpixels'",
            "nuclei",
            "expert labels",
            "--samples",
        ],
    );
}

#[test]
fn one_labeled_class_starts_cold_and_missing_features_are_explained() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(1));
    let client = rt.block_on(admin());
    // A slide whose nuclei are all labeled 'benign' and one without features.
    let item = rt
        .block_on(client.create_item(&cohort.folder_id, "one-class"))
        .unwrap();
    let nucleus = |x: f64, group| point(x, Some(json!({"Feature.area": x})), group);
    let cells = vec![
        nucleus(1.0, Some("benign")),
        nucleus(2.0, Some("benign")),
        nucleus(3.0, None),
    ];
    rt.block_on(client.create_annotation(&item.id, &annotation("cells", cells)))
        .unwrap();
    let bare = annotation("bare", vec![point(1.0, None, None)]);
    rt.block_on(client.create_annotation(&item.id, &bare))
        .unwrap();
    let run_on = |samples: &str| {
        let args = [
            "run",
            "--item",
            item.id.as_str(),
            "--samples",
            samples,
            "--classes",
            "benign,malignant",
            "--quiet",
        ];
        histoactive(&key, &args)
    };
    // One class labeled: no model yet, so a cold-start batch instead of a failure.
    let out = run_on("^cells$");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("cold start: labels of fewer than 2 classes (2 'benign', 0 'malignant')"),
        "{stdout}"
    );
    let layers = rt.block_on(client.annotations_of(&item.id)).unwrap();
    let queue = layers
        .iter()
        .find(|a| a.annotation.name == "histoactive review queue")
        .expect("a queue layer");
    let queue = rt.block_on(client.annotation(&queue.id)).unwrap();
    let user = queue.annotation.elements[0].user.clone().unwrap();
    assert_eq!(user["reason"], "cold-start");
    assert_eq!(user["sourceElementIndex"], 2, "the one unlabeled nucleus");
    let out = run_on("^bare$");
    assert_fails(&out, 1, &["no numeric features", "Feature.Size.Area"]);
}

#[test]
fn no_write_access_names_the_item_and_changes_nothing() {
    let rt = runtime();
    let (cohort, _) = rt.block_on(cohort(1));
    // A second, non-admin user who can read the public cohort but not write to it.
    let reader = Secret::new("readerpassword1");
    let login = format!("reader{}", std::process::id());
    let mut client = ClientBuilder::new(api_url()).build().unwrap();
    rt.block_on(client.create_user(&login, &reader, &format!("{login}@example.org"), false))
        .unwrap();
    rt.block_on(client.login(&login, &reader)).unwrap();
    let key = rt.block_on(client.create_api_key("reader")).unwrap();
    let folder = cohort.folder_id.as_str();
    let round = [
        "run",
        "--folder",
        folder,
        "--samples",
        "^nuclei$",
        "--labels",
        "expert",
        "--classes",
        "benign,malignant",
        "--quiet",
    ];
    let out = histoactive(key.expose(), &round);
    assert_fails(
        &out,
        1,
        &[
            "no write access to item 'demo-slide-01.png'",
            cohort.items[0].as_str(),
            "access",
        ],
    );
    let admin = rt.block_on(admin());
    let names = annotation_names(&rt, &admin, &cohort.items[0]);
    assert_eq!(names, ["nuclei", "expert labels"], "nothing was written");
    // The same user can still preview.
    let out = histoactive(key.expose(), &[&round[..], &["--dry-run"]].concat());
    assert!(out.status.success(), "{:?}", text(&out));
}

#[test]
fn an_unreachable_server_and_bad_arguments_have_their_own_exit_codes() {
    // Port 9 (discard) has no listener on loopback.
    let env = [
        ("DSA_API_URL", "http://127.0.0.1:9/api/v1"),
        ("DSA_API_KEY", "k"),
    ];
    let run = |scope: &[&str]| {
        let mut args = vec!["run", "--classes", "a,b", "--quiet"];
        args.extend_from_slice(scope);
        histoactive_with(&env, &args)
    };
    let out = run(&["--folder", "0123456789abcdef01234567"]);
    assert_fails(
        &out,
        1,
        &["cannot reach the DSA server at http://127.0.0.1:9/api/v1"],
    );
    let out = run(&["--folder", "xyz"]);
    assert_fails(&out, 2, &["--folder", "'xyz' is not a valid folder id"]);
    let out = histoactive_with(&[], &["run", "--folder", "x"]);
    assert_eq!(out.status.code(), Some(2));
}
