//! TLS as clients see it: a client that comes back resumes its session (TLS 1.3
//! tickets) and gets a correct answer; without a ticket the handshake is full; the
//! generated ECDSA P-256 certificate and the RSA X.509 v1 sample both serve.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use common::*;
use rustls::client::Resumption;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, HandshakeKind, ProtocolVersion};

/// GET /status on a new connection with `config`: the handshake kind, the protocol
/// version and the answer.
fn get_status(port: u16, config: &Arc<ClientConfig>) -> (HandshakeKind, ProtocolVersion, String) {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let conn =
        rustls::ClientConnection::new(config.clone(), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(b"GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw);
    let kind = tls.conn.handshake_kind().expect("handshake done");
    let version = tls.conn.protocol_version().expect("handshake done");
    (kind, version, String::from_utf8_lossy(&raw).into_owned())
}

fn answers_status(raw: &str, agent: &Agent) {
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    let body = &raw[raw.find("\r\n\r\n").unwrap() + 4..];
    let status: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(status["pid"], agent.pid());
}

#[test]
fn a_client_that_comes_back_resumes_its_session() {
    let agent = Agent::start(PgCluster::shared());
    let config = Arc::new(common::client::new_tls_config());
    let (kind, version, raw) = get_status(agent.port, &config);
    assert_eq!(kind, HandshakeKind::Full);
    assert_eq!(version, ProtocolVersion::TLSv1_3);
    answers_status(&raw, &agent);
    for _ in 0..3 {
        let (kind, _, raw) = get_status(agent.port, &config);
        assert_eq!(
            kind,
            HandshakeKind::Resumed,
            "the ticket of the last connection"
        );
        answers_status(&raw, &agent);
    }
}

#[test]
fn a_client_without_tickets_gets_full_handshakes() {
    let agent = Agent::start(PgCluster::shared());
    let mut config = common::client::new_tls_config();
    config.resumption = Resumption::disabled();
    let config = Arc::new(config);
    for _ in 0..2 {
        let (kind, _, raw) = get_status(agent.port, &config);
        assert_eq!(kind, HandshakeKind::Full);
        answers_status(&raw, &agent);
    }
}

#[test]
fn tls_1_2_clients_resume_too() {
    let agent = Agent::start(PgCluster::shared());
    let config = Arc::new(common::client::new_tls_config_for(&[
        &rustls::version::TLS12,
    ]));
    let (kind, version, raw) = get_status(agent.port, &config);
    assert_eq!(
        (kind, version),
        (HandshakeKind::Full, ProtocolVersion::TLSv1_2)
    );
    answers_status(&raw, &agent);
    let (kind, _, raw) = get_status(agent.port, &config);
    assert_eq!(kind, HandshakeKind::Resumed);
    answers_status(&raw, &agent);
}

#[test]
fn ecdsa_and_rsa_v1_certificates_serve() {
    // The harness generates an ECDSA P-256 certificate; the v1 sample is RSA.
    for certificate in [Certificate::Generated, Certificate::V1Fixture] {
        let agent = Agent::start_with(
            PgCluster::shared(),
            AgentSetup {
                certificate,
                ..AgentSetup::default()
            },
        );
        let config = Arc::new(common::client::new_tls_config());
        let (_, _, raw) = get_status(agent.port, &config);
        answers_status(&raw, &agent);
    }
}
