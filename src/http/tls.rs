//! TLS for the HTTPS server: the certificate chain and key from the configuration,
//! handed to rustls through a fixed certificate resolver. The resolver matters: rustls
//! refuses to parse X.509 v1 certificates when it checks that a key matches its
//! certificate, and the sample certificates of temboard-agent are v1. Those are still
//! served (with a warning); a v3 certificate is checked against its key at start-up.
//!
//! Resumption: TLS 1.3 session tickets (stateless, encrypted with keys that rustls's
//! `Ticketer` rotates every 6 hours) and, for TLS 1.2, a session-id cache of
//! `SESSION_CACHE` entries. A client that resumes (the temBoard UI opens a new
//! connection per request) skips the certificate signature, the costly part of a
//! handshake. RSA and ECDSA (P-256, P-384) and Ed25519 keys are accepted; ECDSA
//! P-256 is the cheaper to sign with. The crypto provider is aws-lc-rs, faster than
//! ring here (benches/tls_handshakes.rs).

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::aws_lc_rs;
use rustls::server::{ClientHello, ResolvesServerCert, ServerSessionMemoryCache};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// TLS 1.2 sessions remembered for resumption: about the connections a busy agent
/// sees in a few minutes (a few hundred bytes each).
const SESSION_CACHE: usize = 4096;

#[derive(Debug)]
struct FixedCertificate(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// What loading found, for the start-up log.
pub struct LoadedTls {
    pub config: ServerConfig,
    pub x509_v1: bool,
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: cannot read certificate: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: invalid PEM certificate: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate found", path.display()));
    }
    Ok(certs)
}

/// `cert_file` holds the certificate, then any intermediate certificates of its chain.
pub fn load(cert_file: &Path, key_file: &Path) -> Result<LoadedTls, String> {
    let chain = read_certificates(cert_file)?;
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("{}: cannot read private key: {e}", key_file.display()))?;
    let signing_key = aws_lc_rs::sign::any_supported_type(&key)
        .map_err(|e| format!("{}: unsupported private key: {e}", key_file.display()))?;
    let x509_v1 = is_x509_v1(&chain[0]);
    let certified = CertifiedKey::new(chain, signing_key);
    if !x509_v1 {
        certified.keys_match().map_err(|e| {
            format!(
                "{} does not match {}: {e}",
                key_file.display(),
                cert_file.display()
            )
        })?;
    }
    let mut config = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(FixedCertificate(Arc::new(certified))));
    config.session_storage = ServerSessionMemoryCache::new(SESSION_CACHE);
    config.ticketer =
        aws_lc_rs::Ticketer::new().map_err(|e| format!("TLS session tickets: {e}"))?;
    Ok(LoadedTls { config, x509_v1 })
}

/// A DER certificate is v1 when its TBSCertificate has no explicit `[0]` version field.
fn is_x509_v1(cert: &[u8]) -> bool {
    fn skip_header(der: &[u8]) -> Option<&[u8]> {
        // SEQUENCE tag, then a short or long form length.
        if der.first()? != &0x30 {
            return None;
        }
        let first = *der.get(1)?;
        let header = if first & 0x80 == 0 {
            2
        } else {
            2 + (first & 0x7f) as usize
        };
        der.get(header..)
    }
    skip_header(cert)
        .and_then(skip_header)
        .and_then(|tbs| tbs.first().copied())
        .is_some_and(|tag| tag != 0xa0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_CERT: &str = include_str!("../../tests/fixtures/v1-cert.pem");
    const V1_KEY: &str = include_str!("../../tests/fixtures/v1-key.pem");

    #[test]
    fn detects_v1_and_v3() {
        let v1 = CertificateDer::from_pem_slice(V1_CERT.as_bytes()).unwrap();
        assert!(is_x509_v1(&v1));
        let v3 = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        assert!(!is_x509_v1(v3.cert.der()));
        assert!(!is_x509_v1(&[]));
    }

    #[test]
    fn loads_a_v1_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&cert, V1_CERT).unwrap();
        std::fs::write(&key, V1_KEY).unwrap();
        assert!(load(&cert, &key).unwrap().x509_v1);
    }

    #[test]
    fn refuses_a_key_of_another_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let a = rcgen::generate_simple_self_signed(vec!["a".into()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["b".into()]).unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&cert, a.cert.pem()).unwrap();
        std::fs::write(&key, b.key_pair.serialize_pem()).unwrap();
        let err = load(&cert, &key).err().unwrap();
        assert!(err.contains("does not match"), "{err}");
    }

    #[test]
    fn a_file_without_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&cert, "").unwrap();
        std::fs::write(&key, V1_KEY).unwrap();
        let err = load(&cert, &key).err().unwrap();
        assert!(err.contains("no certificate found"), "{err}");
    }

    #[test]
    fn missing_files_are_named() {
        let err = load(Path::new("/nonexistent/c.pem"), Path::new("/x"))
            .err()
            .unwrap();
        assert!(err.contains("/nonexistent/c.pem"), "{err}");
    }
}
