//! Reading a scope from the DSA: folders (recursively), items, and the
//! annotations whose names match the sample and label patterns.

use std::collections::BTreeSet;

use futures::{StreamExt, TryStreamExt};
use regex::Regex;

use crate::dsa::{Client, DsaError, Folder, FolderId, Item, ItemId};
use crate::samples::{Pool, SampleSpec, SlideAnnotations, build_pool};
use crate::sites::{SiteRules, SiteTable, SlideRef};
use crate::writeback::is_histoactive_layer;

use super::RoundError;

/// Which slides a round covers.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// A folder, searched recursively through its sub-folders.
    pub folder: Option<FolderId>,
    /// Individual items.
    pub items: Vec<ItemId>,
}

/// An item of the scope and the folder names from the scope folder (first)
/// down to the item's folder; empty for an item given by id only.
pub type ScopedItem = (Item, Vec<String>);

/// The folder (if any) and every item of the scope, in a stable order.
pub async fn resolve_scope(
    client: &Client,
    scope: &Scope,
) -> Result<(Option<Folder>, Vec<ScopedItem>), RoundError> {
    let mut items = Vec::new();
    let mut root = None;
    if let Some(folder_id) = &scope.folder {
        let folder = client.folder(folder_id).await.map_err(|e| match e {
            DsaError::NotFound { message, .. } => RoundError::FolderNotFound {
                id: folder_id.clone(),
                message,
            },
            e => RoundError::Dsa {
                context: format!("reading folder {folder_id}"),
                source: e,
            },
        })?;
        // Depth-first over sub-folders, in listing order; each listing is paged by the client.
        let mut queue = vec![(folder.id.clone(), vec![folder.name.clone()])];
        while let Some((id, path)) = queue.pop() {
            let context = || format!("listing folder {id}");
            let found = client.items_in(&id).await.map_err(|e| RoundError::Dsa {
                context: context(),
                source: e,
            })?;
            items.extend(found.into_iter().map(|item| (item, path.clone())));
            let subs = client.subfolders(&id).await.map_err(|e| RoundError::Dsa {
                context: context(),
                source: e,
            })?;
            queue.extend(subs.into_iter().rev().map(|f| {
                let mut deeper = path.clone();
                deeper.push(f.name);
                (f.id, deeper)
            }));
        }
        root = Some(folder);
    }
    for id in &scope.items {
        let item = client.item(id).await.map_err(|e| match e {
            DsaError::NotFound { message, .. } => RoundError::ItemNotFound {
                id: id.clone(),
                message,
            },
            e => RoundError::Dsa {
                context: format!("reading item {id}"),
                source: e,
            },
        })?;
        items.push((item, Vec::new()));
    }
    let mut seen = BTreeSet::new();
    items.retain(|(item, _)| seen.insert(item.id.clone()));
    if items.is_empty() {
        return Err(RoundError::EmptyScope);
    }
    Ok((root, items))
}

/// Reads each item's matching annotations, `concurrency` items at a time.
pub async fn fetch_annotations(
    client: &Client,
    items: Vec<ScopedItem>,
    samples: &Regex,
    labels: Option<&Regex>,
    concurrency: usize,
) -> Result<Vec<SlideAnnotations>, RoundError> {
    futures::stream::iter(
        items
            .into_iter()
            .map(|(item, path)| fetch_slide(client, item, path, samples, labels)),
    )
    .buffered(concurrency.max(1))
    .try_collect()
    .await
}

async fn fetch_slide(
    client: &Client,
    item: Item,
    path: Vec<String>,
    samples: &Regex,
    labels: Option<&Regex>,
) -> Result<SlideAnnotations, RoundError> {
    let context = |what: &str| format!("{what} of item '{}' ({})", item.name, item.id);
    let listed = client
        .annotations_of(&item.id)
        .await
        .map_err(|e| RoundError::Dsa {
            context: context("listing the annotations"),
            source: e,
        })?;
    let mut slide = SlideAnnotations {
        names: listed.iter().map(|a| a.annotation.name.clone()).collect(),
        item: item.clone(),
        path,
        samples: Vec::new(),
        labels: Vec::new(),
    };
    for entry in listed {
        let name = &entry.annotation.name;
        let is_sample = samples.is_match(name);
        let is_label = !is_sample && labels.is_some_and(|l| l.is_match(name));
        if !is_sample && !is_label {
            continue;
        }
        let full = client
            .annotation(&entry.id)
            .await
            .map_err(|e| RoundError::Dsa {
                context: context(&format!("reading annotation '{name}'")),
                source: e,
            })?;
        // Our own layers copy sample geometry; reading them back would double the pool.
        if is_histoactive_layer(&full.annotation) {
            continue;
        }
        if is_sample {
            slide.samples.push(full);
        } else {
            slide.labels.push(full);
        }
    }
    Ok(slide)
}

/// What a round, an audit or a DSA simulation reads: which slides, which
/// annotations are samples and labels, and how to read features and classes.
#[derive(Debug, Clone)]
pub struct Source {
    pub scope: Scope,
    /// Annotation names whose elements are samples.
    pub samples: Regex,
    /// Annotation names whose regions label the samples inside them.
    pub labels: Option<Regex>,
    pub spec: SampleSpec,
    /// How each slide's site is found.
    pub sites: SiteRules,
    /// Items read in parallel.
    pub concurrency: usize,
}

impl Source {
    /// The scope's folder and its pool of samples.
    pub async fn read(
        &self,
        client: &Client,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(Option<Folder>, Pool), RoundError> {
        let (folder, items) = resolve_scope(client, &self.scope).await?;
        progress(&format!("reading annotations of {} slide(s)", items.len()));
        let slides = fetch_annotations(
            client,
            items,
            &self.samples,
            self.labels.as_ref(),
            self.concurrency,
        )
        .await?;
        Ok((folder, build_pool(slides, &self.spec, &self.samples)?))
    }

    /// The site of every slide of a pool read from this source.
    pub fn sites(&self, pool: &Pool) -> SiteTable {
        let refs: Vec<SlideRef> = pool
            .slides
            .iter()
            .map(|s| SlideRef {
                name: &s.item.name,
                meta: &s.item.meta,
                path: &s.path,
            })
            .collect();
        SiteTable::assign(&self.sites, &refs)
    }
}
