//! A tiny HTTP/1.1 server on 127.0.0.1 for HTTP(S) sources: files (with or without range
//! requests), a redirect, or silence; and a check that a bare listener was never connected to.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// What the server answers.
pub(crate) enum Answer {
    /// Files by path (without the leading `/`); `ranges` says whether `Range` is honoured or the
    /// whole file is sent instead.
    Files { files: HashMap<String, Vec<u8>>, ranges: bool },
    /// `302 Found` to this location, whatever was asked.
    Redirect(String),
    /// Reads the request and never answers.
    Silent,
}

/// A running server; its threads end with the test binary.
pub(crate) struct HttpServer {
    /// The port on 127.0.0.1.
    pub(crate) port: u16,
    /// Connections accepted so far.
    connections: Arc<AtomicUsize>,
}

impl HttpServer {
    pub(crate) fn start(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        let answer = Arc::new(answer);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                let answer = Arc::clone(&answer);
                std::thread::spawn(move || serve(stream, &answer));
            }
        });
        Self { port, connections }
    }

    /// Connections accepted so far.
    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Answers the requests of one connection until the client closes it.
fn serve(stream: TcpStream, answer: &Answer) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut range = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("range")
            {
                range = Some(value.trim().to_owned());
            }
        }
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        let head = method == "HEAD";
        let (status, headers, body): (&str, String, Vec<u8>) = match answer {
            Answer::Silent => {
                std::thread::sleep(Duration::from_secs(120));
                return;
            }
            Answer::Redirect(location) => ("302 Found", format!("Location: {location}\r\n"), Vec::new()),
            Answer::Files { files, ranges } => match files.get(path.trim_start_matches('/')) {
                None => ("404 Not Found", String::new(), Vec::new()),
                Some(file) => match range.as_deref().filter(|_| *ranges).and_then(|r| byte_range(r, file.len())) {
                    Some((start, end)) => (
                        "206 Partial Content",
                        format!("Content-Range: bytes {start}-{}/{}\r\n", end - 1, file.len()),
                        file[start..end].to_vec(),
                    ),
                    None => ("200 OK", String::new(), file.clone()),
                },
            },
        };
        let reply = format!("HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\n\r\n", body.len());
        if writer.write_all(reply.as_bytes()).is_err() || (!head && writer.write_all(&body).is_err()) {
            return;
        }
    }
}

/// The half-open byte range of `bytes=a-b`, `bytes=a-` or `bytes=-n` in a file of `len` bytes.
fn byte_range(header: &str, len: usize) -> Option<(usize, usize)> {
    let (first, last) = header.strip_prefix("bytes=")?.split_once('-')?;
    match (first.parse::<usize>().ok(), last.parse::<usize>().ok()) {
        (Some(first), Some(last)) => Some((first, (last + 1).min(len))),
        (Some(first), None) => Some((first, len)),
        (None, Some(suffix)) => Some((len.saturating_sub(suffix), len)),
        (None, None) => None,
    }
}

/// Asserts that nothing ever connected to `listener` (a connection would wait in its backlog).
#[track_caller]
pub(crate) fn assert_never_connected(listener: &TcpListener) {
    listener.set_nonblocking(true).unwrap();
    match listener.accept() {
        Err(error) if error.kind() == ErrorKind::WouldBlock => {}
        Ok((_, peer)) => panic!("a connection from {peer} reached the listener"),
        Err(error) => panic!("accept failed: {error}"),
    }
}
