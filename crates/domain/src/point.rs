//! Point ids: how a dataset row is named in the vector database.

use std::fmt;

use uuid::Uuid;

/// A point id as Qdrant accepts it: an unsigned integer or a UUID (string ids of a dataset are
/// mapped to stable UUIDs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum PointId {
    /// A numeric id.
    Num(u64),
    /// A UUID id.
    Uuid(Uuid),
}

impl PointId {
    /// The stable UUID of a string id: UUIDs are kept, anything else is hashed (UUIDv5 in the URL
    /// namespace), so the same string always names the same point.
    pub fn from_key(key: &str) -> Self {
        match Uuid::parse_str(key) {
            Ok(uuid) => Self::Uuid(uuid),
            Err(_) => Self::Uuid(Uuid::new_v5(&Uuid::NAMESPACE_URL, key.as_bytes())),
        }
    }
}

impl fmt::Display for PointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Num(id) => id.fmt(f),
            Self::Uuid(id) => id.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_ids_map_to_stable_uuids_and_uuids_are_kept() {
        assert_eq!(PointId::from_key("doc-17"), PointId::from_key("doc-17"));
        assert_ne!(PointId::from_key("doc-17"), PointId::from_key("doc-18"));
        let uuid = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        assert_eq!(PointId::from_key(uuid), PointId::Uuid(Uuid::parse_str(uuid).unwrap()));
    }
}
