//! `wss://` the way users have it: a server whose certificate a private CA issued
//! (generated here with rcgen). With `--ca-cert` (or `Suite::ca_cert`) the run
//! passes; without it, or under a name the certificate does not list, or against a
//! server that does not speak TLS, `wsspec run` exits 2 with one line naming the TLS
//! problem (not "is the server running?").

use futures_util::{SinkExt, StreamExt};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA (PEM) and a `localhost` server certificate it signed (DER + key).
struct Pki {
    ca_pem: String,
    server_cert: CertificateDer<'static>,
    server_key: PrivateKeyDer<'static>,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "wsspec test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    // Only the name `localhost`: wss://127.0.0.1 is then a hostname mismatch.
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        server_cert: cert.der().clone(),
        server_key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    }
}

/// A TLS echo server (tokio-rustls + tokio-tungstenite) on 127.0.0.1; stops when the
/// runtime ends.
async fn tls_echo(p: &Pki) -> SocketAddr {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![p.server_cert.clone()], p.server_key.clone_key())
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut ws) = tokio_tungstenite::accept_async(tls).await else {
                    return;
                };
                while let Some(Ok(m)) = ws.next().await {
                    if (m.is_text() || m.is_binary()) && ws.send(m).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

async fn wsspec(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_wsspec"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn run_args(url: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "run",
        url,
        "-c",
        "1.1.*",
        "--no-write",
        "-q",
        "--timeout",
        "3",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write_ca(dir: &Path, p: &Pki) -> String {
    let f = dir.join("ca.pem");
    std::fs::write(&f, &p.ca_pem).unwrap();
    f.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_ca_passes_and_tls_failures_say_what_they_are() {
    let p = pki();
    let addr = tls_echo(&p).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = write_ca(dir.path(), &p);
    let url = format!("wss://localhost:{}/", addr.port());

    let o = wsspec(run_args(&url, &["--ca-cert", &ca])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Untrusted: one line, names the problem and both ways out.
    let o = wsspec(run_args(&url, &[])).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("is not trusted (unknown issuer"), "{e}");
    assert!(e.contains("--ca-cert") && e.contains("--insecure"), "{e}");
    assert!(!e.contains("Is the server running"), "{e}");

    // --insecure still accepts it.
    let o = wsspec(run_args(&url, &["--insecure"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Trusted CA, but a name the certificate does not list.
    let ip_url = format!("wss://127.0.0.1:{}/", addr.port());
    let o = wsspec(run_args(&ip_url, &["--ca-cert", &ca])).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("is not valid for the name `127.0.0.1`"), "{e}");
    assert!(e.contains("hostname mismatch"), "{e}");

    // A plain ws:// server behind a wss:// URL.
    let plain = wsspec::server::start(0).await.unwrap();
    let o = wsspec(run_args(
        &format!("wss://localhost:{}/", plain.addr.port()),
        &[],
    ))
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is it serving TLS? use ws:// for plain TCP"),
        "{}",
        stderr(&o)
    );

    // A --ca-cert file that holds no certificate is a usage error.
    let bogus = dir.path().join("bogus.pem");
    std::fs::write(&bogus, "not a certificate\n").unwrap();
    let o = wsspec(run_args(&url, &["--ca-cert", bogus.to_str().unwrap()])).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no `-----BEGIN CERTIFICATE-----`"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_api_takes_the_ca_too() {
    let p = pki();
    let addr = tls_echo(&p).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = write_ca(dir.path(), &p);
    let url = format!("wss://localhost:{}/", addr.port());
    // Section 1 only: plain echo cases, no timers, so a loaded machine cannot flake it.
    let suite = wsspec::Suite::new().cases(["1.*"]);
    let report = suite.clone().ca_cert(&ca).test_server(&url).await.unwrap();
    assert!(report.results().count() >= 16);
    report.assert_known_failing(dir.path().join("none.txt"));
    let e = suite.test_server(&url).await.unwrap_err();
    assert!(e.to_string().contains("not trusted"), "{e}");
}
