//! Newtype ids, so that an item id can never be passed where a folder id is wanted.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A string that is not a 24-digit hexadecimal Girder object id.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("'{value}' is not a valid {kind} id: Girder ids are 24 hexadecimal digits")]
pub struct InvalidId {
    pub kind: &'static str,
    pub value: String,
}

fn is_object_id(value: &str) -> bool {
    value.len() == 24 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

macro_rules! object_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks the shape of the id (the server decides whether it exists).
            pub fn parse(value: &str) -> Result<Self, InvalidId> {
                let value = value.trim();
                if is_object_id(value) {
                    Ok(Self(value.to_ascii_lowercase()))
                } else {
                    Err(InvalidId { kind: $kind, value: value.to_string() })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(value: &str) -> Result<Self, InvalidId> {
                Self::parse(value)
            }
        }
    };
}

object_id!(
    /// A Girder folder.
    FolderId,
    "folder"
);
object_id!(
    /// A Girder item (one slide in the DSA).
    ItemId,
    "item"
);
object_id!(
    /// A large_image annotation document.
    AnnotationId,
    "annotation"
);
object_id!(
    /// One element inside an annotation, assigned by the server on save.
    ElementId,
    "element"
);
object_id!(
    /// A Girder user.
    UserId,
    "user"
);
object_id!(
    /// A Girder collection.
    CollectionId,
    "collection"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_object_ids_and_normalises_case() {
        let id = ItemId::parse(" 6B119A70E5FC2C70876F61BC ").unwrap();
        assert_eq!(id.as_str(), "6b119a70e5fc2c70876f61bc");
    }

    #[test]
    fn rejects_wrong_length_and_non_hex_naming_the_kind() {
        let err = FolderId::parse("abc").unwrap_err();
        assert_eq!(err.kind, "folder");
        assert!(err.to_string().contains("'abc' is not a valid folder id"));
        assert!(FolderId::parse("zz119a70e5fc2c70876f61bc").is_err());
    }
}
