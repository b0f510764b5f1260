//! The node's TLS identity: a self-signed CA (`pve-root-ca.pem`, as PVE's cluster CA)
//! and a server certificate signed by it (`pve-ssl.pem`). Clients verify the server
//! through the CA file or its SHA-256 fingerprint, never by skipping verification.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::fsutil::{write_atomic, write_private};

/// Errors while creating or loading the TLS identity.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a PEM certificate/key ({message}); delete the TLS files to regenerate")]
    Pem { path: PathBuf, message: String },
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
}

/// File names inside the TLS directory, named as on a PVE node.
pub const CA_CERT: &str = "pve-root-ca.pem";
pub const CA_KEY: &str = "pve-root-ca.key";
pub const SERVER_CERT: &str = "pve-ssl.pem";
pub const SERVER_KEY: &str = "pve-ssl.key";

/// Paths of the node's TLS material.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub dir: PathBuf,
}

impl TlsFiles {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        TlsFiles { dir: dir.into() }
    }
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join(CA_CERT)
    }
    pub fn server_cert(&self) -> PathBuf {
        self.dir.join(SERVER_CERT)
    }
    pub fn server_key(&self) -> PathBuf {
        self.dir.join(SERVER_KEY)
    }

    /// Creates CA and server certificate unless both exist. `names` become the server
    /// certificate's subject alternative names (DNS names or IP addresses).
    pub fn ensure(&self, names: &[String]) -> Result<(), TlsError> {
        if self.ca_cert().is_file() && self.server_cert().is_file() && self.server_key().is_file() {
            return Ok(());
        }
        let io = |path: PathBuf| move |source| TlsError::Io { path, source };

        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "pve-testhost Root CA");
        ca_params
            .distinguished_name
            .push(DnType::OrganizationName, "PVE Cluster Manager CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca_params.self_signed(&ca_key)?;

        let mut params = CertificateParams::new(names.to_vec())?;
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_else(|| "localhost".into()),
        );
        params
            .distinguished_name
            .push(DnType::OrganizationName, "PVE Cluster Node");
        let key = KeyPair::generate()?;
        let issuer = Issuer::new(ca_params, ca_key);
        let cert = params.signed_by(&key, &issuer)?;

        write_private(
            &self.dir.join(CA_KEY),
            issuer.key().serialize_pem().as_bytes(),
        )
        .map_err(io(self.dir.join(CA_KEY)))?;
        write_atomic(&self.ca_cert(), ca_cert.pem().as_bytes(), 0o644)
            .map_err(io(self.ca_cert()))?;
        write_private(&self.server_key(), key.serialize_pem().as_bytes())
            .map_err(io(self.server_key()))?;
        write_atomic(&self.server_cert(), cert.pem().as_bytes(), 0o644)
            .map_err(io(self.server_cert()))?;
        Ok(())
    }

    /// SHA-256 fingerprint of the CA certificate, `AA:BB:...` as PVE prints fingerprints.
    pub fn ca_fingerprint(&self) -> Result<String, TlsError> {
        fingerprint_of(&self.ca_cert())
    }

    /// SHA-256 fingerprint of the server certificate.
    pub fn server_fingerprint(&self) -> Result<String, TlsError> {
        fingerprint_of(&self.server_cert())
    }

    /// A rustls server configuration speaking HTTP/1.1 only, because PVE's reason
    /// phrases only exist in HTTP/1.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let certs = load_certs(&self.server_cert())?;
        let key_path = self.server_key();
        let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| TlsError::Pem {
            path: key_path.clone(),
            message: e.to_string(),
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Loads every certificate in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_err = |message: String| TlsError::Pem {
        path: path.to_path_buf(),
        message,
    };
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_err(e.to_string()))?
        .collect();
    let certs = certs.map_err(|e| pem_err(e.to_string()))?;
    if certs.is_empty() {
        return Err(pem_err("no certificate found".into()));
    }
    Ok(certs)
}

/// `AA:BB:..` SHA-256 fingerprint of the first certificate in a PEM file.
pub fn fingerprint_of(path: &Path) -> Result<String, TlsError> {
    let certs = load_certs(path)?;
    Ok(fingerprint(certs[0].as_ref()))
}

/// `AA:BB:..` SHA-256 fingerprint of DER bytes.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
