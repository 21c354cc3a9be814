//! A throw-away certificate authority and a server certificate it signed for
//! `127.0.0.1` and `localhost`, so the registry can serve https to clients
//! that trust exactly that CA.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::OffsetDateTime;

/// A test CA and a server certificate (with its key) signed by it, as PEM.
/// Every [`TestTls::generate`] makes new keys, so no other CA is trusted
/// by a client that trusts this one.
#[derive(Clone, PartialEq, Eq)]
pub struct TestTls {
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
    /// The server key's SubjectPublicKeyInfo, DER.
    server_spki_der: Vec<u8>,
}

impl fmt::Debug for TestTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestTls").finish_non_exhaustive()
    }
}

/// Where [`TestTls::write_to`] put the PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA certificate: what a client passes as `-c FILE`.
    pub ca: PathBuf,
    /// The server certificate (`http.tls.certificate`).
    pub certificate: PathBuf,
    /// The server's private key, PKCS#8 (`http.tls.key`).
    pub key: PathBuf,
}

impl TestTls {
    /// A new CA (`cleanreg test CA`) and a server certificate for
    /// `127.0.0.1` (IP SAN) and `localhost`, valid from a day ago for a year.
    pub fn generate() -> io::Result<TestTls> {
        let now = OffsetDateTime::now_utc();
        let not_before = now - time::Duration::days(1);
        let not_after = now + time::Duration::days(365);

        let ca_key = KeyPair::generate().map_err(io::Error::other)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(io::Error::other)?;
        ca.distinguished_name
            .push(DnType::CommonName, "cleanreg test CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca.not_before = not_before;
        ca.not_after = not_after;
        let ca_cert = ca.self_signed(&ca_key).map_err(io::Error::other)?;
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().map_err(io::Error::other)?;
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .map_err(io::Error::other)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "cleanreg test registry");
        server.is_ca = IsCa::ExplicitNoCa;
        server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        server.use_authority_key_identifier_extension = true;
        server.not_before = not_before;
        server.not_after = not_after;
        let server_cert = server
            .signed_by(&server_key, &issuer)
            .map_err(io::Error::other)?;

        Ok(TestTls {
            ca_pem: ca_cert.pem(),
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
            server_spki_der: rcgen::PublicKeyData::subject_public_key_info(&server_key),
        })
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server certificate, PEM.
    pub fn server_cert_pem(&self) -> &str {
        &self.server_cert_pem
    }

    /// The server's private key, PKCS#8 PEM.
    pub fn server_key_pem(&self) -> &str {
        &self.server_key_pem
    }

    /// The base64 of the sha256 of the server certificate's
    /// SubjectPublicKeyInfo: what Chromium's
    /// `--ignore-certificate-errors-spki-list` takes to trust this
    /// certificate (and so cache its answers) without installing the CA.
    pub fn server_spki_sha256_base64(&self) -> String {
        use base64::Engine as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(&self.server_spki_der))
    }

    /// Writes `ca.pem`, `server.pem` and `server-key.pem` into `dir`.
    pub fn write_to(&self, dir: &Path) -> io::Result<TlsFiles> {
        let files = TlsFiles {
            ca: dir.join("ca.pem"),
            certificate: dir.join("server.pem"),
            key: dir.join("server-key.pem"),
        };
        fs::write(&files.ca, &self.ca_pem)?;
        fs::write(&files.certificate, &self.server_cert_pem)?;
        fs::write(&files.key, &self.server_key_pem)?;
        Ok(files)
    }

    /// A ureq agent that trusts this CA and nothing else, does not treat
    /// 4xx/5xx as errors, and gives up after `timeout`.
    pub fn agent(&self, timeout: Duration) -> io::Result<ureq::Agent> {
        let ca =
            ureq::tls::Certificate::from_pem(self.ca_pem.as_bytes()).map_err(io::Error::other)?;
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::new_with_certs(&[ca]))
            .build();
        Ok(ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .tls_config(tls)
            .build()
            .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_generation_is_a_new_ca_written_as_three_pem_files() {
        let one = TestTls::generate().unwrap();
        let two = TestTls::generate().unwrap();
        assert_ne!(one.ca_pem(), two.ca_pem());
        let dir = tempfile::tempdir().unwrap();
        let files = one.write_to(dir.path()).unwrap();
        let read = |path: &Path| fs::read_to_string(path).unwrap();
        assert_eq!(read(&files.ca), one.ca_pem());
        assert!(read(&files.ca).starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(read(&files.certificate).starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(read(&files.key).starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(!format!("{one:?}").contains("PRIVATE"));
        let spki = one.server_spki_sha256_base64();
        assert_eq!(spki.len(), 44, "{spki}");
        assert_ne!(spki, two.server_spki_sha256_base64());
        one.agent(Duration::from_secs(1)).unwrap();
    }
}
