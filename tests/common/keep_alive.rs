//! A minimal HTTPS/1.1 keep-alive client for the benchmarks: GET requests over one
//! rustls connection, responses delimited by Content-Length, one retry on a fresh
//! connection when the server closed a reused one.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// A minimal HTTPS/1.1 keep-alive client: GET requests over one rustls connection,
/// responses delimited by Content-Length. Reconnects (and counts it) when the server
/// closed the connection between two requests.
pub struct KeepAlive {
    port: u16,
    stream: Option<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>,
    /// Connections made again after the first one.
    pub reconnects: usize,
    connected_once: bool,
}

impl KeepAlive {
    pub fn new(port: u16) -> KeepAlive {
        KeepAlive {
            port,
            stream: None,
            reconnects: 0,
            connected_once: false,
        }
    }

    fn connect(&mut self) -> Result<(), String> {
        let tcp = TcpStream::connect_timeout(
            &SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)),
            Duration::from_secs(5),
        )
        .map_err(|e| format!("connect: {e}"))?;
        tcp.set_nodelay(true).ok();
        tcp.set_read_timeout(Some(Duration::from_secs(60))).ok();
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("a server name");
        let conn = rustls::ClientConnection::new(super::client::tls_config(), name)
            .map_err(|e| e.to_string())?;
        self.stream = Some(rustls::StreamOwned::new(conn, tcp));
        if self.connected_once {
            self.reconnects += 1;
        }
        self.connected_once = true;
        Ok(())
    }

    /// GETs `path`: the status and body text.
    pub fn get(&mut self, path: &str) -> Result<(u16, String), String> {
        // A reused connection may have been closed by the server meanwhile: retry once
        // on a fresh one when nothing of the response came.
        for attempt in 0..2 {
            let reused = self.stream.is_some();
            if !reused {
                self.connect()?;
            }
            match self.exchange(path) {
                Ok((status, body, close)) => {
                    if close {
                        self.stream = None;
                    }
                    return Ok((status, body));
                }
                Err((e, nothing_read)) => {
                    self.stream = None;
                    if !(reused && nothing_read && attempt == 0) {
                        return Err(e);
                    }
                }
            }
        }
        unreachable!("the second attempt returns")
    }

    /// One request/response; on error, whether no response byte was read.
    fn exchange(&mut self, path: &str) -> Result<(u16, String, bool), (String, bool)> {
        let stream = self.stream.as_mut().expect("connected");
        let head =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n");
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.flush())
            .map_err(|e| (format!("write: {e}"), true))?;
        let mut raw: Vec<u8> = Vec::with_capacity(1024);
        let mut chunk = [0u8; 8192];
        let head_end = loop {
            if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let n = stream
                .read(&mut chunk)
                .map_err(|e| (format!("read: {e}"), raw.is_empty()))?;
            if n == 0 {
                return Err((
                    "connection closed before the response".to_string(),
                    raw.is_empty(),
                ));
            }
            raw.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status =
            super::client::status_code(lines.next().unwrap_or_default()).map_err(|e| (e, false))?;
        let mut length = None;
        let mut close = false;
        for (name, value) in lines.filter_map(|l| l.split_once(':')) {
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err((format!("unsupported Transfer-Encoding {value}"), false));
            }
        }
        let length = length.ok_or_else(|| ("no Content-Length".to_string(), false))?;
        let body_start = head_end + 4;
        while raw.len() < body_start + length {
            let n = stream
                .read(&mut chunk)
                .map_err(|e| (format!("read body: {e}"), false))?;
            if n == 0 {
                return Err(("connection closed in the body".to_string(), false));
            }
            raw.extend_from_slice(&chunk[..n]);
        }
        let body = String::from_utf8_lossy(&raw[body_start..body_start + length]).into_owned();
        Ok((status, body, close))
    }
}
