//! Serde models of the Girder and large_image resources this crate reads and writes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::element::Element;
use super::ids::{AnnotationId, FolderId, ItemId, UserId};

/// A Girder folder.
#[derive(Debug, Clone, Deserialize)]
pub struct Folder {
    #[serde(rename = "_id")]
    pub id: FolderId,
    pub name: String,
    #[serde(default)]
    pub meta: Map<String, Value>,
}

/// A Girder item; in the DSA, one slide.
#[derive(Debug, Clone, Deserialize)]
pub struct Item {
    #[serde(rename = "_id")]
    pub id: ItemId,
    pub name: String,
    #[serde(rename = "folderId")]
    pub folder_id: FolderId,
    #[serde(default)]
    pub meta: Map<String, Value>,
    /// Present when large_image can open the item as a tiled image.
    #[serde(default, rename = "largeImage")]
    pub large_image: Option<Value>,
}

/// The current user (`GET /user/me`).
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    #[serde(rename = "_id")]
    pub id: UserId,
    pub login: String,
    #[serde(default)]
    pub admin: bool,
}

/// The annotation body: everything large_image lets a client set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnotationBody {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<String, Value>,
    /// Empty in listings, which carry no elements.
    #[serde(default)]
    pub elements: Vec<Element>,
}

/// An annotation document as the server returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct Annotation {
    #[serde(rename = "_id")]
    pub id: AnnotationId,
    #[serde(rename = "itemId")]
    pub item_id: ItemId,
    pub annotation: AnnotationBody,
    #[serde(default, rename = "creatorId")]
    pub creator_id: Option<UserId>,
    #[serde(default)]
    pub updated: Option<String>,
    #[serde(default, rename = "_version")]
    pub version: Option<u64>,
    #[serde(default, rename = "_elementCount")]
    pub element_count: Option<u64>,
    /// Set when elements were requested with paging.
    #[serde(default, rename = "_elementQuery")]
    pub element_query: Option<ElementQuery>,
}

/// How many elements a paged annotation read covered.
#[derive(Debug, Clone, Deserialize)]
pub struct ElementQuery {
    pub count: u64,
    pub returned: u64,
}

/// A Girder token (`POST /api_key/token`).
#[derive(Debug, Clone, Deserialize)]
pub struct AuthToken {
    pub token: String,
}

/// The wrapper around [`AuthToken`].
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    #[serde(rename = "authToken")]
    pub auth_token: AuthToken,
}

/// A new API key (`POST /api_key`), used when seeding a test server.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiKey {
    pub key: String,
}

/// A Girder collection.
#[derive(Debug, Clone, Deserialize)]
pub struct Collection {
    #[serde(rename = "_id")]
    pub id: super::ids::CollectionId,
    pub name: String,
}

/// A stored file (`POST /file`).
#[derive(Debug, Clone, Deserialize)]
pub struct File {
    #[serde(rename = "_id")]
    pub id: String,
}
