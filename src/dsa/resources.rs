//! Typed calls on the resources the plugin uses: folders, items, annotations,
//! metadata, and the few calls that set up a server (users, keys, uploads).

use reqwest::Method;
use serde_json::{Map, Value};

use super::client::{Body, Client, Secret};
use super::error::DsaError;
use super::ids::{AnnotationId, CollectionId, FolderId, ItemId};
use super::models::{Annotation, AnnotationBody, ApiKey, Collection, File, Folder, Item};

/// Elements fetched per request when reading a large annotation.
const ELEMENT_PAGE: u64 = 50_000;

fn q(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

impl Client {
    pub async fn folder(&self, id: &FolderId) -> Result<Folder, DsaError> {
        self.get(&format!("/folder/{id}"), &[]).await
    }

    pub async fn subfolders(&self, parent: &FolderId) -> Result<Vec<Folder>, DsaError> {
        self.get_all(
            "/folder",
            &q(&[("parentType", "folder"), ("parentId", parent.as_str())]),
        )
        .await
    }

    /// A user's public record (login), e.g. to name an annotator.
    pub async fn user(&self, id: &super::ids::UserId) -> Result<super::models::User, DsaError> {
        self.get(&format!("/user/{id}"), &[]).await
    }

    pub async fn items_in(&self, folder: &FolderId) -> Result<Vec<Item>, DsaError> {
        self.get_all("/item", &q(&[("folderId", folder.as_str())]))
            .await
    }

    pub async fn item(&self, id: &ItemId) -> Result<Item, DsaError> {
        self.get(&format!("/item/{id}"), &[]).await
    }

    /// The item's annotations without their elements.
    pub async fn annotations_of(&self, item: &ItemId) -> Result<Vec<Annotation>, DsaError> {
        self.get_all("/annotation", &q(&[("itemId", item.as_str())]))
            .await
    }

    /// One annotation with all its elements, read in pages so that annotations
    /// of millions of elements do not need one giant response.
    pub async fn annotation(&self, id: &AnnotationId) -> Result<Annotation, DsaError> {
        let path = format!("/annotation/{id}");
        let mut first: Annotation = self
            .get(
                &path,
                &[
                    ("limit", ELEMENT_PAGE.to_string()),
                    ("offset", "0".to_string()),
                ],
            )
            .await?;
        let total = first.element_query.as_ref().map(|q| q.count).unwrap_or(0);
        let mut offset = first.annotation.elements.len() as u64;
        while offset < total {
            let page: Annotation = self
                .get(
                    &path,
                    &[
                        ("limit", ELEMENT_PAGE.to_string()),
                        ("offset", offset.to_string()),
                    ],
                )
                .await?;
            let got = page.annotation.elements.len() as u64;
            if got == 0 {
                break;
            }
            first.annotation.elements.extend(page.annotation.elements);
            offset += got;
        }
        Ok(first)
    }

    /// An annotation's name and attributes without reading its elements (at
    /// most one comes along): enough to tell whose layer it is.
    pub async fn annotation_head(&self, id: &AnnotationId) -> Result<Annotation, DsaError> {
        self.get(&format!("/annotation/{id}"), &[("limit", "1".to_string())])
            .await
    }

    pub async fn create_annotation(
        &self,
        item: &ItemId,
        body: &AnnotationBody,
    ) -> Result<Annotation, DsaError> {
        // POST is not retried: a retry after a lost response would create a duplicate.
        self.send(
            Method::POST,
            "/annotation",
            &q(&[("itemId", item.as_str())]),
            Body::Json(body),
        )
        .await
    }

    /// Replaces an annotation in place; the server keeps the old version in its history.
    pub async fn replace_annotation(
        &self,
        id: &AnnotationId,
        body: &AnnotationBody,
    ) -> Result<Annotation, DsaError> {
        self.send(
            Method::PUT,
            &format!("/annotation/{id}"),
            &[],
            Body::Json(body),
        )
        .await
    }

    /// Soft delete: the server marks the annotation inactive.
    pub async fn delete_annotation(&self, id: &AnnotationId) -> Result<(), DsaError> {
        let _: Value = self
            .send(
                Method::DELETE,
                &format!("/annotation/{id}"),
                &[],
                Body::<()>::None,
            )
            .await?;
        Ok(())
    }

    /// Merges keys into the folder's metadata.
    pub async fn set_folder_metadata(
        &self,
        id: &FolderId,
        meta: &Map<String, Value>,
    ) -> Result<Folder, DsaError> {
        self.send(
            Method::PUT,
            &format!("/folder/{id}/metadata"),
            &[],
            Body::Json(meta),
        )
        .await
    }

    pub async fn set_item_metadata(
        &self,
        id: &ItemId,
        meta: &Map<String, Value>,
    ) -> Result<Item, DsaError> {
        self.send(
            Method::PUT,
            &format!("/item/{id}/metadata"),
            &[],
            Body::Json(meta),
        )
        .await
    }

    // ----- setting up a server (demo and tests) -----

    /// Registers a user; the first user of a fresh server becomes its admin.
    pub async fn create_user(
        &self,
        login: &str,
        password: &Secret,
        email: &str,
        admin: bool,
    ) -> Result<Value, DsaError> {
        let query = q(&[
            ("login", login),
            ("email", email),
            ("firstName", login),
            ("lastName", "User"),
            ("admin", if admin { "true" } else { "false" }),
        ]);
        let form = [("password", password.expose())];
        self.send(Method::POST, "/user", &query, Body::<()>::Form(&form))
            .await
    }

    pub async fn create_api_key(&self, name: &str) -> Result<Secret, DsaError> {
        let key: ApiKey = self
            .send(
                Method::POST,
                "/api_key",
                &q(&[("name", name)]),
                Body::<()>::None,
            )
            .await?;
        Ok(Secret::new(key.key))
    }

    pub async fn create_collection(
        &self,
        name: &str,
        public: bool,
    ) -> Result<Collection, DsaError> {
        let public = if public { "true" } else { "false" };
        self.send(
            Method::POST,
            "/collection",
            &q(&[("name", name), ("public", public)]),
            Body::<()>::None,
        )
        .await
    }

    pub async fn create_folder_in_collection(
        &self,
        parent: &CollectionId,
        name: &str,
    ) -> Result<Folder, DsaError> {
        let query = q(&[
            ("parentType", "collection"),
            ("parentId", parent.as_str()),
            ("name", name),
        ]);
        self.send(Method::POST, "/folder", &query, Body::<()>::None)
            .await
    }

    pub async fn create_folder(&self, parent: &FolderId, name: &str) -> Result<Folder, DsaError> {
        let query = q(&[
            ("parentType", "folder"),
            ("parentId", parent.as_str()),
            ("name", name),
        ]);
        self.send(Method::POST, "/folder", &query, Body::<()>::None)
            .await
    }

    pub async fn create_item(&self, folder: &FolderId, name: &str) -> Result<Item, DsaError> {
        self.send(
            Method::POST,
            "/item",
            &q(&[("folderId", folder.as_str()), ("name", name)]),
            Body::<()>::None,
        )
        .await
    }

    /// Uploads a small file into an item in one request.
    pub async fn upload_to_item(
        &self,
        item: &ItemId,
        name: &str,
        mime: &str,
        bytes: &[u8],
    ) -> Result<File, DsaError> {
        let size = bytes.len().to_string();
        let query = q(&[
            ("parentType", "item"),
            ("parentId", item.as_str()),
            ("name", name),
            ("size", &size),
            ("mimeType", mime),
        ]);
        self.send(Method::POST, "/file", &query, Body::<()>::Bytes(bytes))
            .await
    }

    /// Asks large_image to open the item's file as a tiled image (if upload did not already).
    pub async fn make_large_image(&self, item: &ItemId, file_id: &str) -> Result<(), DsaError> {
        let current = self.item(item).await?;
        if current.large_image.is_none() {
            let _: Value = self
                .send(
                    Method::POST,
                    &format!("/item/{item}/tiles"),
                    &q(&[("fileId", file_id)]),
                    Body::<()>::None,
                )
                .await?;
        }
        Ok(())
    }

    /// Sets a folder's access list (`access` is Girder's `{"users": [...], "groups": [...]}` JSON).
    pub async fn set_folder_access(
        &self,
        folder: &FolderId,
        access: &Value,
        public: bool,
    ) -> Result<(), DsaError> {
        let access = access.to_string();
        let public = if public { "true" } else { "false" };
        let query = q(&[("access", &access), ("public", public), ("recurse", "true")]);
        let _: Value = self
            .send(
                Method::PUT,
                &format!("/folder/{folder}/access"),
                &query,
                Body::<()>::None,
            )
            .await?;
        Ok(())
    }
}
