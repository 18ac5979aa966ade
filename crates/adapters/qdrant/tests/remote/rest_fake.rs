//! A stand-in for Qdrant's REST API, in process, on a raw tokio listener (one request per
//! connection): the probes and `/cluster` that health reads, and what snapshots use — collection
//! lookup, snapshot creation, download and deletion, the multipart upload that recovers a
//! collection, and the exact count —; when scripted, a collection's shard layout
//! (`/collections/{name}/cluster`: two peers, a local and a remote shard, one transfer in flight)
//! and `/telemetry` with or without `memory`. It records every request, and what was uploaded.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use qbench_qdrant::SNAPSHOT_CHUNK_BYTES;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// How the stand-in answers.
#[derive(Debug, Clone)]
pub(crate) struct RestScript {
    /// The key every path but the probes needs (`api-key` header), if any.
    pub(crate) api_key: Option<String>,
    /// What `/readyz` answers.
    pub(crate) ready_status: u16,
    /// The collections there are, with their points.
    pub(crate) collections: BTreeMap<String, u64>,
    /// The archive every snapshot download serves.
    pub(crate) archive: Vec<u8>,
    /// The download serves the archive with one byte changed (size and checksum as announced).
    pub(crate) corrupt_download: bool,
    /// The points a recovered collection holds.
    pub(crate) restored_points: u64,
    /// What an upload answers instead of recovering: status and Qdrant's error message.
    pub(crate) upload_refusal: Option<(u16, String)>,
    /// `/collections/{name}/cluster` answers (else 404, as a server without it).
    pub(crate) shard_layout: bool,
    /// `/telemetry` answers (else 404): with `memory` when `Some` (at a details level of 1 or
    /// more, as Qdrant does), without when `None`.
    pub(crate) telemetry: Option<Option<Memory>>,
}

/// The jemalloc figures the stand-in's telemetry reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Memory {
    pub(crate) resident_bytes: u64,
    pub(crate) allocated_bytes: u64,
}

/// Peer 7 answers; peer 9 is the other.
pub(crate) const THIS_PEER: u64 = 7;
pub(crate) const OTHER_PEER: u64 = 9;

impl Default for RestScript {
    fn default() -> Self {
        Self {
            api_key: None,
            ready_status: 200,
            collections: BTreeMap::new(),
            archive: Vec::new(),
            corrupt_download: false,
            restored_points: 0,
            upload_refusal: None,
            shard_layout: false,
            telemetry: None,
        }
    }
}

/// One multipart upload, as received.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub(crate) collection: String,
    pub(crate) query: BTreeMap<String, String>,
    /// The request's `content-length`: the body was sized in advance, not chunked.
    pub(crate) content_length: Option<u64>,
    /// The form field's name and file name.
    pub(crate) field: String,
    pub(crate) file_name: Option<String>,
    /// The bytes of the field.
    pub(crate) archive: Vec<u8>,
}

/// What the stand-in holds and was sent.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) collections: BTreeMap<String, u64>,
    /// Snapshots on the "disk": (collection, snapshot name).
    pub(crate) snapshots: BTreeSet<(String, String)>,
    /// `METHOD /path` of every request, in order.
    pub(crate) requests: Vec<String>,
    /// The query of every request, in order.
    pub(crate) queries: Vec<BTreeMap<String, String>>,
    pub(crate) uploads: Vec<Upload>,
    /// Names of the snapshots deleted, in order.
    pub(crate) deleted: Vec<String>,
    created: u32,
}

impl State {
    /// Whether any request was an upload.
    pub(crate) fn uploaded(&self) -> bool {
        self.requests.iter().any(|request| request.ends_with("/snapshots/upload"))
    }
}

struct Shared {
    script: RestScript,
    state: Mutex<State>,
    deletions: mpsc::UnboundedSender<String>,
}

/// A running stand-in; it serves until the test's runtime ends.
pub(crate) struct RestQdrant {
    /// `http://127.0.0.1:<port>`.
    pub(crate) url: String,
    shared: Arc<Shared>,
    deletions: tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>,
}

impl RestQdrant {
    pub(crate) async fn start(script: RestScript) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (sender, receiver) = mpsc::unbounded_channel();
        let state = State { collections: script.collections.clone(), ..State::default() };
        let shared = Arc::new(Shared { script, state: Mutex::new(state), deletions: sender });
        let serving = shared.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(serving.clone(), socket));
            }
        });
        Self { url, shared, deletions: tokio::sync::Mutex::new(receiver) }
    }

    /// The archive snapshot downloads serve.
    pub(crate) fn archive(&self) -> &[u8] {
        &self.shared.script.archive
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap()
    }

    /// The name of the next snapshot deleted, waiting for it (a deletion from a spawned task).
    pub(crate) async fn next_deletion(&self) -> String {
        let mut deletions = self.deletions.lock().await;
        tokio::time::timeout(Duration::from_secs(10), deletions.recv())
            .await
            .expect("no snapshot was deleted within 10 s")
            .unwrap()
    }
}

/// A request as read off the socket.
struct Request {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    /// Lower-case names.
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

async fn read_request(socket: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut piece = vec![0_u8; 64 * 1024];
    let head_end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end;
        }
        let read = socket.read(&mut piece).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&piece[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split_whitespace();
    let (method, target) = (request_line.next()?.to_owned(), request_line.next()?.to_owned());
    let headers: BTreeMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers.get("content-length").and_then(|length| length.parse().ok()).unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let read = socket.read(&mut piece).await.ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&piece[..read]);
    }
    body.truncate(length);
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), value.to_owned())
        })
        .collect();
    Some(Request { method, path: path.to_owned(), query, headers, body })
}

/// The form field of a multipart body: its name, file name and bytes.
fn multipart(content_type: &str, body: &[u8]) -> Option<(String, Option<String>, Vec<u8>)> {
    let boundary = content_type.split("boundary=").nth(1)?.trim_matches('"');
    let rest = body.strip_prefix(format!("--{boundary}\r\n").as_bytes())?;
    let head_end = find(rest, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&rest[..head_end]).to_string();
    let data = rest[head_end + 4..].strip_suffix(format!("\r\n--{boundary}--\r\n").as_bytes())?;
    let quoted = |marker: &str| {
        let start = head.find(marker)? + marker.len();
        head[start..].split('"').next().map(str::to_owned)
    };
    Some((quoted("; name=\"")?, quoted("filename=\""), data.to_vec()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

fn error(message: &str) -> String {
    serde_json::json!({ "status": { "error": message }, "time": 0.0 }).to_string()
}

fn result(result: serde_json::Value) -> String {
    serde_json::json!({ "result": result, "status": "ok", "time": 0.0 }).to_string()
}

async fn reply(socket: &mut TcpStream, status: u16, body: &str) {
    let head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
    let _ = socket.write_all(head.as_bytes()).await;
    let _ = socket.write_all(body.as_bytes()).await;
}

async fn serve(shared: Arc<Shared>, mut socket: TcpStream) {
    let Some(request) = read_request(&mut socket).await else { return };
    let script = &shared.script;
    {
        let mut state = shared.state.lock().unwrap();
        state.requests.push(format!("{} {}", request.method, request.path));
        state.queries.push(request.query.clone());
    }
    let segments: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
    let sent_key = request.headers.get("api-key");
    let authorised = match &script.api_key {
        None => true,
        Some(key) => sent_key == Some(key),
    };
    let (status, body) = match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["healthz"]) => (200, "healthz check passed".to_owned()),
        ("GET", ["readyz"]) => (script.ready_status, "ready".to_owned()),
        _ if !authorised && sent_key.is_none() => (401, error("Must provide an API key")),
        _ if !authorised => (403, error("Invalid api-key")),
        ("GET", ["cluster"]) => (
            200,
            r#"{"result":{"status":"enabled","peer_id":7,"peers":{"7":{"uri":"http://node-a:6335/"},"9":{"uri":"http://node-b:6335/"}},"raft_info":{}},"status":"ok","time":0.0}"#.to_owned(),
        ),
        ("GET", ["collections", name, "cluster"]) if script.shard_layout => {
            match shared.state.lock().unwrap().collections.get(*name) {
                // Two shards: 0 here (being replicated to the other peer), 1 on the other peer.
                Some(points) => (
                    200,
                    result(serde_json::json!({
                        "peer_id": THIS_PEER,
                        "shard_count": 2,
                        "local_shards": [{ "shard_id": 0, "points_count": points, "state": "Active" }],
                        "remote_shards": [
                            { "shard_id": 1, "peer_id": OTHER_PEER, "state": "Active" },
                            { "shard_id": 0, "peer_id": OTHER_PEER, "state": "Partial" }
                        ],
                        "shard_transfers": [
                            { "shard_id": 0, "from": THIS_PEER, "to": OTHER_PEER, "sync": true, "method": "stream_records" }
                        ]
                    })),
                ),
                None => (404, error(&format!("Not found: Collection `{name}` doesn't exist!"))),
            }
        }
        ("GET", ["telemetry"]) if script.telemetry.is_some() => {
            let level: u32 = request.query.get("details_level").and_then(|level| level.parse().ok()).unwrap_or(0);
            let mut telemetry = serde_json::json!({ "id": "stand-in", "app": { "name": "qdrant" } });
            if let Some(Some(memory)) = script.telemetry
                && level >= 1
            {
                telemetry["memory"] = serde_json::json!({
                    "active_bytes": memory.allocated_bytes + 1,
                    "allocated_bytes": memory.allocated_bytes,
                    "metadata_bytes": 1024,
                    "resident_bytes": memory.resident_bytes,
                    "retained_bytes": 4096,
                });
            }
            (200, result(telemetry))
        }
        ("GET", ["collections", name]) => match shared.state.lock().unwrap().collections.get(*name) {
            Some(points) => (200, result(serde_json::json!({ "status": "green", "points_count": points }))),
            None => (404, error(&format!("Not found: Collection `{name}` doesn't exist!"))),
        },
        ("POST", ["collections", name, "snapshots"]) => {
            let mut state = shared.state.lock().unwrap();
            if !state.collections.contains_key(*name) {
                (404, error(&format!("Not found: Collection `{name}` doesn't exist!")))
            } else {
                state.created += 1;
                let snapshot = format!("{name}-{}-2026-12-01-10-00-00.snapshot", state.created);
                state.snapshots.insert(((*name).to_owned(), snapshot.clone()));
                let description = serde_json::json!({
                    "name": snapshot,
                    "creation_time": "2026-12-01T10:00:00",
                    "size": script.archive.len(),
                    "checksum": sha256_hex(&script.archive),
                });
                (200, result(description))
            }
        }
        ("GET", ["collections", name, "snapshots", snapshot]) => {
            let there = shared.state.lock().unwrap().snapshots.contains(&((*name).to_owned(), (*snapshot).to_owned()));
            if there {
                let mut archive = script.archive.clone();
                if script.corrupt_download
                    && let Some(byte) = archive.get_mut(SNAPSHOT_CHUNK_BYTES / 2)
                {
                    *byte ^= 0xff;
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n",
                    archive.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                for piece in archive.chunks(64 * 1024) {
                    if socket.write_all(piece).await.is_err() {
                        return;
                    }
                }
                return;
            }
            (404, error(&format!("Not found: Snapshot {snapshot} not found")))
        }
        ("DELETE", ["collections", name, "snapshots", snapshot]) => {
            let mut state = shared.state.lock().unwrap();
            if state.snapshots.remove(&((*name).to_owned(), (*snapshot).to_owned())) {
                state.deleted.push((*snapshot).to_owned());
                let _ = shared.deletions.send((*snapshot).to_owned());
                (200, result(serde_json::json!(true)))
            } else {
                (404, error(&format!("Not found: Snapshot {snapshot} not found")))
            }
        }
        ("POST", ["collections", name, "snapshots", "upload"]) => {
            let content_type = request.headers.get("content-type").cloned().unwrap_or_default();
            let Some((field, file_name, archive)) = multipart(&content_type, &request.body) else {
                reply(&mut socket, 400, &error("not a multipart body")).await;
                return;
            };
            let mut state = shared.state.lock().unwrap();
            state.uploads.push(Upload {
                collection: (*name).to_owned(),
                query: request.query.clone(),
                content_length: request.headers.get("content-length").and_then(|length| length.parse().ok()),
                field,
                file_name: file_name.clone(),
                archive,
            });
            match &script.upload_refusal {
                // Qdrant deletes an uploaded archive it could not recover.
                Some((status, message)) => (*status, error(message)),
                None => {
                    state.collections.insert((*name).to_owned(), script.restored_points);
                    if let Some(file_name) = file_name {
                        state.snapshots.insert(((*name).to_owned(), file_name));
                    }
                    (200, result(serde_json::json!(true)))
                }
            }
        }
        ("POST", ["collections", name, "points", "count"]) => {
            let exact = serde_json::from_slice::<serde_json::Value>(&request.body).ok().map(|body| body["exact"].clone());
            match shared.state.lock().unwrap().collections.get(*name) {
                Some(_) if exact != Some(serde_json::json!(true)) => (400, error("only exact counts here")),
                Some(points) => (200, result(serde_json::json!({ "count": points }))),
                None => (404, error(&format!("Not found: Collection `{name}` doesn't exist!"))),
            }
        }
        _ => (404, String::new()),
    };
    reply(&mut socket, status, &body).await;
}
