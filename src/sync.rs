//! Scheduled sync: re-run the round (and the audit) only when labels changed.
//!
//! State lives in the folder's metadata under `histoactiveSync`:
//! `fingerprint` (of the sample and label annotations: ids, versions, update
//! times, and each slide's site, so reading it costs one listing per slide,
//! not the elements),
//! `lastRun`, and a `lease` (`holder`, `expires`) so two sync jobs on one folder
//! never write at once; a lease past its expiry is free for the taking.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde_json::{Map, Value, json};

use crate::dsa::{Client, FolderId};
use crate::round::{RoundError, Scope, resolve_scope};
use crate::sites::SiteRules;

/// The folder metadata key.
pub const SYNC_KEY: &str = "histoactiveSync";

/// Parses `90s`, `15m`, `2h`, `1d` (a bare number is seconds).
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 30s, 15m, 2h or 1d"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => {
            return Err(format!(
                "'{text}': unknown unit '{unit}' (use s, m, h or d)"
            ));
        }
    };
    if seconds == 0 {
        return Err(format!("'{text}' must be longer than zero"));
    }
    Ok(Duration::from_secs(seconds))
}

/// FNV-1a, 64 bit: stable across builds and platforms (std's hasher is not).
fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A fingerprint of `(item, annotation, version, updated)` records, order-independent.
pub fn fingerprint(records: &mut [String]) -> String {
    records.sort();
    let mut hash = 0xcbf2_9ce4_8422_2325;
    for r in records.iter() {
        hash = fnv1a(r.as_bytes(), hash);
        hash = fnv1a(b"\n", hash);
    }
    format!("{hash:016x}")
}

/// Fingerprint of the annotations a round reads (samples and labels), from
/// listings only. Layers named like ours are left out: writing them must not
/// count as a change.
pub async fn scope_fingerprint(
    client: &Client,
    scope: &Scope,
    samples: &Regex,
    labels: Option<&Regex>,
    our_layers: &[&str],
    sites: &SiteRules,
) -> Result<String, RoundError> {
    let (_, items) = resolve_scope(client, scope).await?;
    let mut records = Vec::new();
    for (item, path) in &items {
        // A slide's site shapes the batch too: moving a slide to another
        // site (metadata or folder) is a change.
        let site = crate::sites::resolve(sites, &item.name, &item.meta, path);
        records.push(format!(
            "{}|site|{}",
            item.id,
            site.map_or_else(String::new, |(s, _)| s)
        ));
        let listed = client
            .annotations_of(&item.id)
            .await
            .map_err(|e| RoundError::Dsa {
                context: format!("listing the annotations of item '{}'", item.name),
                source: e,
            })?;
        for a in listed {
            let name = &a.annotation.name;
            if our_layers.contains(&name.as_str())
                || !(samples.is_match(name) || labels.is_some_and(|l| l.is_match(name)))
            {
                continue;
            }
            records.push(format!(
                "{}|{}|{}|{}",
                item.id,
                a.id,
                a.version.unwrap_or(0),
                a.updated.clone().unwrap_or_default()
            ));
        }
    }
    Ok(fingerprint(&mut records))
}

/// Who holds the folder's lease, and until when.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub holder: String,
    pub expires: DateTime<Utc>,
}

impl Lease {
    fn from_meta(sync: &Value) -> Option<Lease> {
        let lease = sync.get("lease")?;
        Some(Lease {
            holder: lease.get("holder")?.as_str()?.to_string(),
            expires: DateTime::parse_from_rfc3339(lease.get("expires")?.as_str()?)
                .ok()?
                .with_timezone(&Utc),
        })
    }
}

/// Whether `holder` may take the lease at `now`.
pub fn may_take(current: Option<&Lease>, holder: &str, now: DateTime<Utc>) -> bool {
    match current {
        None => true,
        Some(l) => l.holder == holder || l.expires <= now,
    }
}

/// What one sync pass did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Labels changed (or first run): the round ran.
    Ran {
        fingerprint: String,
    },
    Unchanged {
        since: Option<String>,
    },
    /// Another job holds the lease.
    Busy {
        holder: String,
        until: DateTime<Utc>,
    },
}

async fn sync_state(client: &Client, folder: &FolderId) -> Result<Value, RoundError> {
    let f = client.folder(folder).await.map_err(|e| RoundError::Dsa {
        context: format!("reading folder {folder}"),
        source: e,
    })?;
    Ok(f.meta.get(SYNC_KEY).cloned().unwrap_or(Value::Null))
}

async fn put_state(client: &Client, folder: &FolderId, state: Value) -> Result<(), RoundError> {
    let mut meta = Map::new();
    meta.insert(SYNC_KEY.into(), state);
    client
        .set_folder_metadata(folder, &meta)
        .await
        .map(|_| ())
        .map_err(|e| RoundError::Dsa {
            context: format!("updating the sync state of folder {folder}"),
            source: e,
        })
}

/// One sync pass: take the lease, compare fingerprints, run `round` if the
/// labels changed, record the new fingerprint, give the lease back.
#[allow(clippy::too_many_arguments)]
pub async fn sync_once<F, Fut>(
    client: &Client,
    folder: &FolderId,
    holder: &str,
    lease_ttl: Duration,
    fingerprint_now: impl Future<Output = Result<String, RoundError>>,
    round: F,
) -> Result<Outcome, anyhow::Error>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let state = sync_state(client, folder).await?;
    let now = Utc::now();
    let current = Lease::from_meta(&state);
    if !may_take(current.as_ref(), holder, now) {
        let l = current.expect("a lease that may not be taken exists");
        return Ok(Outcome::Busy {
            holder: l.holder,
            until: l.expires,
        });
    }
    let expires =
        now + chrono::Duration::from_std(lease_ttl).unwrap_or(chrono::Duration::minutes(10));
    let mut taken = if state.is_object() {
        state.clone()
    } else {
        json!({})
    };
    taken["lease"] = json!({"holder": holder, "expires": expires.to_rfc3339()});
    put_state(client, folder, taken.clone()).await?;
    // Girder has no compare-and-set: read back, and yield if another job's
    // write landed after ours.
    let check = sync_state(client, folder).await?;
    if let Some(l) = Lease::from_meta(&check).filter(|l| l.holder != holder) {
        return Ok(Outcome::Busy {
            holder: l.holder,
            until: l.expires,
        });
    }
    let result = async {
        let fp = fingerprint_now.await?;
        if state.get("fingerprint").and_then(Value::as_str) == Some(fp.as_str()) {
            return Ok::<_, anyhow::Error>(Outcome::Unchanged {
                since: state
                    .get("lastRun")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
        round().await?;
        Ok(Outcome::Ran { fingerprint: fp })
    }
    .await;
    // Release the lease whatever happened; record the fingerprint only after a good run.
    let mut released = sync_state(client, folder).await?;
    if !released.is_object() {
        released = json!({});
    }
    if let Some(map) = released.as_object_mut() {
        map.remove("lease");
        if let Ok(Outcome::Ran { fingerprint }) = &result {
            map.insert("fingerprint".into(), json!(fingerprint));
            map.insert(
                "lastRun".into(),
                json!(Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            );
        }
    }
    put_state(client, folder, released).await?;
    result
}

/// Runs `pass` now and then every `interval` until `shutdown` resolves. A
/// pass that has started is finished before stopping (a half-written layer is
/// worse than a late exit); the wait between passes ends at once.
pub async fn every<F, Fut>(
    interval: Duration,
    shutdown: impl Future<Output = ()>,
    mut pass: F,
) -> usize
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    let mut passes = 0;
    loop {
        let mut stop_after = false;
        {
            let run = pass();
            tokio::pin!(run);
            loop {
                tokio::select! {
                    _ = &mut run => break,
                    _ = &mut shutdown, if !stop_after => stop_after = true,
                }
            }
        }
        passes += 1;
        if stop_after {
            return passes;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = &mut shutdown => return passes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_interval("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_interval("45").unwrap(), Duration::from_secs(45));
        assert!(parse_interval("0s").is_err());
        assert!(
            parse_interval("5 weeks")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_interval("soon").is_err());
    }

    #[test]
    fn fingerprints_ignore_order_and_see_changes() {
        let mut a = vec!["i|a|1|t1".to_string(), "i|b|2|t2".to_string()];
        let mut b = vec!["i|b|2|t2".to_string(), "i|a|1|t1".to_string()];
        let mut c = vec!["i|b|3|t3".to_string(), "i|a|1|t1".to_string()];
        assert_eq!(fingerprint(&mut a), fingerprint(&mut b));
        assert_ne!(fingerprint(&mut a), fingerprint(&mut c));
        // Stable across builds: FNV-1a of the empty set is the offset basis.
        assert_eq!(fingerprint(&mut []), "cbf29ce484222325");
    }

    #[test]
    fn a_lease_is_taken_when_free_ours_or_stale() {
        let now = DateTime::parse_from_rfc3339("2026-12-03T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let other = Lease {
            holder: "job-b".into(),
            expires: now + chrono::Duration::minutes(5),
        };
        assert!(may_take(None, "job-a", now));
        assert!(!may_take(Some(&other), "job-a", now));
        assert!(may_take(Some(&other), "job-b", now));
        let stale = Lease {
            expires: now - chrono::Duration::seconds(1),
            ..other
        };
        assert!(may_take(Some(&stale), "job-a", now));
    }

    #[tokio::test(start_paused = true)]
    async fn every_runs_on_schedule_and_stops_between_passes() {
        let passes = Arc::new(AtomicUsize::new(0));
        let counter = passes.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(every(
            Duration::from_secs(900),
            async {
                let _ = rx.await;
            },
            move || {
                let c = counter.clone();
                async move {
                    c.fetch_add(1, Ordering::SeqCst);
                }
            },
        ));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            passes.load(Ordering::SeqCst),
            1,
            "the first pass runs at once"
        );
        tokio::time::sleep(Duration::from_secs(900)).await;
        assert_eq!(passes.load(Ordering::SeqCst), 2, "then every 15 minutes");
        tokio::time::sleep(Duration::from_secs(1800)).await;
        assert_eq!(passes.load(Ordering::SeqCst), 4);
        tx.send(()).unwrap();
        assert_eq!(
            handle.await.unwrap(),
            4,
            "a shutdown while waiting stops at once"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_shutdown_during_a_pass_lets_it_finish() {
        let finished = Arc::new(AtomicUsize::new(0));
        let done = finished.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(every(
            Duration::from_secs(60),
            async {
                let _ = rx.await;
            },
            move || {
                let d = done.clone();
                async move {
                    tokio::time::sleep(Duration::from_secs(30)).await; // a long round
                    d.fetch_add(1, Ordering::SeqCst);
                }
            },
        ));
        tokio::time::sleep(Duration::from_secs(10)).await;
        tx.send(()).unwrap();
        assert_eq!(handle.await.unwrap(), 1);
        assert_eq!(
            finished.load(Ordering::SeqCst),
            1,
            "the pass in progress completed"
        );
    }
}
