//! A full round against the real local DSA: queue layers, folder summary,
//! idempotent re-runs, and annotations we did not create left exactly as they were.

mod common;

use common::*;
use histoactive::dsa::{Client, ItemId};
use histoactive::writeback::QUEUE_KIND;
use serde_json::{Value, json};

const LAYER: &str = "histoactive review queue";

fn run_args(folder: &str, extra: &[&str]) -> Vec<String> {
    cohort_args("run", folder, 20, extra)
}

/// Every annotation on the items: (id, is ours, full document as JSON).
async fn snapshot(client: &Client, items: &[ItemId]) -> Vec<(String, bool, Value)> {
    let mut all = Vec::new();
    for item in items {
        for listed in client.annotations_of(item).await.unwrap() {
            let full = client.annotation(&listed.id).await.unwrap();
            let ours = full
                .annotation
                .attributes
                .get("histoactive")
                .and_then(|h| h.get("kind"))
                == Some(&json!(QUEUE_KIND));
            let doc = json!({
                "body": serde_json::to_value(&full.annotation).unwrap(),
                "updated": full.updated,
                "version": full.version,
                "item": full.item_id.to_string(),
            });
            all.push((full.id.to_string(), ours, doc));
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

fn queue_elements(snapshot: &[(String, bool, Value)]) -> Vec<Value> {
    snapshot
        .iter()
        .filter(|(_, ours, _)| *ours)
        .flat_map(|(_, _, doc)| {
            doc["body"]["elements"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn a_round_writes_one_ranked_layer_per_slide_and_a_folder_summary() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(4));
    let folder = cohort.folder_id.to_string();
    let stdout = run_ok(&key, &run_args(&folder, &[]));
    assert!(stdout.contains("cross-validated accuracy"), "{stdout}");
    assert!(
        stdout.contains("1 with conflicting labels"),
        "the planted conflict is reported: {stdout}"
    );

    let client = rt.block_on(admin());
    let after = rt.block_on(snapshot(&client, &cohort.items));
    let elements = queue_elements(&after);
    assert_eq!(
        elements.len(),
        20,
        "the batch is spread over the slides' layers"
    );
    let mut ranks: Vec<u64> = elements
        .iter()
        .map(|e| e["user"]["rank"].as_u64().unwrap())
        .collect();
    ranks.sort_unstable();
    assert_eq!(
        ranks,
        (1..=20).collect::<Vec<u64>>(),
        "ranks are global across slides"
    );
    let rank1 = elements.iter().find(|e| e["user"]["rank"] == 1).unwrap();
    for field in [
        "score",
        "strategy",
        "predicted",
        "probabilities",
        "sourceAnnotationId",
        "sourceElementId",
        "sourceElementIndex",
    ] {
        assert!(
            rank1["user"].get(field).is_some(),
            "user.{field} missing: {rank1}"
        );
    }
    assert!(
        rank1["label"]["value"].as_str().unwrap().starts_with("#1 "),
        "{rank1}"
    );
    assert_eq!(rank1["type"], "polyline", "the sample's geometry is copied");
    // Rank 1 has the highest score.
    let top = elements
        .iter()
        .map(|e| e["user"]["score"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(rank1["user"]["score"].as_f64().unwrap(), top);
    // The source reference points at a real nucleus of the same slide.
    let source = rank1["user"]["sourceAnnotationId"].as_str().unwrap();
    assert!(
        cohort
            .nuclei_annotations
            .iter()
            .any(|a| a.as_str() == source)
    );

    let ours: Vec<&Value> = after
        .iter()
        .filter(|(_, o, _)| *o)
        .map(|(_, _, d)| d)
        .collect();
    for layer in &ours {
        let h = &layer["body"]["attributes"]["histoactive"];
        assert_eq!(h["schema"], 1);
        assert_eq!(h["strategy"], "margin");
        assert!(h["model"]["cvAccuracy"].as_f64().unwrap() > 0.8, "{h}");
        assert_eq!(layer["body"]["name"], LAYER);
    }
    let meta = rt.block_on(client.folder(&cohort.folder_id)).unwrap().meta;
    let summary = &meta["histoactive"];
    assert_eq!(summary["queueSize"], 20);
    assert_eq!(summary["labelCounts"].as_array().unwrap().len(), 2);
    assert!(summary["cvAccuracy"].as_f64().is_some());
}

#[test]
fn re_runs_replace_our_layers_and_never_touch_anything_else() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(3));
    let client = rt.block_on(admin());
    // A human annotation that happens to carry our layer's name: the name
    // alone must never make it ours.
    let mut body = annotation(LAYER, vec![point(5.0, None, Some("benign"))]);
    body.description = Some("made by a person".into());
    rt.block_on(client.create_annotation(&cohort.items[0], &body))
        .unwrap();
    let before = rt.block_on(snapshot(&client, &cohort.items));
    assert!(before.iter().all(|(_, ours, _)| !ours));

    let folder = cohort.folder_id.to_string();
    run_ok(&key, &run_args(&folder, &[]));
    let first = rt.block_on(snapshot(&client, &cohort.items));
    run_ok(&key, &run_args(&folder, &[]));
    let second = rt.block_on(snapshot(&client, &cohort.items));

    // Human annotations: byte-for-byte the same documents, versions and times.
    let humans =
        |s: &[(String, bool, Value)]| s.iter().filter(|(_, o, _)| !o).cloned().collect::<Vec<_>>();
    assert_eq!(humans(&before), humans(&first));
    assert_eq!(humans(&before), humans(&second));

    // Ours: the same layer ids (replaced in place), one per slide with a queue.
    let ours = |s: &[(String, bool, Value)]| {
        let mut per_item: Vec<(String, String)> = s
            .iter()
            .filter(|(_, o, _)| *o)
            .map(|(id, _, d)| (d["item"].as_str().unwrap().to_string(), id.clone()))
            .collect();
        per_item.sort();
        per_item
    };
    assert_eq!(
        ours(&first),
        ours(&second),
        "a re-run replaces the same layers"
    );
    let items: Vec<String> = ours(&second).into_iter().map(|(item, _)| item).collect();
    let mut unique = items.clone();
    unique.dedup();
    assert_eq!(items, unique, "never two queue layers on one slide");
    // Unchanged data, same seed: the same queue.
    let strip = |v: Vec<Value>| {
        let mut v: Vec<String> = v
            .iter()
            .map(|e| format!("{}|{}", e["user"]["rank"], e["user"]["sourceElementId"]))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        strip(queue_elements(&first)),
        strip(queue_elements(&second))
    );
    // The replaced layer keeps its history on the server.
    let (layer_id, _, layer) = second.iter().find(|(_, o, _)| *o).unwrap();
    assert!(
        layer["version"].as_u64().unwrap() >= 1,
        "{layer_id}: {layer}"
    );
}

#[test]
fn dry_run_prints_the_queue_and_writes_nothing() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(2));
    let client = rt.block_on(admin());
    let before = rt.block_on(snapshot(&client, &cohort.items));
    let stdout = run_ok(
        &key,
        &run_args(
            cohort.folder_id.as_str(),
            &["--dry-run", "--strategy", "entropy"],
        ),
    );
    assert!(stdout.contains("dry run: nothing was written"));
    assert!(stdout.contains("    1  demo-slide-0"), "{stdout}");
    assert_eq!(before, rt.block_on(snapshot(&client, &cohort.items)));
    assert!(
        rt.block_on(client.folder(&cohort.folder_id))
            .unwrap()
            .meta
            .get("histoactive")
            .is_none()
    );
}

#[test]
fn a_shrinking_queue_removes_our_stale_layer_and_items_scope_works() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(2));
    let folder = cohort.folder_id.to_string();
    run_ok(&key, &run_args(&folder, &[]));
    // One sample in the queue: only one slide keeps a layer.
    let item_args = [
        "run",
        "--item",
        cohort.items[0].as_str(),
        "--item",
        cohort.items[1].as_str(),
        "--samples",
        "^nuclei$",
        "--classes",
        "benign,malignant",
        "--batch",
        "1",
        "--quiet",
    ];
    let out = histoactive(&key, &item_args);
    assert!(out.status.success(), "{:?}", text(&out));
    let client = rt.block_on(admin());
    let after = rt.block_on(snapshot(&client, &cohort.items));
    assert_eq!(after.iter().filter(|(_, o, _)| *o).count(), 1);
    assert_eq!(queue_elements(&after).len(), 1);
}

#[test]
fn sub_folders_are_part_of_a_folder_scope() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(2));
    let client = rt.block_on(admin());
    let sub = rt
        .block_on(client.create_folder(&cohort.folder_id, "site B"))
        .unwrap();
    let deeper = rt
        .block_on(client.create_folder(&sub.id, "batch 1"))
        .unwrap();
    let item = rt
        .block_on(client.create_item(&deeper.id, "nested-slide"))
        .unwrap();
    let nucleus = |x: f64| point(x, Some(json!({"Feature.mean_radius": x})), None);
    let body = annotation("nuclei", vec![nucleus(10.0), nucleus(12.0), nucleus(14.0)]);
    rt.block_on(client.create_annotation(&item.id, &body))
        .unwrap();
    let out = histoactive(
        &key,
        &[
            "run",
            "--folder",
            cohort.folder_id.as_str(),
            "--samples",
            "^nuclei$",
            "--classes",
            "benign,malignant",
            "--dry-run",
            "--quiet",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("on 3 slide(s)"), "{stdout}");
    assert!(stdout.contains("nested-slide"), "{stdout}");
    // The nested nuclei lack the other 29 features: reported, not used.
    assert!(
        stdout.contains("unusable features on 3 sample(s)"),
        "{stdout}"
    );
}
