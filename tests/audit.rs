//! The label audit against the real local DSA: two annotators disagree on
//! planted samples, and the audit layer lists exactly those first.

mod common;

use std::collections::BTreeSet;

use common::*;
use histoactive::dsa::{AnnotationBody, ClientBuilder, Secret};
use histoactive::geometry;
use serde_json::{Value, json};

#[test]
fn planted_disagreements_come_first_and_annotators_are_scored() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(1));
    let admin = rt.block_on(admin());
    let item = &cohort.items[0];

    // A second annotator with write access to the cohort's folder.
    let password = Secret::new("annotatorpassword1");
    let login = format!("annotator{}", std::process::id());
    let mut second = ClientBuilder::new(api_url()).build().unwrap();
    let user = rt
        .block_on(second.create_user(&login, &password, &format!("{login}@example.org"), false))
        .unwrap();
    let access = json!({"users": [{"id": user["_id"], "level": 1}], "groups": []});
    rt.block_on(admin.set_folder_access(&cohort.folder_id, &access, true))
        .unwrap();
    rt.block_on(second.login(&login, &password)).unwrap();

    // The second annotator redraws the first annotator's 'malignant' region, calling it 'benign'.
    let regions = rt
        .block_on(admin.annotation(&cohort.label_annotations[0]))
        .unwrap();
    let mut region = regions
        .annotation
        .elements
        .iter()
        .find(|e| e.group.as_deref() == Some("malignant"))
        .expect("the demo has a malignant region")
        .clone();
    region.id = None;
    region.group = Some("benign".into());
    region.label = None;
    let body = AnnotationBody {
        name: "expert labels (second reader)".into(),
        description: None,
        display: None,
        attributes: Default::default(),
        elements: vec![region.clone()],
    };
    rt.block_on(second.create_annotation(item, &body)).unwrap();

    // The nuclei inside that region are the planted disagreements, with the
    // demo's own planted conflict (a group that contradicts its region).
    let nuclei = rt
        .block_on(admin.annotation(&cohort.nuclei_annotations[0]))
        .unwrap();
    let inside: BTreeSet<String> = nuclei
        .annotation
        .elements
        .iter()
        .filter(|e| {
            geometry::centroid(&e.shape)
                .is_some_and(|(x, y)| geometry::contains(&region.shape, x, y))
        })
        .map(|e| e.id.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(inside.len(), 3);

    let args = [
        "audit",
        "--item",
        item.as_str(),
        "--folder",
        cohort.folder_id.as_str(),
        "--samples",
        "^nuclei$",
        "--labels",
        "^expert labels",
        "--classes",
        "benign,malignant",
        "--quiet",
    ];
    let out = histoactive(&key, &args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("4 disagreements"), "{stdout}");

    let layers = rt.block_on(admin.annotations_of(item)).unwrap();
    let audit = layers
        .iter()
        .find(|a| a.annotation.name == "histoactive label audit")
        .expect("an audit layer");
    let audit = rt.block_on(admin.annotation(&audit.id)).unwrap();
    let mut elements: Vec<Value> = audit
        .annotation
        .elements
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    elements.sort_by_key(|e| e["user"]["rank"].as_u64());
    let disagreements: Vec<&Value> = elements
        .iter()
        .take_while(|e| e["user"]["reason"] == "disagreement")
        .collect();
    assert_eq!(disagreements.len(), 4, "{elements:#?}");
    assert!(
        elements[4..]
            .iter()
            .all(|e| e["user"]["reason"] == "likely-error")
    );
    let first: BTreeSet<String> = disagreements
        .iter()
        .map(|e| e["user"]["sourceElementId"].as_str().unwrap().to_string())
        .collect();
    assert!(
        inside.is_subset(&first),
        "planted {inside:?} vs first {first:?}"
    );
    let planted = disagreements
        .iter()
        .find(|e| inside.contains(e["user"]["sourceElementId"].as_str().unwrap()))
        .unwrap();
    let givers: BTreeSet<&str> = planted["user"]["given"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["by"].as_str().unwrap())
        .collect();
    assert_eq!(givers, BTreeSet::from(["admin", login.as_str()]));
    assert!(
        planted["label"]["value"]
            .as_str()
            .unwrap()
            .starts_with("given: "),
        "{planted}"
    );
    assert_eq!(
        audit.annotation.attributes["histoactive"]["kind"],
        "label-audit"
    );

    // Per-annotator quality in the folder metadata: the second reader, who
    // contradicted three labels, agrees less with the consensus.
    let meta = rt.block_on(admin.folder(&cohort.folder_id)).unwrap().meta;
    let annotators = meta["histoactiveAudit"]["annotators"]
        .as_array()
        .unwrap()
        .clone();
    let by = |name: &str| {
        annotators
            .iter()
            .find(|a| a["user"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by(&login)["labels"], 3);
    assert!(by(&login)["agreement"].as_f64().unwrap() < by("admin")["agreement"].as_f64().unwrap());

    // Labels are never changed, and a second audit replaces its own layer.
    assert_eq!(
        rt.block_on(admin.annotation(&cohort.nuclei_annotations[0]))
            .unwrap()
            .annotation,
        nuclei.annotation
    );
    let out = histoactive(&key, &args);
    assert!(out.status.success());
    let again: Vec<_> = rt
        .block_on(admin.annotations_of(item))
        .unwrap()
        .into_iter()
        .filter(|a| a.annotation.name == "histoactive label audit")
        .map(|a| a.id)
        .collect();
    assert_eq!(again, vec![audit.id]);
}

#[test]
fn one_class_only_is_explained_and_writes_nothing() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(1));
    let args = [
        "audit",
        "--folder",
        cohort.folder_id.as_str(),
        "--samples",
        "^nuclei$",
        "--classes",
        "benign,necrosis",
        "--quiet",
    ];
    let out = histoactive(&key, &args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("nothing to audit: the labels cover fewer than 2 classes"),
        "{stdout}"
    );
    let admin = rt.block_on(admin());
    let names = annotation_names(&rt, &admin, &cohort.items[0]);
    assert_eq!(names, ["nuclei", "expert labels"]);
}

#[test]
fn run_with_audit_writes_both_layers() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(2));
    let stdout = run_ok(
        &key,
        &cohort_args("run", cohort.folder_id.as_str(), 10, &["--audit"]),
    );
    assert!(
        stdout.contains("histoactive round") && stdout.contains("histoactive label audit"),
        "{stdout}"
    );
    let admin = rt.block_on(admin());
    let names = annotation_names(&rt, &admin, &cohort.items[0]);
    assert!(
        names.contains(&"histoactive review queue".to_string())
            && names.contains(&"histoactive label audit".to_string()),
        "{names:?}"
    );
    let meta = rt.block_on(admin.folder(&cohort.folder_id)).unwrap().meta;
    assert!(
        meta.contains_key("histoactive") && meta.contains_key("histoactiveAudit"),
        "both summaries kept: {meta:?}"
    );
}
