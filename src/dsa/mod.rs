//! A typed REST client for the Digital Slide Archive (Girder + large_image).
//!
//! It knows Girder and large_image, nothing about learning: the rest of the
//! crate turns what it reads into samples and what it learns into layers.

mod client;
mod element;
mod error;
mod ids;
mod models;
mod resources;

pub use client::{Auth, Client, ClientBuilder, Retry, Secret};
pub use element::{Coord, Element, Extra, Label, Shape, Transform};
pub use error::{DsaError, ServerMessage};
pub use ids::{AnnotationId, CollectionId, ElementId, FolderId, InvalidId, ItemId, UserId};
pub use models::{Annotation, AnnotationBody, Collection, ElementQuery, File, Folder, Item, User};
