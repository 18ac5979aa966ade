//! Whether an engine is alive and ready, the peers of a distributed one, and its memory.

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

/// What the engine process holds in memory, as its allocator counts it.
///
/// Qdrant reports it (its telemetry's `memory`) only when built with jemalloc (its Linux x86-64
/// and ARM64 builds, the official images) and only to a key with access to the whole server;
/// otherwise, and for the embedded engine (whose memory is this process's), there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineMemory {
    /// Bytes in physically resident pages the allocator maps (jemalloc's `stats.resident`, an
    /// upper bound of its part of the process's RSS).
    pub resident_bytes: u64,
    /// Bytes the application has allocated (jemalloc's `stats.allocated`).
    pub allocated_bytes: u64,
}
