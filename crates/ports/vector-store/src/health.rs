//! Whether an engine is alive and ready, and the peers of a distributed one.

/// An engine's health as it reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineHealth {
    /// It answers (Qdrant's `/healthz`).
    pub live: bool,
    /// It is ready to serve (Qdrant's `/readyz`: in a cluster, caught up with the others).
    pub ready: bool,
    /// It runs in distributed mode.
    pub distributed: bool,
    /// The peers of the cluster, when distributed.
    pub peers: Vec<PeerHealth>,
}

/// A peer of a distributed Qdrant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerHealth {
    /// Its id.
    pub id: u64,
    /// Its URI within the cluster.
    pub uri: String,
    /// Whether it is the peer that answered.
    pub this: bool,
}
