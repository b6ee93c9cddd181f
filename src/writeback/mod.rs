//! Writing results back to the DSA without touching anything that is not ours.
//!
//! A layer is ours when its `attributes.histoactive.kind` says so; the name
//! only narrows the search. Replacing uses `PUT /annotation/{id}`, one atomic
//! request that keeps the old version in the annotation's history, so a crash
//! at any point leaves either the previous layer or the new one in place.

mod queue;

pub use queue::{
    QUEUE_KIND, QueuedElement, SCHEMA_VERSION, label_text, marker_shape, priority_colour,
    queue_element,
};

use serde_json::{Map, Value};

use crate::dsa::{Annotation, AnnotationBody, AnnotationId, Client, DsaError, FolderId, Item};

/// What happened to a slide's layer.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerChange {
    Created(AnnotationId),
    Replaced(AnnotationId),
    /// No queued samples on the slide any more: our stale layers were deleted.
    Removed(usize),
    Nothing,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "no write access to item '{item}' ({id}): {message}. Ask for write access to its folder, \
         or leave it out of the scope (--folder/--item), or use --dry-run"
    )]
    NoWriteAccess {
        item: String,
        id: String,
        message: String,
    },
    #[error("writing the layer on item '{item}' ({id}) failed: {source}")]
    Dsa {
        item: String,
        id: String,
        #[source]
        source: DsaError,
    },
    #[error("could not update the metadata of folder {folder}: {source}")]
    Metadata {
        folder: FolderId,
        #[source]
        source: DsaError,
    },
}

/// Whether an annotation was written by this tool as a layer of this kind.
pub fn is_ours(annotation: &AnnotationBody, kind: &str) -> bool {
    annotation
        .attributes
        .get("histoactive")
        .and_then(|h| h.get("kind"))
        .and_then(Value::as_str)
        == Some(kind)
}

/// Whether an annotation carries any histoactive layer attributes (so it is
/// never read as input).
pub fn is_histoactive_layer(annotation: &AnnotationBody) -> bool {
    annotation
        .attributes
        .get("histoactive")
        .is_some_and(Value::is_object)
}

/// Our layers of `kind` named `name` on the item.
async fn our_layers(
    client: &Client,
    item: &Item,
    name: &str,
    kind: &str,
) -> Result<Vec<Annotation>, DsaError> {
    let mut ours = Vec::new();
    for listed in client.annotations_of(&item.id).await? {
        if listed.annotation.name != name {
            continue;
        }
        // Listings carry no attributes: read the document's head to see whose it is.
        let full = client.annotation_head(&listed.id).await?;
        if is_ours(&full.annotation, kind) {
            ours.push(full);
        }
    }
    Ok(ours)
}

/// Creates, replaces or removes the item's layer of `kind` named like `body`.
/// `None` means the slide has nothing queued any more.
pub async fn put_layer(
    client: &Client,
    item: &Item,
    kind: &str,
    name: &str,
    body: Option<&AnnotationBody>,
) -> Result<LayerChange, WriteError> {
    let wrap = |source: DsaError| match source {
        DsaError::Forbidden { message, .. } => WriteError::NoWriteAccess {
            item: item.name.clone(),
            id: item.id.to_string(),
            message,
        },
        source => WriteError::Dsa {
            item: item.name.clone(),
            id: item.id.to_string(),
            source,
        },
    };
    let ours = our_layers(client, item, name, kind).await.map_err(wrap)?;
    let change = match (body, ours.first()) {
        (Some(body), Some(existing)) => {
            client
                .replace_annotation(&existing.id, body)
                .await
                .map_err(wrap)?;
            LayerChange::Replaced(existing.id.clone())
        }
        (Some(body), None) => {
            let created = client
                .create_annotation(&item.id, body)
                .await
                .map_err(wrap)?;
            LayerChange::Created(created.id)
        }
        (None, _) => {
            for layer in &ours {
                client.delete_annotation(&layer.id).await.map_err(wrap)?;
            }
            return Ok(if ours.is_empty() {
                LayerChange::Nothing
            } else {
                LayerChange::Removed(ours.len())
            });
        }
    };
    // Duplicates can only come from an earlier run that crashed between
    // creating and cleaning up; they are ours, so tidy them.
    for extra in ours.iter().skip(1) {
        client.delete_annotation(&extra.id).await.map_err(wrap)?;
    }
    Ok(change)
}

/// Sets one key of the folder's metadata (other keys are left alone).
pub async fn put_folder_summary(
    client: &Client,
    folder: &FolderId,
    key: &str,
    summary: Value,
) -> Result<(), WriteError> {
    let mut meta = Map::new();
    meta.insert(key.into(), summary);
    client
        .set_folder_metadata(folder, &meta)
        .await
        .map(|_| ())
        .map_err(|source| WriteError::Metadata {
            folder: folder.clone(),
            source,
        })
}
