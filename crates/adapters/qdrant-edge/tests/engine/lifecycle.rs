//! Creating, refusing, dropping: the error contract of the port.

use qbench_domain::{Distance, PointId, VectorName};
use qbench_qdrant_edge::{ENGINE_NAME, ENGINE_VERSION};
use qbench_vector_store::{Point, SearchRequest, VectorStore, VectorStoreError};

use crate::support::{Data, Fixture, exact, load, name, spec, vector};

fn one_vector(collection: &str) -> qbench_vector_store::CollectionSpec {
    spec(collection, &[("text", vector(8, Distance::Cosine))], &[], None)
}

#[tokio::test]
async fn creating_a_collection_twice_is_rejected() {
    let fixture = Fixture::new();
    fixture.engine.create_collection(&one_vector("twice")).await.unwrap();
    let again = fixture.engine.create_collection(&one_vector("twice")).await;
    assert!(
        matches!(again, Err(VectorStoreError::Rejected(ref message)) if message.contains("already exists")),
        "{again:?}"
    );
}

#[tokio::test]
async fn an_unknown_collection_is_not_found() {
    let fixture = Fixture::new();
    let text = name("text");
    let request = SearchRequest { vector: &text, query: &[0.0; 8], k: 1, params: &exact() };
    let not_found = |result: Result<(), VectorStoreError>| {
        assert!(
            matches!(result, Err(VectorStoreError::CollectionNotFound(ref collection)) if collection == "nope"),
            "{result:?}"
        );
    };
    not_found(fixture.engine.upsert("nope", &[]).await);
    not_found(fixture.engine.build_index("nope").await);
    not_found(fixture.engine.search("nope", request).await.map(drop));
    not_found(fixture.engine.collection_info("nope").await.map(drop));
}

#[tokio::test]
async fn dropping_removes_the_directory_and_is_idempotent() {
    let fixture = Fixture::new();
    let data = Data::generate(&one_vector("dropped"), 100, 1, 1);
    load(&fixture.engine, &data).await;
    let dir = fixture.engine.collection_dir("dropped");
    assert!(dir.join("edge_config.json").is_file());

    fixture.engine.drop_collection("dropped").await.unwrap();
    assert!(!dir.exists());
    assert!(matches!(fixture.engine.collection_info("dropped").await, Err(VectorStoreError::CollectionNotFound(_))));
    fixture.engine.drop_collection("dropped").await.unwrap();
    fixture.engine.drop_collection("never-created").await.unwrap();
    // The name is free again.
    fixture.engine.create_collection(&one_vector("dropped")).await.unwrap();
}

#[tokio::test]
async fn dropping_deletes_a_directory_left_by_an_earlier_process() {
    let fixture = Fixture::new();
    {
        let earlier = qbench_qdrant_edge::EmbeddedEngine::new(fixture.engine.root());
        earlier.create_collection(&one_vector("left-over")).await.unwrap();
    }
    // A new engine does not know the collection, and will not create over its files...
    let refused = fixture.engine.create_collection(&one_vector("left-over")).await;
    assert!(
        matches!(refused, Err(VectorStoreError::Rejected(ref message)) if message.contains("not empty")),
        "{refused:?}"
    );
    // ...but drops it.
    fixture.engine.drop_collection("left-over").await.unwrap();
    assert!(!fixture.engine.collection_dir("left-over").exists());
    fixture.engine.create_collection(&one_vector("left-over")).await.unwrap();
}

#[tokio::test]
async fn vectors_of_an_unknown_name_or_the_wrong_dimension_are_rejected() {
    let fixture = Fixture::new();
    fixture.engine.create_collection(&one_vector("strict")).await.unwrap();
    let point = |vector: &str, dim: usize| Point {
        id: PointId::Num(1),
        vectors: vec![(name(vector), vec![0.5; dim])],
        payload: serde_json::Map::new(),
    };
    for (bad, expected) in [(point("text", 3), "has 3 components"), (point("image", 8), "no vector `image`")] {
        let result = fixture.engine.upsert("strict", &[bad]).await;
        assert!(
            matches!(result, Err(VectorStoreError::Rejected(ref message)) if message.contains(expected)),
            "{result:?}"
        );
    }
    let text = name("text");
    let request = SearchRequest { vector: &text, query: &[0.5; 3], k: 1, params: &exact() };
    assert!(matches!(fixture.engine.search("strict", request).await, Err(VectorStoreError::Rejected(_))));
    // Nothing was stored by the refused batches.
    assert_eq!(fixture.engine.collection_info("strict").await.unwrap().points, 0);
}

#[tokio::test]
async fn names_that_are_not_plain_directory_names_are_rejected() {
    let fixture = Fixture::new();
    for bad in ["", "../escape", "a/b", ".hidden", "spa ce"] {
        let result = fixture.engine.create_collection(&one_vector(bad)).await;
        assert!(matches!(result, Err(VectorStoreError::Rejected(_))), "{bad:?}: {result:?}");
    }
    assert!(!fixture.dir.path().join("escape").exists());
}

#[tokio::test]
async fn a_spec_without_vectors_is_rejected() {
    let fixture = Fixture::new();
    let result = fixture.engine.create_collection(&spec("empty", &[], &[], None)).await;
    assert!(matches!(result, Err(VectorStoreError::Rejected(_))), "{result:?}");
    // A refused spec leaves neither a collection nor a directory.
    assert!(matches!(fixture.engine.collection_info("empty").await, Err(VectorStoreError::CollectionNotFound(_))));
    assert!(!fixture.engine.collection_dir("empty").exists());
}

#[tokio::test]
async fn a_collection_too_small_to_index_builds_and_searches() {
    let fixture = Fixture::new();
    let data = Data::generate(&one_vector("tiny"), 3, 1, 2);
    load(&fixture.engine, &data).await;
    let info = fixture.engine.collection_info("tiny").await.unwrap();
    assert_eq!((info.points, info.indexed_vectors), (3, 0));
    let text = name("text");
    let request = SearchRequest { vector: &text, query: data.queries("text")[0], k: 5, params: &exact() };
    assert_eq!(fixture.engine.search("tiny", request).await.unwrap().points.len(), 3);
}

#[tokio::test]
async fn the_unnamed_vector_is_stored_and_searched() {
    let fixture = Fixture::new();
    let mut spec = one_vector("unnamed");
    let text = spec.vectors.remove(&name("text")).unwrap();
    spec.indexing.clear();
    spec.vectors.insert(VectorName::unnamed(), text);
    let point = Point {
        id: PointId::Num(7),
        vectors: vec![(VectorName::unnamed(), vec![1.0; 8])],
        payload: serde_json::Map::new(),
    };
    fixture.engine.create_collection(&spec).await.unwrap();
    fixture.engine.upsert("unnamed", &[point]).await.unwrap();
    fixture.engine.build_index("unnamed").await.unwrap();
    let unnamed = VectorName::unnamed();
    let request = SearchRequest { vector: &unnamed, query: &[1.0; 8], k: 1, params: &exact() };
    let found = fixture.engine.search("unnamed", request).await.unwrap();
    assert_eq!(found.points.first().map(|hit| hit.id), Some(PointId::Num(7)));
}

#[tokio::test]
async fn the_engine_reports_the_pinned_release() {
    let fixture = Fixture::new();
    let info = fixture.engine.engine().await.unwrap();
    assert_eq!((info.engine.as_str(), info.version.as_str()), (ENGINE_NAME, ENGINE_VERSION));
    // The constant is the release the workspace pins exactly. (The manifest, not Cargo.lock: cargo
    // rewrites the lock file while other tests run `cargo metadata`, so reading it races.)
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("qdrant-edge = \"={ENGINE_VERSION}\"")),
        "the workspace pins another qdrant-edge"
    );
}
