//! The DSA task-menu contract, checked against a real Girder with the
//! slicer_cli_web plugin: tasks registered from the binary's own
//! `--list_cli` / `<Task> --xml` output are listed and serve their XML.

mod common;

use std::process::Command;

use common::*;
use histoactive::demo::admin_client;
use histoactive::dsa::Secret;
use serde_json::{Map, Value, json};

fn binary(args: &[&str]) -> (bool, Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_histoactive"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn list_cli_and_xml_are_exactly_the_specs() {
    let (ok, stdout, stderr) = binary(&["--list_cli"]);
    assert!(ok && stderr.is_empty(), "{stderr}");
    let tasks: Map<String, Value> =
        serde_json::from_slice(&stdout).expect("--list_cli prints only JSON");
    assert_eq!(
        tasks.keys().collect::<Vec<_>>(),
        ["ReviewQueue", "LabelAudit", "SimulationReport"]
    );
    for name in tasks.keys() {
        let (ok, xml, stderr) = binary(&[name, "--xml"]);
        assert!(ok && stderr.is_empty(), "{stderr}");
        let spec = std::fs::read(format!(
            "{}/plugin-spec/{name}.xml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert_eq!(
            xml, spec,
            "{name} --xml must print plugin-spec/{name}.xml byte for byte"
        );
    }
}

#[test]
fn tasks_register_with_slicer_cli_web() {
    let rt = runtime();
    let url = slicer_api_url();
    let client = rt
        .block_on(admin_client(&url, ADMIN, &Secret::new(PASSWORD)))
        .unwrap();
    let collection = rt
        .block_on(
            client.create_collection(&format!("histoactive tasks {}", std::process::id()), false),
        )
        .unwrap();
    let folder = rt
        .block_on(client.create_folder_in_collection(&collection.id, "histoactive:latest"))
        .unwrap();
    let (_, list, _) = binary(&["--list_cli"]);
    let tasks: Map<String, Value> = serde_json::from_slice(&list).unwrap();
    // Stored the way slicer_cli_web stores the CLIs of an image it has pulled.
    for (name, desc) in &tasks {
        let (_, xml, _) = binary(&[name, "--xml"]);
        let item = rt.block_on(client.create_item(&folder.id, name)).unwrap();
        let mut meta = Map::new();
        meta.insert("slicerCLIType".into(), json!("task"));
        meta.insert("type".into(), desc["type"].clone());
        meta.insert("image".into(), json!("histoactive:latest"));
        meta.insert("xml".into(), json!(String::from_utf8(xml).unwrap()));
        rt.block_on(client.set_item_metadata(&item.id, &meta))
            .unwrap();
    }
    let listed = rt
        .block_on(client.get_json("/slicer_cli_web/cli", &[("folder", folder.id.to_string())]))
        .unwrap();
    let listed = listed.as_array().expect("a list of CLIs");
    let mut names: Vec<&str> = listed.iter().map(|c| c["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["LabelAudit", "ReviewQueue", "SimulationReport"]);
    for cli in listed {
        assert_eq!(cli["image"], "histoactive:latest");
        assert_eq!(cli["type"], "cxx");
        let name = cli["name"].as_str().unwrap();
        let served = rt
            .block_on(client.get_raw(&format!(
                "/slicer_cli_web/cli/{}/xml",
                cli["_id"].as_str().unwrap()
            )))
            .unwrap();
        let (_, xml, _) = binary(&[name, "--xml"]);
        assert_eq!(served, xml, "{name}: the served XML is the binary's");
    }
}

#[test]
fn a_task_run_reports_progress_as_filter_tags() {
    let rt = runtime();
    let (cohort, key) = rt.block_on(cohort(1));
    // The DSA passes a token, not a key.
    let token: Value = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/api_key/token", api_url()))
            .form(&[("key", key.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let token = token["authToken"]["token"].as_str().unwrap().to_string();
    let api = api_url();
    // The DSA's arguments, with one parameter given by its name instead of its flag.
    let task = |prefix_flag: &str| {
        let args = [
            "ReviewQueue",
            "--api-url",
            &api,
            "--token",
            &token,
            "--samples",
            "^nuclei$",
            "--labels",
            "expert labels",
            "--classes",
            "benign, malignant",
            prefix_flag,
            "",
            "--batch",
            "5",
            "--dry-run",
            "false",
            "--audit",
            "true",
            cohort.folder_id.as_str(),
        ];
        histoactive_with(&[], &args)
    };
    let out = task("--featurePrefix");
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "featurePrefix is the parameter name, not its flag: {stderr}"
    );
    assert!(
        stderr.contains("unknown option --featurePrefix"),
        "{stderr}"
    );
    let out = task("--feature-prefix");
    let stdout2 = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{stdout2}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fractions: Vec<f64> = stdout2
        .lines()
        .filter_map(|l| {
            l.strip_prefix("<filter-progress>")?
                .strip_suffix("</filter-progress>")?
                .parse()
                .ok()
        })
        .collect();
    assert!(fractions.len() >= 4, "{stdout2}");
    assert!(
        fractions
            .windows(2)
            .take(fractions.len().saturating_sub(2))
            .all(|w| w[0] <= w[1]),
        "{fractions:?}"
    );
    assert_eq!(fractions.last(), Some(&1.0));
    assert!(
        stdout2.contains("<filter-comment>reading annotations of 1 slide(s)</filter-comment>"),
        "{stdout2}"
    );
    let admin = rt.block_on(admin());
    let names = annotation_names(&rt, &admin, &cohort.items[0]);
    assert!(
        names.iter().any(|n| n == "histoactive review queue")
            && names.iter().any(|n| n == "histoactive label audit"),
        "{names:?}"
    );
}

/// No Docker engine here: check what the Dockerfile relies on instead — the
/// files it copies exist, and its smoke-test commands pass on this binary.
#[test]
fn the_dockerfile_copies_real_paths_and_its_smoke_test_passes() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dockerfile = std::fs::read_to_string(format!("{root}/docker/Dockerfile")).unwrap();
    let mut copied = 0;
    for line in dockerfile.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("COPY ") {
            if rest.starts_with("--from") {
                continue;
            }
            let parts: Vec<&str> = rest.split_whitespace().collect();
            for src in &parts[..parts.len() - 1] {
                assert!(
                    std::path::Path::new(root).join(src).exists(),
                    "the Dockerfile copies {src}, which does not exist"
                );
                copied += 1;
            }
        }
    }
    assert!(copied >= 4, "expected the build stage to copy the sources");
    let smoke = dockerfile
        .lines()
        .find(|l| l.contains("--list_cli") && l.starts_with("RUN"))
        .expect("a smoke-test step");
    for command in smoke.trim_start_matches("RUN ").split("&&") {
        let words: Vec<&str> = command
            .split_whitespace()
            .take_while(|w| !w.starts_with('>'))
            .collect();
        assert_eq!(words[0], "histoactive");
        let (ok, _, stderr) = binary(&words[1..]);
        assert!(ok, "smoke test `{}` failed: {stderr}", words.join(" "));
    }
    assert!(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/histoactive\"]"));
    assert!(
        dockerfile.contains("USER histoactive"),
        "the runtime runs as a non-root user"
    );
}
