//! Reaching a target: parse its URL, open TCP (and TLS for `wss://`), perform the
//! opening handshake as raw bytes. Every wait is bounded by a timeout.

use crate::error::Error;
use crate::wire::handshake;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::rustls::pki_types::CertificateDer;

/// Anything we can speak WebSocket over.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Where the cases go.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL as given (for reports).
    pub url: String,
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// Request target: path plus query.
    pub resource: String,
    /// Value of the `Host` header (port always included, as Autobahn does).
    pub host_header: String,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// Extra trusted CA certificates for `wss://` (`--ca-cert`), besides the web roots.
    pub ca_certs: Arc<Vec<CertificateDer<'static>>>,
    /// Extra request headers (`Origin`, `Sec-WebSocket-Protocol`…).
    pub extra_headers: Vec<(String, String)>,
}

impl Target {
    /// Parse a `ws://` or `wss://` URL.
    pub fn parse(url: &str) -> Result<Target, Error> {
        let u = url::Url::parse(url).map_err(|e| {
            Error::Usage(format!(
                "invalid target URL `{url}`: {e} (expected e.g. ws://127.0.0.1:9001/path)"
            ))
        })?;
        let tls = match u.scheme() {
            "ws" => false,
            "wss" => true,
            other => {
                return Err(Error::Usage(format!(
                    "unsupported URL scheme `{other}` in `{url}`: use ws:// or wss://"
                )))
            }
        };
        let host = u
            .host_str()
            .ok_or_else(|| Error::Usage(format!("target URL `{url}` has no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = u
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 });
        let mut resource = u.path().to_string();
        if resource.is_empty() {
            resource.push('/');
        }
        if let Some(q) = u.query() {
            resource.push('?');
            resource.push_str(q);
        }
        let host_header = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(Target {
            url: url.to_string(),
            host,
            port,
            tls,
            resource,
            host_header,
            insecure: false,
            ca_certs: Arc::default(),
            extra_headers: Vec::new(),
        })
    }
}

/// Protocol timeouts and limits of the tester (Autobahn's defaults where it has one).
#[derive(Debug, Clone)]
pub struct Settings {
    /// TCP connect (and TLS) timeout.
    pub connect_timeout: Duration,
    /// Opening handshake: from connect until the whole 101 response is read.
    pub open_handshake_timeout: Duration,
    /// After the tester sends close, how long it waits for the peer's close.
    pub close_handshake_timeout: Duration,
    /// After the closing handshake, how long the tester waits for the server to drop TCP.
    pub server_drop_timeout: Duration,
    /// Largest frame or message accepted from the peer.
    pub max_message: u64,
    /// Largest HTTP response head accepted.
    pub max_head: usize,
    /// Trace rows kept per case.
    pub trace_cap: usize,
    pub user_agent: String,
    /// Origins the server is meant to accept (`--origin-allow`); without a list, Origin
    /// cases are informational.
    pub origin_allow: Option<Vec<String>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connect_timeout: Duration::from_secs(5),
            open_handshake_timeout: Duration::from_secs(5),
            close_handshake_timeout: Duration::from_secs(1),
            server_drop_timeout: Duration::from_secs(1),
            max_message: 64 << 20,
            max_head: 16 << 10,
            trace_cap: 4000,
            user_agent: format!("wsspec/{}", env!("CARGO_PKG_VERSION")),
            origin_allow: None,
        }
    }
}

/// Open TCP (and TLS) to the target.
pub async fn connect(target: &Target, settings: &Settings) -> Result<Box<dyn Io>, String> {
    connect_detailed(target, settings)
        .await
        .map_err(|e| match e {
            ConnectError::Tcp(m) | ConnectError::Tls(m) => m,
        })
}

/// Why [`connect_detailed`] failed: TCP (nothing listening, timeout) or TLS (certificate,
/// name, handshake), so that each can be reported for what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    Tcp(String),
    Tls(String),
}

/// [`connect`], telling TCP failures from TLS ones.
pub async fn connect_detailed(
    target: &Target,
    settings: &Settings,
) -> Result<Box<dyn Io>, ConnectError> {
    let addr = (target.host.as_str(), target.port);
    let tcp = match timeout(settings.connect_timeout, TcpStream::connect(addr)).await {
        Err(_) => {
            return Err(ConnectError::Tcp(format!(
                "TCP connect to {}:{} timed out",
                target.host, target.port
            )))
        }
        Ok(Err(e)) => {
            return Err(ConnectError::Tcp(format!(
                "cannot connect to {}:{}: {e}",
                target.host, target.port
            )))
        }
        Ok(Ok(s)) => s,
    };
    let _ = tcp.set_nodelay(true);
    if !target.tls {
        return Ok(Box::new(tcp));
    }
    let connector = tokio_rustls::TlsConnector::from(tls_config(target));
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(target.host.clone())
        .map_err(|e| ConnectError::Tls(format!("invalid TLS server name {}: {e}", target.host)))?;
    match timeout(settings.connect_timeout, connector.connect(name, tcp)).await {
        Err(_) => Err(ConnectError::Tls(format!(
            "TLS handshake with {}:{} timed out (is it serving TLS? use ws:// for plain TCP)",
            target.host, target.port
        ))),
        Ok(Err(e)) => Err(ConnectError::Tls(describe_tls_error(target, &e))),
        Ok(Ok(s)) => Ok(Box::new(s)),
    }
}

/// One line saying which TLS problem ended the handshake, and what to do about it.
fn describe_tls_error(target: &Target, e: &std::io::Error) -> String {
    use tokio_rustls::rustls::{CertificateError, Error as TlsError};
    let hint =
        "pass --ca-cert FILE with the CA's PEM certificate, or --insecure to skip verification";
    let server = format!("{}:{}", target.host, target.port);
    let tls = e.get_ref().and_then(|i| i.downcast_ref::<TlsError>());
    match tls {
        Some(TlsError::InvalidCertificate(c)) => match c {
            CertificateError::UnknownIssuer => format!(
                "TLS: the certificate of {server} is not trusted (unknown issuer: self-signed or \
                 signed by a private CA); {hint}"
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "TLS: the certificate of {server} is not valid for the name `{}` (hostname \
                     mismatch: connect with a name the certificate lists, or --insecure)",
                    target.host
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => format!(
                "TLS: the certificate of {server} has expired; renew it, or --insecure to skip verification"
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => format!(
                "TLS: the certificate of {server} is not valid yet (check the clocks), or --insecure"
            ),
            other => format!("TLS: the certificate of {server} was rejected ({other:?}); {hint}"),
        },
        Some(TlsError::InvalidMessage(_)) | Some(TlsError::InappropriateHandshakeMessage { .. }) => {
            format!(
                "TLS handshake with {server} failed: the server does not speak TLS ({e}); \
                 use ws:// for plain TCP"
            )
        }
        Some(other) => format!("TLS handshake with {server} failed: {other}"),
        None if matches!(
            e.kind(),
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
        ) =>
        {
            format!(
                "TLS handshake with {server} failed: the server closed the connection ({e}); \
                 is it serving TLS? use ws:// for plain TCP"
            )
        }
        None => format!("TLS handshake with {server} failed: {e}"),
    }
}

/// Read every certificate of a PEM file (`--ca-cert`); a file without one is an error.
pub fn load_ca_certs(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    let shown = path.display();
    let text = std::fs::read(path).map_err(|e| Error::Io(format!("--ca-cert {shown}: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::Usage(format!(
                "--ca-cert {shown}: not a PEM certificate file: {e}"
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::Usage(format!(
            "--ca-cert {shown}: no `-----BEGIN CERTIFICATE-----` block in the file"
        )));
    }
    Ok(certs)
}

/// The certificates of every `--ca-cert` file, shared by every target of a run.
pub fn load_ca_files(
    files: &[std::path::PathBuf],
) -> Result<Arc<Vec<CertificateDer<'static>>>, Error> {
    let mut certs = Vec::new();
    for p in files {
        certs.extend(load_ca_certs(p)?);
    }
    Ok(Arc::new(certs))
}

/// The target for `url` with the TLS trust and extra headers of a run (`wsspec run` and the
/// library API).
pub fn target_for(
    url: &str,
    insecure: bool,
    ca_certs: &Arc<Vec<CertificateDer<'static>>>,
    origin: Option<&str>,
    protocols: &[String],
) -> Result<Target, Error> {
    let mut target = Target::parse(url)?;
    target.insecure = insecure;
    target.ca_certs = ca_certs.clone();
    if let Some(o) = origin {
        target.extra_headers.push(("Origin".into(), o.to_string()));
    }
    if !protocols.is_empty() {
        target
            .extra_headers
            .push(("Sec-WebSocket-Protocol".into(), protocols.join(", ")));
    }
    Ok(target)
}

fn tls_config(target: &Target) -> Arc<tokio_rustls::rustls::ClientConfig> {
    use tokio_rustls::rustls;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions");
    let config = if target.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(insecure::AcceptAny(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        // A certificate rustls cannot parse as a trust anchor is reported by the handshake
        // as an untrusted issuer, which names --ca-cert.
        let _ = roots.add_parsable_certificates(target.ca_certs.iter().cloned());
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Arc::new(config)
}

mod insecure {
    //! `--insecure`: accept any server certificate (self-signed test servers).
    use tokio_rustls::rustls::client::danger::{
        HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
    };
    use tokio_rustls::rustls::crypto::{
        verify_tls12_signature, verify_tls13_signature, CryptoProvider,
    };
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use tokio_rustls::rustls::{DigitallySignedStruct, Error, SignatureScheme};

    #[derive(Debug)]
    pub struct AcceptAny(pub std::sync::Arc<CryptoProvider>);

    impl ServerCertVerifier for AcceptAny {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}

/// What the opening handshake produced.
pub struct Opened {
    pub request: Vec<u8>,
    pub response: handshake::Response,
    pub response_text: String,
    /// Bytes that came after the response head (the first frames).
    pub leftover: Vec<u8>,
}

/// Why the opening handshake did not complete.
#[derive(Debug)]
pub struct HandshakeFailure {
    pub reason: String,
    pub request: Vec<u8>,
    /// Whatever the peer sent (possibly nothing).
    pub received: Vec<u8>,
    pub timed_out: bool,
}

/// Send the opening request and read the response, bounded in time and size.
pub async fn open(
    io: &mut Box<dyn Io>,
    target: &Target,
    settings: &Settings,
) -> Result<Opened, HandshakeFailure> {
    let key = handshake::generate_key();
    let request = handshake::build_request(
        &target.resource,
        &target.host_header,
        &key,
        &settings.user_agent,
        &target.extra_headers,
    );
    let fail = |reason: String, received: Vec<u8>, timed_out: bool| HandshakeFailure {
        reason,
        request: request.clone(),
        received,
        timed_out,
    };
    let work = async {
        io.write_all(&request)
            .await
            .map_err(|e| (format!("writing the opening request failed: {e}"), false))?;
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 4096];
        loop {
            match handshake::parse_response(&buf, settings.max_head) {
                Ok(Some(resp)) => return Ok((resp, buf)),
                Ok(None) => {}
                Err(e) => return Err((e.to_string(), false)),
            }
            let n = io
                .read(&mut chunk)
                .await
                .map_err(|e| (format!("reading the opening response failed: {e}"), false))?;
            if n == 0 {
                return Err((
                    "the peer closed the connection during the opening handshake".to_string(),
                    false,
                ));
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    let (resp, buf) = match timeout(settings.open_handshake_timeout, work).await {
        Err(_) => {
            return Err(fail(
                format!(
                    "no complete opening handshake response within {:?}",
                    settings.open_handshake_timeout
                ),
                Vec::new(),
                true,
            ))
        }
        Ok(Err((reason, t))) => return Err(fail(reason, Vec::new(), t)),
        Ok(Ok(x)) => x,
    };
    let head = buf[..resp.head_len.min(buf.len())].to_vec();
    if let Err(reason) = handshake::check_response(&resp, &key) {
        return Err(fail(reason, head, false));
    }
    Ok(Opened {
        request,
        response_text: String::from_utf8_lossy(&head).into_owned(),
        leftover: buf[resp.head_len.min(buf.len())..].to_vec(),
        response: resp,
    })
}

/// Whether a response head starts with a `101` status line.
fn switches_protocols(received: &[u8]) -> bool {
    let line = received.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    matches!(parts.next(), Some(v) if v.starts_with(b"HTTP/")) && parts.next() == Some(b"101")
}

/// Connect, handshake and close once, to tell early whether the target works at all.
/// Returns the agent name the server announces (`Server` header), if any.
pub async fn probe(target: &Target, settings: &Settings) -> Result<Option<String>, Error> {
    let mut io = connect_detailed(target, settings)
        .await
        .map_err(|e| match e {
            ConnectError::Tcp(e) => Error::Target(format!(
                "{e}. Is the server running at {}? (check the URL and port)",
                target.url
            )),
            ConnectError::Tls(e) => Error::Target(e),
        })?;
    let opened = match open(&mut io, target, settings).await {
        Ok(o) => o,
        // A target that answers 101 is a WebSocket server: its handshake mistakes (a
        // wrong Sec-WebSocket-Accept, a missing Upgrade…) are conformance failures, which
        // every case then reports with the response in its trace (exit 1), not a
        // harness error.
        Err(f) if switches_protocols(&f.received) => {
            eprintln!(
                "wsspec: warning: {} answered 101 but broke the opening handshake ({}); \
                 running the cases, which will fail",
                target.url, f.reason
            );
            return Ok(None);
        }
        Err(f) => {
            return Err(Error::Target(format!(
                "{} did not complete a WebSocket handshake: {}",
                target.url, f.reason
            )))
        }
    };
    // A polite close: masked close frame 1000, then wait briefly for the reply.
    let close = crate::wire::frame::encode_frame(
        true,
        0,
        8,
        Some(rand::random()),
        crate::case::Length::Minimal,
        &1000u16.to_be_bytes(),
    );
    let _ = timeout(Duration::from_secs(1), async {
        io.write_all(&close).await?;
        let mut b = [0u8; 512];
        while io.read(&mut b).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
    Ok(opened.response.header("Server").map(str::to_string))
}
