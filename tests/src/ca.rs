//! A certificate authority made at test time, and a server certificate it signs for loopback and
//! for the CDN names tests pin to loopback through haul's `[resolve]` table.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PublicKeyData,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Names the server certificate is valid for.
pub const SERVER_NAMES: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "::1",
    "media.test",
    "m.media-amazon.com",
    "images-na.ssl-images-amazon.com",
    "ae01.alicdn.com",
    "ae-pic-a1.aliexpress-media.com",
    "s.alicdn.com",
    "cbu01.alicdn.com",
    "i.ebayimg.com",
    "i.etsystatic.com",
    "www.amazon.com",
    "www.aliexpress.com",
];

/// A test CA with one server certificate.
pub struct TestCa {
    /// PEM of the CA certificate (what haul's `extra_ca_file` points at).
    pub ca_pem: String,
    server_cert: CertificateDer<'static>,
    server_key: PrivatePkcs8KeyDer<'static>,
    /// DER SubjectPublicKeyInfo of the server key (what Chromium pins).
    server_spki: Vec<u8>,
}

impl TestCa {
    /// Makes a fresh CA and server certificate for [`SERVER_NAMES`].
    pub fn new() -> TestCa {
        TestCa::with_names(&[])
    }

    /// Makes a fresh CA and a server certificate for [`SERVER_NAMES`] and `extra` (the hosts of
    /// saved pages a test serves).
    pub fn with_names(extra: &[&str]) -> TestCa {
        let ca_key = KeyPair::generate().expect("generate CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "haul test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("self-sign CA");

        let server_key = KeyPair::generate().expect("generate server key");
        let mut names: Vec<String> = SERVER_NAMES.iter().map(|s| s.to_string()).collect();
        for name in extra {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        let mut params = CertificateParams::new(names).expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "haul test media server");
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params
            .signed_by(&server_key, &ca)
            .expect("sign server certificate");
        TestCa {
            ca_pem: ca.pem(),
            server_cert: cert.der().clone(),
            server_spki: server_key.subject_public_key_info(),
            server_key: PrivatePkcs8KeyDer::from(server_key.serialize_der()),
        }
    }

    /// Writes the CA certificate as PEM into `dir` and returns its path.
    pub fn write_ca_pem(&self, dir: &Path) -> PathBuf {
        let path = dir.join("test-ca.pem");
        std::fs::write(&path, &self.ca_pem).expect("write CA PEM");
        path
    }

    /// Base64 of the SHA-256 of the server key's SubjectPublicKeyInfo: the value Chromium's
    /// `--ignore-certificate-errors-spki-list` takes, so a browser trusts this server (and only
    /// this one) without touching any certificate store.
    pub fn server_spki_sha256_base64(&self) -> String {
        use base64::Engine as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&self.server_spki))
    }

    /// A rustls server config offering HTTP/2 and HTTP/1.1.
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![self.server_cert.clone()],
                PrivateKeyDer::Pkcs8(self.server_key.clone_key()),
            )
            .expect("server certificate");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}
