//! Sites against the real local DSA: resolution from item metadata and
//! folders, site-aware batches, per-site counts in the summary and the folder
//! metadata, and the awkward cohorts (partial metadata, one site, a site
//! without labels).

mod common;

use common::*;
use histoactive::demo::DemoCohort;
use histoactive::dsa::{Client, FolderId, ItemId};
use serde_json::{Map, Value, json};

fn args(folder: &str, extra: &[&str]) -> Vec<String> {
    cohort_args("run", folder, 12, extra)
}

/// The site table of the printed summary: site → (slides, samples, queued).
fn site_table(stdout: &str) -> Vec<(String, usize, usize, usize)> {
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with("site "));
    assert!(lines.next().is_some(), "no site table:\n{stdout}");
    lines
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("  "))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let n = |i: usize| f[i].parse::<usize>().unwrap();
            (f[0].to_string(), n(1), n(2), n(5))
        })
        .collect()
}

/// Copies slide 1's nuclei (features kept, classes dropped) onto a new item
/// in `folder`, with these item metadata: a slide nobody has labeled yet.
async fn unlabeled_slide(
    client: &Client,
    cohort: &DemoCohort,
    folder: &FolderId,
    name: &str,
    meta: Value,
) {
    let item = client.create_item(folder, name).await.unwrap();
    if let Some(meta) = meta.as_object() {
        client.set_item_metadata(&item.id, meta).await.unwrap();
    }
    let nuclei = client
        .annotation(&cohort.nuclei_annotations[1])
        .await
        .unwrap();
    let elements = nuclei
        .annotation
        .elements
        .into_iter()
        .map(|mut e| {
            e.id = None;
            e.group = None;
            e
        })
        .collect();
    client
        .create_annotation(&item.id, &annotation("nuclei", elements))
        .await
        .unwrap();
}

/// The `user` of every element of our layers on these slides, with the
/// slide's own `site` metadata.
fn queued_users(
    rt: &tokio::runtime::Runtime,
    client: &Client,
    items: &[ItemId],
) -> Vec<(Value, Map<String, Value>)> {
    let mut users = Vec::new();
    for item in items {
        let site = rt.block_on(client.item(item)).unwrap().meta["site"].clone();
        for listed in rt.block_on(client.annotations_of(item)).unwrap() {
            if listed.annotation.attributes.get("histoactive").is_none() {
                continue;
            }
            let full = rt.block_on(client.annotation(&listed.id)).unwrap();
            for e in full.annotation.elements {
                users.push((site.clone(), e.user.unwrap()));
            }
        }
    }
    users
}

#[test]
fn a_site_aware_round_shares_the_batch_and_reports_every_site() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(6));
    let folder = cohort.folder_id.to_string();
    let stdout = run_ok(&key, &args(&folder, &["--sites", "shift"]));

    let table = site_table(&stdout);
    let names: Vec<&str> = table.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["site-A", "site-B", "site-C"], "{stdout}");
    for (site, slides, samples, queued) in &table {
        assert_eq!(
            *slides, 2,
            "{site}: the demo puts slides 1,4 / 2,5 / 3,6 together"
        );
        assert!(*samples > 0, "{site}");
        assert!(
            *queued >= 1,
            "{site} has unlabeled samples, so it gets a slot: {stdout}"
        );
    }
    assert_eq!(table.iter().map(|r| r.3).sum::<usize>(), 12, "{stdout}");
    assert!(stdout.contains("worst site: 'site-"), "{stdout}");

    // The folder summary carries the same counts, per class.
    let client = rt.block_on(admin());
    let meta = rt.block_on(client.folder(&cohort.folder_id)).unwrap().meta;
    let sites = &meta["histoactive"]["sites"];
    assert_eq!(sites["mode"], "shift");
    assert_eq!(sites["applied"], true);
    let rows = sites["sites"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (row, (site, slides, samples, queued)) in rows.iter().zip(&table) {
        assert_eq!(row["site"], json!(site));
        assert_eq!(row["slides"], json!(slides));
        assert_eq!(row["samples"], json!(samples));
        assert_eq!(row["queued"], json!(queued));
        let labels = &row["labels"];
        let labeled = labels["benign"].as_u64().unwrap() + labels["malignant"].as_u64().unwrap();
        assert!(labeled > 0, "{row}");
        assert_eq!(
            labeled + row["unlabeled"].as_u64().unwrap(),
            *samples as u64,
            "{row}"
        );
        let loso = row["losoAccuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&loso), "{row}");
        assert!(row["quota"].as_u64().unwrap() >= 1, "{row}");
    }
    let worst = &sites["worstSite"];
    let lowest = rows
        .iter()
        .map(|r| r["losoAccuracy"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(worst["losoAccuracy"].as_f64().unwrap(), lowest);

    // Each queued element says its site, which is its slide's, and why.
    let users = queued_users(&rt, &client, &cohort.items);
    for (site, user) in &users {
        assert_eq!(&user["site"], site);
        let why = user["siteReason"].as_str().unwrap();
        assert!(why.contains("slot(s) of the batch (shift mode"), "{why}");
        assert!(why.contains("site specificity"), "{why}");
    }
    assert_eq!(users.len(), 12);
}

#[test]
fn a_site_key_on_some_slides_only_is_reported_and_the_rest_are_unknown() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(4));
    let client = rt.block_on(admin());
    // Girder deletes a metadata key set to null.
    let mut unset = Map::new();
    unset.insert("site".into(), Value::Null);
    rt.block_on(client.set_item_metadata(&cohort.items[1], &unset))
        .unwrap();
    let folder = cohort.folder_id.to_string();
    let stdout = run_ok(&key, &args(&folder, &["--dry-run"]));
    assert!(
        stdout.contains("meta 'site' is set on 3 of 4 slide(s) only"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "1 of 4 slide(s) have no site and are grouped as 'unknown' (demo-slide-02.png)"
        ),
        "{stdout}"
    );
    let table = site_table(&stdout);
    let names: Vec<&str> = table.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["site-A", "site-C", "unknown"], "{stdout}");
    assert_eq!(table.iter().map(|r| r.3).sum::<usize>(), 12, "{stdout}");
    assert!(table.iter().all(|r| r.3 >= 1), "{stdout}");
}

#[test]
fn one_site_only_is_said_once_and_the_batch_is_still_full() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(3));
    let folder = cohort.folder_id.to_string();
    // No slide has this key: every slide is 'unknown', a single site.
    let stdout = run_ok(
        &key,
        &args(&folder, &["--site-key", "hospital", "--dry-run"]),
    );
    assert!(
        stdout.contains("every slide is from one site ('unknown')"),
        "{stdout}"
    );
    assert!(stdout.contains("3 of 3 slide(s) have no site"), "{stdout}");
    assert!(
        stdout.contains("fewer than 2 sites have unlabeled samples"),
        "{stdout}"
    );
    let table = site_table(&stdout);
    assert_eq!(table.len(), 1);
    assert_eq!(table[0].3, 12, "{stdout}");
    assert!(!stdout.contains("worst site: '"), "{stdout}");
}

#[test]
fn a_site_without_labels_gets_slots_and_no_held_out_accuracy() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(3));
    let client = rt.block_on(admin());
    rt.block_on(unlabeled_slide(
        &client,
        &cohort,
        &cohort.folder_id,
        "new-hospital-01.png",
        json!({"institution": "Hospital-Z"}),
    ));
    let folder = cohort.folder_id.to_string();
    let stdout = run_ok(&key, &args(&folder, &["--sites", "balance"]));
    let table = site_table(&stdout);
    let z = table
        .iter()
        .find(|r| r.0 == "Hospital-Z")
        .unwrap_or_else(|| panic!("no row for 'Hospital-Z':\n{stdout}"));
    assert!(z.3 >= 1, "the unlabeled site is queued: {stdout}");
    assert!(
        stdout.contains("'Hospital-Z': no labels at this site"),
        "{stdout}"
    );
    let meta = rt.block_on(client.folder(&cohort.folder_id)).unwrap().meta;
    let rows = meta["histoactive"]["sites"]["sites"]
        .as_array()
        .unwrap()
        .clone();
    let row = rows.iter().find(|r| r["site"] == "Hospital-Z").unwrap();
    assert_eq!(row["labels"], json!({"benign": 0, "malignant": 0}));
    assert!(row["losoAccuracy"].is_null(), "{row}");
    assert_eq!(row["queued"], json!(z.3));
    assert_eq!(row["unlabeled"], json!(z.2));
}

#[test]
fn sites_can_be_folders() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(2));
    let client = rt.block_on(admin());
    let hospital = rt
        .block_on(client.create_folder(&cohort.folder_id, "Hospital-X"))
        .unwrap();
    let batch = rt
        .block_on(client.create_folder(&hospital.id, "2024"))
        .unwrap();
    rt.block_on(unlabeled_slide(
        &client,
        &cohort,
        &batch.id,
        "x-01.png",
        json!(null),
    ));
    let folder = cohort.folder_id.to_string();
    let stdout = run_ok(
        &key,
        &args(
            &folder,
            &[
                "--site-from",
                "folder",
                "--site-folder-depth",
                "1",
                "--dry-run",
            ],
        ),
    );
    let table = site_table(&stdout);
    let names: Vec<&str> = table.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["Hospital-X", "unknown"], "{stdout}");
    assert_eq!(table[0].1, 1);
    assert_eq!(table[1].1, 2, "the two slides directly in the scope folder");
}

#[test]
fn an_unknown_site_mode_is_a_usage_error() {
    let out = histoactive(
        "unused",
        &[
            "run",
            "--folder",
            "0123456789abcdef01234567",
            "--classes",
            "a,b",
            "--sites",
            "fair",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(stderr.contains("--sites"), "{stderr}");
    assert!(stderr.contains("balance"), "names the choices: {stderr}");
}

#[test]
fn with_sites_off_the_batch_is_plain_but_sites_are_still_reported() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(3));
    let folder = cohort.folder_id.to_string();
    let stdout = run_ok(&key, &args(&folder, &["--sites", "off"]));
    let table = site_table(&stdout);
    assert_eq!(table.len(), 3, "{stdout}");
    assert_eq!(table.iter().map(|r| r.3).sum::<usize>(), 12);
    assert!(stdout.contains("worst site: 'site-"), "{stdout}");
    let client = rt.block_on(admin());
    let meta = rt.block_on(client.folder(&cohort.folder_id)).unwrap().meta;
    let sites = &meta["histoactive"]["sites"];
    assert_eq!(sites["mode"], "off");
    assert_eq!(sites["applied"], false);
    for row in sites["sites"].as_array().unwrap() {
        assert!(row["quota"].is_null(), "{row}");
        assert!(row["losoAccuracy"].as_f64().is_some(), "{row}");
    }
    let users = queued_users(&rt, &client, &cohort.items);
    for (site, user) in &users {
        assert_eq!(&user["site"], site);
        let site = site.as_str().unwrap();
        assert_eq!(
            user["siteReason"],
            format!("site '{site}' (sites not used for selection)")
        );
    }
    assert_eq!(users.len(), 12);
}
