//! A stand-in for a Qdrant server, in process: just enough of its gRPC API (health check,
//! collections, upsert, query) to drive the adapter over a real HTTP/2 connection, with the
//! optimizer's behaviour scripted.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use ::qdrant_client::qdrant::collections_server::{Collections, CollectionsServer};
use ::qdrant_client::qdrant::points_server::{Points, PointsServer};
use ::qdrant_client::qdrant::qdrant_server::{Qdrant, QdrantServer};
use ::qdrant_client::qdrant::*;
use async_trait::async_trait;
use qbench_domain::Distance;
use qbench_domain::neighbors::oriented_distance;
use tokio::sync::oneshot;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// The version the fake reports.
pub(crate) const VERSION: &str = "1.99.0-fake";

/// How the fake's optimizer behaves once indexing is switched on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Script {
    /// The API key every request must carry, if any.
    pub(crate) api_key: Option<String>,
    /// `collection_info` answers yellow this many times before green.
    pub(crate) optimizing_polls: u32,
    /// The optimizer fails with this message (the collection turns red).
    pub(crate) optimizer_error: Option<String>,
    /// The collection never turns green.
    pub(crate) never_green: bool,
    /// Green with only half of the vectors indexed (segments below the threshold).
    pub(crate) half_indexed: bool,
}

struct Collection {
    create: CreateCollection,
    points: Vec<PointStruct>,
    indexing_threshold: u64,
    yellow_left: u32,
}

/// The fake server's state, shared by its three services.
pub(crate) struct FakeQdrant {
    script: Script,
    collections: Mutex<HashMap<String, Collection>>,
    /// `collection_info` calls since indexing was last switched on.
    pub(crate) polls: Mutex<u32>,
    /// The `wait` flag of every upsert.
    pub(crate) upsert_waits: Mutex<Vec<Option<bool>>>,
}

/// A running fake; stops when dropped.
pub(crate) struct Running {
    /// `http://127.0.0.1:<port>`.
    pub(crate) url: String,
    /// Its state.
    pub(crate) fake: Arc<FakeQdrant>,
    _stop: oneshot::Sender<()>,
}

/// Starts a fake on a free local port.
pub(crate) async fn start(script: Script) -> Running {
    let fake = Arc::new(FakeQdrant {
        script,
        collections: Mutex::default(),
        polls: Mutex::new(0),
        upsert_waits: Mutex::default(),
    });
    let incoming = TcpIncoming::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let port = incoming.local_addr().unwrap().port();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = Server::builder()
        .add_service(QdrantServer::from_arc(fake.clone()))
        .add_service(CollectionsServer::from_arc(fake.clone()))
        .add_service(PointsServer::from_arc(fake.clone()))
        .serve_with_incoming_shutdown(incoming, async {
            let _ = stopped.await;
        });
    tokio::spawn(server);
    Running { url: format!("http://127.0.0.1:{port}"), fake, _stop: stop }
}

impl FakeQdrant {
    fn authorize<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let Some(expected) = &self.script.api_key else { return Ok(()) };
        match request.metadata().get("api-key").and_then(|value| value.to_str().ok()) {
            Some(key) if key == expected => Ok(()),
            // Qdrant's own answer to a wrong key.
            Some(_) | None => Err(Status::unauthenticated("Invalid api-key")),
        }
    }

    fn not_found(name: &str) -> Status {
        Status::not_found(format!("Not found: Collection `{name}` doesn't exist!"))
    }

    fn info(&self, collection: &mut Collection) -> CollectionInfo {
        let points = collection.points.len() as u64;
        let params = vector_params(&collection.create);
        let graph_vectors = params
            .iter()
            .filter(|(_, params)| params.hnsw_config.as_ref().and_then(|hnsw| hnsw.m).unwrap_or(16) > 0)
            .count();
        let (status, indexed, optimizer_status) = if collection.indexing_threshold == 0 {
            (CollectionStatus::Green, 0, OptimizerStatus { ok: true, error: String::new() })
        } else if let Some(error) = &self.script.optimizer_error {
            (CollectionStatus::Red, 0, OptimizerStatus { ok: false, error: error.clone() })
        } else if self.script.never_green || collection.yellow_left > 0 {
            collection.yellow_left = collection.yellow_left.saturating_sub(1);
            (CollectionStatus::Yellow, 0, OptimizerStatus { ok: true, error: String::new() })
        } else {
            let indexed = points * graph_vectors as u64;
            let indexed = if self.script.half_indexed { indexed / 2 } else { indexed };
            (CollectionStatus::Green, indexed, OptimizerStatus { ok: true, error: String::new() })
        };
        CollectionInfo {
            status: status as i32,
            optimizer_status: Some(optimizer_status),
            segments_count: 1,
            points_count: Some(points),
            indexed_vectors_count: Some(indexed),
            config: Some(CollectionConfig {
                params: Some(CollectionParams {
                    shard_number: 1,
                    vectors_config: collection.create.vectors_config.clone(),
                    ..Default::default()
                }),
                hnsw_config: Some(HnswConfigDiff { m: Some(16), ef_construct: Some(100), ..Default::default() }),
                optimizer_config: Some(OptimizersConfigDiff {
                    indexing_threshold: Some(collection.indexing_threshold),
                    ..Default::default()
                }),
                quantization_config: collection.create.quantization_config,
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// The named vectors of a collection (the unnamed one under "").
fn vector_params(create: &CreateCollection) -> Vec<(String, VectorParams)> {
    match create.vectors_config.as_ref().and_then(|config| config.config.as_ref()) {
        Some(vectors_config::Config::Params(params)) => vec![(String::new(), *params)],
        Some(vectors_config::Config::ParamsMap(map)) => {
            map.map.iter().map(|(name, params)| (name.clone(), *params)).collect()
        }
        None => Vec::new(),
    }
}

fn dense(vector: &Vector) -> Vec<f32> {
    match &vector.vector {
        Some(vector::Vector::Dense(dense)) => dense.data.clone(),
        #[allow(deprecated)]
        _ => vector.data.clone(),
    }
}

/// The values of vector `name` of a stored point.
fn values(point: &PointStruct, name: &str) -> Option<Vec<f32>> {
    match point.vectors.as_ref()?.vectors_options.as_ref()? {
        vectors::VectorsOptions::Vector(vector) => name.is_empty().then(|| dense(vector)),
        vectors::VectorsOptions::Vectors(named) => named.vectors.get(name).map(dense),
    }
}

fn distance(params: &VectorParams) -> Distance {
    match ::qdrant_client::qdrant::Distance::try_from(params.distance) {
        Ok(::qdrant_client::qdrant::Distance::Euclid) => Distance::Euclid,
        Ok(::qdrant_client::qdrant::Distance::Dot) => Distance::Dot,
        Ok(::qdrant_client::qdrant::Distance::Manhattan) => Distance::Manhattan,
        _ => Distance::Cosine,
    }
}

#[async_trait]
impl Qdrant for FakeQdrant {
    async fn health_check(&self, request: Request<HealthCheckRequest>) -> Result<Response<HealthCheckReply>, Status> {
        self.authorize(&request)?;
        Ok(Response::new(HealthCheckReply {
            title: "qdrant - vector search engine".to_owned(),
            version: VERSION.to_owned(),
            commit: None,
        }))
    }
}

/// Implements a service for [`FakeQdrant`]: the methods given, and every other one answering
/// `Unimplemented`. (`async_trait` must see the expanded methods, so the macro emits the whole
/// `impl`.)
macro_rules! service {
    (
        impl $service:ident { $($method:tt)* }
        unimplemented { $($name:ident($request:ident) -> $response:ident;)* }
    ) => {
        #[async_trait]
        impl $service for FakeQdrant {
            $($method)*
            $(
                async fn $name(&self, _request: Request<$request>) -> Result<Response<$response>, Status> {
                    Err(Status::unimplemented(stringify!($name)))
                }
            )*
        }
    };
}

service! {
    impl Collections {
        async fn get(
            &self,
            request: Request<GetCollectionInfoRequest>,
        ) -> Result<Response<GetCollectionInfoResponse>, Status> {
            self.authorize(&request)?;
            let name = request.into_inner().collection_name;
            let mut collections = self.collections.lock().unwrap();
            let collection = collections.get_mut(&name).ok_or_else(|| Self::not_found(&name))?;
            *self.polls.lock().unwrap() += 1;
            Ok(Response::new(GetCollectionInfoResponse { result: Some(self.info(collection)), time: 0.0001 }))
        }

        async fn create(
            &self,
            request: Request<CreateCollection>,
        ) -> Result<Response<CollectionOperationResponse>, Status> {
            self.authorize(&request)?;
            let create = request.into_inner();
            let mut collections = self.collections.lock().unwrap();
            if collections.contains_key(&create.collection_name) {
                return Err(Status::invalid_argument(format!(
                    "Wrong input: Collection `{}` already exists!",
                    create.collection_name
                )));
            }
            let indexing_threshold = create.optimizers_config.and_then(|optimizers| optimizers.indexing_threshold);
            collections.insert(
                create.collection_name.clone(),
                Collection {
                    indexing_threshold: indexing_threshold.unwrap_or(10_000),
                    create,
                    points: Vec::new(),
                    yellow_left: 0,
                },
            );
            Ok(Response::new(CollectionOperationResponse { result: true, time: 0.001 }))
        }

        async fn update(
            &self,
            request: Request<UpdateCollection>,
        ) -> Result<Response<CollectionOperationResponse>, Status> {
            self.authorize(&request)?;
            let update = request.into_inner();
            let mut collections = self.collections.lock().unwrap();
            let collection =
                collections.get_mut(&update.collection_name).ok_or_else(|| Self::not_found(&update.collection_name))?;
            if let Some(threshold) = update.optimizers_config.and_then(|optimizers| optimizers.indexing_threshold) {
                collection.indexing_threshold = threshold;
                collection.yellow_left = self.script.optimizing_polls;
                *self.polls.lock().unwrap() = 0;
            }
            Ok(Response::new(CollectionOperationResponse { result: true, time: 0.001 }))
        }

        async fn delete(
            &self,
            request: Request<DeleteCollection>,
        ) -> Result<Response<CollectionOperationResponse>, Status> {
            self.authorize(&request)?;
            let existed = self.collections.lock().unwrap().remove(&request.into_inner().collection_name).is_some();
            Ok(Response::new(CollectionOperationResponse { result: existed, time: 0.001 }))
        }

        async fn list(
            &self,
            request: Request<ListCollectionsRequest>,
        ) -> Result<Response<ListCollectionsResponse>, Status> {
            self.authorize(&request)?;
            let collections = self
                .collections
                .lock()
                .unwrap()
                .keys()
                .map(|name| CollectionDescription { name: name.clone() })
                .collect();
            Ok(Response::new(ListCollectionsResponse { collections, time: 0.0001 }))
        }
    }

    unimplemented {
        update_aliases(ChangeAliases) -> CollectionOperationResponse;
        list_collection_aliases(ListCollectionAliasesRequest) -> ListAliasesResponse;
        list_aliases(ListAliasesRequest) -> ListAliasesResponse;
        collection_cluster_info(CollectionClusterInfoRequest) -> CollectionClusterInfoResponse;
        collection_exists(CollectionExistsRequest) -> CollectionExistsResponse;
        update_collection_cluster_setup(UpdateCollectionClusterSetupRequest) -> UpdateCollectionClusterSetupResponse;
        create_shard_key(CreateShardKeyRequest) -> CreateShardKeyResponse;
        delete_shard_key(DeleteShardKeyRequest) -> DeleteShardKeyResponse;
        list_shard_keys(ListShardKeysRequest) -> ListShardKeysResponse;
    }
}

service! {
    impl Points {
        async fn upsert(&self, request: Request<UpsertPoints>) -> Result<Response<PointsOperationResponse>, Status> {
            self.authorize(&request)?;
            let upsert = request.into_inner();
            self.upsert_waits.lock().unwrap().push(upsert.wait);
            let mut collections = self.collections.lock().unwrap();
            let collection =
                collections.get_mut(&upsert.collection_name).ok_or_else(|| Self::not_found(&upsert.collection_name))?;
            for point in upsert.points {
                collection.points.retain(|stored| stored.id != point.id);
                collection.points.push(point);
            }
            Ok(Response::new(PointsOperationResponse {
                result: Some(UpdateResult { operation_id: Some(1), status: UpdateStatus::Completed as i32 }),
                time: 0.001,
                usage: None,
            }))
        }

        /// Exact nearest neighbours of a dense query, best first, scored as the negated oriented distance.
        async fn query(&self, request: Request<QueryPoints>) -> Result<Response<QueryResponse>, Status> {
            self.authorize(&request)?;
            let query = request.into_inner();
            let collections = self.collections.lock().unwrap();
            let collection =
                collections.get(&query.collection_name).ok_or_else(|| Self::not_found(&query.collection_name))?;
            let using = query.using.clone().unwrap_or_default();
            let params = vector_params(&collection.create).into_iter().find(|(name, _)| *name == using);
            let Some((_, params)) = params else {
                return Err(Status::invalid_argument(format!("Wrong input: Not existing vector name error: {using}")));
            };
            let target = match query.query.and_then(|query| query.variant) {
                Some(query::Variant::Nearest(VectorInput { variant: Some(vector_input::Variant::Dense(dense)) })) => {
                    dense.data
                }
                _ => return Err(Status::invalid_argument("only dense nearest queries")),
            };
            if target.len() as u64 != params.size {
                return Err(Status::invalid_argument(format!(
                    "Wrong input: Vector dimension error: expected dim: {}, got {}",
                    params.size,
                    target.len()
                )));
            }
            let mut scored: Vec<ScoredPoint> = collection
                .points
                .iter()
                .filter_map(|point| {
                    let values = values(point, &using)?;
                    let score = -oriented_distance(distance(&params), &target, &values) as f32;
                    Some(ScoredPoint { id: point.id.clone(), score, ..Default::default() })
                })
                .collect();
            scored.sort_by(|a, b| b.score.total_cmp(&a.score));
            scored.truncate(query.limit.unwrap_or(10) as usize);
            Ok(Response::new(QueryResponse { result: scored, time: 0.002, usage: None }))
        }

        async fn get(&self, _request: Request<GetPoints>) -> Result<Response<GetResponse>, Status> {
            Err(Status::unimplemented("get"))
        }

        async fn search(&self, _request: Request<SearchPoints>) -> Result<Response<SearchResponse>, Status> {
            Err(Status::unimplemented("search"))
        }

        async fn scroll(&self, _request: Request<ScrollPoints>) -> Result<Response<ScrollResponse>, Status> {
            Err(Status::unimplemented("scroll"))
        }

        async fn count(&self, _request: Request<CountPoints>) -> Result<Response<CountResponse>, Status> {
            Err(Status::unimplemented("count"))
        }

        async fn facet(&self, _request: Request<FacetCounts>) -> Result<Response<FacetResponse>, Status> {
            Err(Status::unimplemented("facet"))
        }
    }

    unimplemented {
        delete(DeletePoints) -> PointsOperationResponse;
        update_vectors(UpdatePointVectors) -> PointsOperationResponse;
        delete_vectors(DeletePointVectors) -> PointsOperationResponse;
        set_payload(SetPayloadPoints) -> PointsOperationResponse;
        overwrite_payload(SetPayloadPoints) -> PointsOperationResponse;
        delete_payload(DeletePayloadPoints) -> PointsOperationResponse;
        clear_payload(ClearPayloadPoints) -> PointsOperationResponse;
        create_field_index(CreateFieldIndexCollection) -> PointsOperationResponse;
        delete_field_index(DeleteFieldIndexCollection) -> PointsOperationResponse;
        create_vector_name(CreateVectorNameRequest) -> PointsOperationResponse;
        delete_vector_name(DeleteVectorNameRequest) -> PointsOperationResponse;
        search_batch(SearchBatchPoints) -> SearchBatchResponse;
        search_groups(SearchPointGroups) -> SearchGroupsResponse;
        recommend(RecommendPoints) -> RecommendResponse;
        recommend_batch(RecommendBatchPoints) -> RecommendBatchResponse;
        recommend_groups(RecommendPointGroups) -> RecommendGroupsResponse;
        discover(DiscoverPoints) -> DiscoverResponse;
        discover_batch(DiscoverBatchPoints) -> DiscoverBatchResponse;
        update_batch(UpdateBatchPoints) -> UpdateBatchResponse;
        query_batch(QueryBatchPoints) -> QueryBatchResponse;
        query_groups(QueryPointGroups) -> QueryGroupsResponse;
        search_matrix_pairs(SearchMatrixPoints) -> SearchMatrixPairsResponse;
        search_matrix_offsets(SearchMatrixPoints) -> SearchMatrixOffsetsResponse;
    }
}
