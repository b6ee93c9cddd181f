//! Which site (institution, scanner, cohort) each slide comes from.
//!
//! A slide's site is found by trying, in a configurable order:
//! - `meta`: the item's metadata keys (default `site`, then `institution`;
//!   a dotted key such as `clinical.site` also reaches into nested objects);
//! - `tcga`: the tissue-source-site code of a TCGA barcode in the item name
//!   (`TCGA-A2-A0T2-01Z-…` → `A2`);
//! - `folder`: the name of the folder at a given depth below the scope folder
//!   (depth 1 is a folder directly inside it).
//!
//! Slides no rule resolves are grouped as [`UNKNOWN`] and reported.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

/// The site of slides no rule resolves.
pub const UNKNOWN: &str = "unknown";

/// One way of finding a slide's site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteSource {
    Meta,
    Tcga,
    Folder,
}

impl SiteSource {
    pub const ALL: [SiteSource; 3] = [SiteSource::Meta, SiteSource::Tcga, SiteSource::Folder];

    pub fn name(self) -> &'static str {
        match self {
            SiteSource::Meta => "meta",
            SiteSource::Tcga => "tcga",
            SiteSource::Folder => "folder",
        }
    }
}

impl fmt::Display for SiteSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SiteSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SiteSource::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown site source '{s}'; choose from meta, tcga, folder"))
    }
}

/// How sites are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRules {
    /// Metadata keys, tried in order.
    pub keys: Vec<String>,
    /// Sources, tried in order.
    pub order: Vec<SiteSource>,
    /// Depth of the folder whose name is the site; `None` turns the folder
    /// source off.
    pub folder_depth: Option<usize>,
}

impl Default for SiteRules {
    fn default() -> Self {
        SiteRules {
            keys: vec!["site".into(), "institution".into()],
            order: SiteSource::ALL.to_vec(),
            folder_depth: None,
        }
    }
}

static TCGA: LazyLock<Regex> = LazyLock::new(|| {
    // TCGA-<tissue source site>-<participant>: the site code is two characters.
    Regex::new(r"(?i)\bTCGA-([A-Z0-9]{2})-[A-Z0-9]{4}").expect("valid regex")
});

/// A metadata value as a site name: non-empty text, or a number.
fn as_site(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `meta[key]`, or for a dotted key the nested value (`a.b` → `meta.a.b`).
fn lookup<'a>(meta: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if let Some(v) = meta.get(key) {
        return Some(v);
    }
    let mut parts = key.split('.');
    let mut here = meta.get(parts.next()?)?;
    for part in parts {
        here = here.as_object()?.get(part)?;
    }
    Some(here)
}

/// A slide's site and the rule that found it (`meta 'site'`, `TCGA barcode`,
/// `folder at depth 1`).
pub fn resolve(
    rules: &SiteRules,
    name: &str,
    meta: &Map<String, Value>,
    path: &[String],
) -> Option<(String, String)> {
    for source in &rules.order {
        let found = match source {
            SiteSource::Meta => rules.keys.iter().find_map(|k| {
                lookup(meta, k)
                    .and_then(as_site)
                    .map(|s| (s, format!("meta '{k}'")))
            }),
            SiteSource::Tcga => TCGA
                .captures(name)
                .map(|c| (c[1].to_uppercase(), "TCGA barcode".to_string())),
            SiteSource::Folder => rules.folder_depth.and_then(|d| {
                path.get(d)
                    .map(|f| (f.clone(), format!("folder at depth {d}")))
            }),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// One slide as site resolution sees it.
#[derive(Debug, Clone, Copy)]
pub struct SlideRef<'a> {
    pub name: &'a str,
    pub meta: &'a Map<String, Value>,
    /// Folder names from the scope folder (depth 0) down to the slide's folder.
    pub path: &'a [String],
}

/// Every slide's site.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteTable {
    /// Site names, sorted, with [`UNKNOWN`] last when present.
    pub names: Vec<String>,
    /// Site index of each slide.
    pub of_slide: Vec<usize>,
    /// Slides resolved by each rule (`meta 'site'` → 4), for the report.
    pub resolved_by: BTreeMap<String, usize>,
    /// Names of slides with no site (all of them, for the report to shorten).
    pub unknown: Vec<String>,
}

impl SiteTable {
    /// Site names in slide order.
    pub fn assign(rules: &SiteRules, slides: &[SlideRef]) -> SiteTable {
        let mut found: Vec<Option<String>> = Vec::with_capacity(slides.len());
        let mut resolved_by = BTreeMap::new();
        let mut unknown = Vec::new();
        for slide in slides {
            match resolve(rules, slide.name, slide.meta, slide.path) {
                Some((site, how)) => {
                    *resolved_by.entry(how).or_insert(0) += 1;
                    found.push(Some(site));
                }
                None => {
                    unknown.push(slide.name.to_string());
                    found.push(None);
                }
            }
        }
        let mut names: Vec<String> = found.iter().flatten().cloned().collect();
        names.sort();
        names.dedup();
        // A real site literally called "unknown" joins the unresolved ones.
        names.retain(|n| n != UNKNOWN);
        if !unknown.is_empty() || found.iter().flatten().any(|n| n == UNKNOWN) {
            names.push(UNKNOWN.to_string());
        }
        let of_slide = found
            .iter()
            .map(|f| {
                let name = f.as_deref().unwrap_or(UNKNOWN);
                names.iter().position(|n| n == name).unwrap_or(0)
            })
            .collect();
        SiteTable {
            names,
            of_slide,
            resolved_by,
            unknown,
        }
    }

    /// What a user should know about how sites were found: unresolved
    /// slides, a single site, a source that covers only some slides.
    pub fn notes(&self, rules: &SiteRules) -> Vec<String> {
        let mut notes = Vec::new();
        let total = self.of_slide.len();
        if !self.unknown.is_empty() {
            let mut shown: Vec<&str> = self.unknown.iter().take(3).map(String::as_str).collect();
            if self.unknown.len() > 3 {
                shown.push("…");
            }
            notes.push(format!(
                "{} of {} slide(s) have no site and are grouped as '{UNKNOWN}' ({}); set item metadata '{}' on them{}",
                self.unknown.len(),
                total,
                shown.join(", "),
                rules.keys.first().map_or("site", String::as_str),
                if rules.folder_depth.is_none() {
                    ", or use --site-folder-depth if sites are folders"
                } else {
                    ""
                }
            ));
        }
        for (how, n) in &self.resolved_by {
            if how.starts_with("meta") && *n < total {
                notes.push(format!(
                    "{how} is set on {n} of {total} slide(s) only; the others' site comes from the next rules or is '{UNKNOWN}'"
                ));
            }
        }
        if self.names.len() == 1 && total > 0 {
            notes.push(format!(
                "every slide is from one site ('{}'): site-aware selection and leave-one-site-out metrics need at least 2",
                self.names[0]
            ));
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn metadata_then_tcga_then_folder() {
        let rules = SiteRules {
            folder_depth: Some(1),
            ..SiteRules::default()
        };
        let path = ["Study".to_string(), "Hospital B".to_string()];
        let r = |name: &str, m: Value| resolve(&rules, name, &meta(m), &path);
        assert_eq!(
            r("TCGA-A2-A0T2-01Z-00-DX1.svs", json!({"site": " MSK "})),
            Some(("MSK".into(), "meta 'site'".into()))
        );
        assert_eq!(
            r("x.svs", json!({"institution": 7})).unwrap().0,
            "7",
            "numbers count"
        );
        assert_eq!(
            r("tcga-e2-a14x-01z.svs", json!({"site": ""})),
            Some(("E2".into(), "TCGA barcode".into())),
            "blank metadata falls through; codes are upper-cased"
        );
        assert_eq!(
            r("slide-3.svs", json!({})),
            Some(("Hospital B".into(), "folder at depth 1".into()))
        );
        assert_eq!(
            resolve(&rules, "slide-3.svs", &Map::new(), &path[..1]),
            None
        );
        // Not a barcode: too short a participant code.
        assert_eq!(
            resolve(&SiteRules::default(), "TCGA-A2-X1.svs", &Map::new(), &[]),
            None
        );
    }

    #[test]
    fn order_and_nested_keys_are_configurable() {
        let rules = SiteRules {
            keys: vec!["clinical.center".into()],
            order: vec![SiteSource::Tcga, SiteSource::Meta],
            folder_depth: None,
        };
        let m = meta(json!({"clinical": {"center": "Leeds"}}));
        assert_eq!(
            resolve(&rules, "TCGA-BH-A0B3-01.svs", &m, &[]).unwrap().0,
            "BH"
        );
        assert_eq!(resolve(&rules, "case 12.svs", &m, &[]).unwrap().0, "Leeds");
    }

    #[test]
    fn table_groups_unknowns_last_and_says_why() {
        let rules = SiteRules::default();
        let metas = [
            json!({"site": "B"}),
            json!({}),
            json!({"site": "A"}),
            json!({"site": "B"}),
        ];
        let metas: Vec<Map<String, Value>> = metas.into_iter().map(meta).collect();
        let names = ["s1", "s2", "s3", "s4"];
        let refs: Vec<SlideRef> = names
            .iter()
            .zip(&metas)
            .map(|(n, m)| SlideRef {
                name: n,
                meta: m,
                path: &[],
            })
            .collect();
        let t = SiteTable::assign(&rules, &refs);
        assert_eq!(t.names, ["A", "B", UNKNOWN]);
        assert_eq!(t.of_slide, [1, 2, 0, 1]);
        assert_eq!(t.unknown, ["s2"]);
        let notes = t.notes(&rules).join("\n");
        assert!(notes.contains("1 of 4 slide(s) have no site"), "{notes}");
        assert!(notes.contains("(s2)"), "{notes}");

        let one = SiteTable::assign(&rules, &refs[..1]);
        assert_eq!(one.names, ["B"]);
        assert!(one.notes(&rules).join("").contains("one site ('B')"));
    }
}
