//! In-memory TLS handshakes for the benchmarks: a rustls client and server hand each
//! other their records, no socket, and only the server's calls are timed: the CPU the
//! agent pays for a new connection, full or resumed (TLS 1.3 tickets). The server is
//! configured as the agent's (`src/http/tls.rs`: the provider's `Ticketer`, a session
//! cache).
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::ServerSessionMemoryCache;
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection};

use crate::common::client;

pub struct Provider {
    pub name: &'static str,
    pub provider: fn() -> CryptoProvider,
    pub ticketer: fn() -> Arc<dyn rustls::server::ProducesTickets>,
}

/// The provider `src/http/tls.rs` configures.
pub const AGENT_PROVIDER: &str = "aws-lc-rs";

pub const PROVIDERS: [Provider; 2] = [
    Provider {
        name: "ring",
        provider: rustls::crypto::ring::default_provider,
        ticketer: || rustls::crypto::ring::Ticketer::new().unwrap(),
    },
    Provider {
        name: "aws-lc-rs",
        provider: rustls::crypto::aws_lc_rs::default_provider,
        ticketer: || rustls::crypto::aws_lc_rs::Ticketer::new().unwrap(),
    },
];

pub fn server_config(
    p: &Provider,
    chain: Vec<CertificateDer<'static>>,
    key_pem: &str,
) -> Arc<ServerConfig> {
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let mut config = ServerConfig::builder_with_provider(Arc::new((p.provider)()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    config.session_storage = ServerSessionMemoryCache::new(4096);
    config.ticketer = (p.ticketer)();
    Arc::new(config)
}

/// Moves the pending records of one side to the other.
fn pump_to_server(from: &mut ClientConnection, to: &mut ServerConnection) {
    let mut buf = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut buf).unwrap();
    }
    let mut rd = &buf[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd).unwrap();
    }
}

/// One handshake; answers the server's time in it (its record processing and
/// writing), and whether it was resumed.
pub fn handshake(server: &Arc<ServerConfig>, client: &Arc<ClientConfig>) -> (Duration, bool) {
    let mut c =
        ClientConnection::new(client.clone(), ServerName::try_from("localhost").unwrap()).unwrap();
    let mut s = ServerConnection::new(server.clone()).unwrap();
    let mut server_time = Duration::ZERO;
    for _ in 0..10 {
        pump_to_server(&mut c, &mut s);
        let t = Instant::now();
        s.process_new_packets().unwrap();
        let mut buf = Vec::new();
        while s.wants_write() {
            s.write_tls(&mut buf).unwrap();
        }
        server_time += t.elapsed();
        let mut rd = &buf[..];
        while !rd.is_empty() {
            c.read_tls(&mut rd).unwrap();
        }
        c.process_new_packets().unwrap();
        if !c.is_handshaking() && !s.is_handshaking() && !c.wants_write() {
            break;
        }
    }
    let resumed = s.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
    (server_time, resumed)
}

pub fn median_us(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e6
}

/// The generated ECDSA P-256 certificate (as the quick start's) and its key.
pub fn ecdsa_p256() -> (Vec<CertificateDer<'static>>, String) {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    (
        vec![generated.cert.der().clone()],
        generated.key_pair.serialize_pem(),
    )
}

/// A v3 certificate for the RSA 2048 key of the tests' sample (whose own
/// certificate is X.509 v1, which rustls does not check keys against).
pub fn rsa_2048() -> (Vec<CertificateDer<'static>>, String) {
    let key = include_str!("../../tests/fixtures/v1-key.pem");
    let pair = rcgen::KeyPair::from_pem(key).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&pair)
        .unwrap();
    (vec![cert.der().clone()], key.to_string())
}

/// Median server time of `n` full and of `n` resumed handshakes, in µs.
pub fn measure(
    p: &Provider,
    chain: Vec<CertificateDer<'static>>,
    key: &str,
    n: usize,
) -> (f64, f64) {
    let server = server_config(p, chain, key);
    let never = {
        let mut c = client::new_tls_config();
        c.resumption = rustls::client::Resumption::disabled();
        Arc::new(c)
    };
    let fulls: Vec<Duration> = (0..n).map(|_| handshake(&server, &never).0).collect();
    let resuming = Arc::new(client::new_tls_config());
    handshake(&server, &resuming);
    let resumed: Vec<Duration> = (0..n)
        .map(|_| {
            let (t, resumed) = handshake(&server, &resuming);
            assert!(resumed, "{}: the handshake resumed", p.name);
            t
        })
        .collect();
    (median_us(fulls), median_us(resumed))
}
