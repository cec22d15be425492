//! The server side of a TLS handshake, by crypto provider (ring, aws-lc-rs) and by
//! certificate key (ECDSA P-256, RSA 2048), full and resumed (TLS 1.3 tickets): the
//! cost the agent pays for each new connection of a client such as the temBoard UI.
//! In memory (`support/handshake.rs`): only the server's calls are timed. It prints
//! the median server time per handshake of each case; the agent uses the provider
//! that is faster here (docs/performance.md).
//!
//! Run: `cargo bench --bench tls_handshakes` (a few seconds). Without `--bench` on the
//! command line, a smoke pass of a few handshakes.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/handshake.rs"]
mod handshake;

const HANDSHAKES: usize = 400;
const SMOKE_HANDSHAKES: usize = 3;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { HANDSHAKES } else { SMOKE_HANDSHAKES };
    println!(
        "{:<12} {:<14} {:>20} {:>22}",
        "provider", "key", "full handshake µs", "resumed handshake µs"
    );
    for p in &handshake::PROVIDERS {
        for (key_name, (chain, key)) in [
            ("ECDSA P-256", handshake::ecdsa_p256()),
            ("RSA 2048", handshake::rsa_2048()),
        ] {
            let (full_us, resumed_us) = handshake::measure(p, chain, &key, n);
            println!(
                "{:<12} {:<14} {:>20.0} {:>22.0}",
                p.name, key_name, full_us, resumed_us
            );
        }
    }
}
