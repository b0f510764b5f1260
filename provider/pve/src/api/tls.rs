//! TLS trust for the PVE endpoint: verified by default, against the system roots, a CA
//! certificate, or a pinned SHA-256 fingerprint of the server certificate.
//!
//! PVE nodes usually run a self-signed certificate, and the web UI shows its fingerprint as
//! `AA:BB:...`; pinning that fingerprint is the simplest correct way to trust such a node.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// A SHA-256 certificate fingerprint.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// Parses `AA:BB:...` or `aabb...` (64 hex digits, colons optional, any case).
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let hexdigits: String = text.trim().chars().filter(|c| *c != ':').collect();
        let bad = || {
            ApiError::Config {
            attribute: "tls_fingerprint",
            message: format!(
                "'{text}' is not a SHA-256 fingerprint; expected 64 hex digits, with or without colons (as shown under Datacenter > Node > Certificates)"
            ),
        }
        };
        if hexdigits.len() != 64 {
            return Err(bad());
        }
        let bytes = hex::decode(&hexdigits).map_err(|_| bad())?;
        let mut out = [0u8; 32];
        out.copy_from_slice(&bytes);
        Ok(Self(out))
    }

    /// The fingerprint of a DER certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|b| format!("{b:02X}")).collect();
        f.write_str(&parts.join(":"))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// How the server certificate is trusted.
#[derive(Clone, Debug, Default)]
pub enum TlsTrust {
    /// The operating system's trust store.
    #[default]
    SystemRoots,
    /// A CA certificate (PEM, one or more certificates), e.g. the cluster's
    /// `/etc/pve/pve-root-ca.pem`.
    CaPem(String),
    /// Exactly this server certificate (host names are not checked: the pin is stronger), or
    /// the CA certificate the server presents in its chain, in which case the server
    /// certificate must be validly signed by that CA for the endpoint's host name.
    Fingerprint(Fingerprint),
    /// No verification at all. Exists for throwaway labs; callers should warn loudly.
    Insecure,
}

/// Builds the rustls client config for a trust mode.
pub fn client_config(trust: &TlsTrust) -> Result<ClientConfig, ApiError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = match trust {
        TlsTrust::SystemRoots => {
            let mut roots = RootCertStore::empty();
            let loaded = rustls_native_certs::load_native_certs();
            for cert in loaded.certs {
                // Unusable system certificates are skipped, as every TLS client does.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(ApiError::Config {
                    attribute: "ca_cert",
                    message: "no system CA certificates found; set ca_cert or tls_fingerprint"
                        .into(),
                });
            }
            webpki(roots, provider.clone())?
        }
        TlsTrust::CaPem(pem) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| ApiError::Config {
                    attribute: "ca_cert",
                    message: format!("cannot read the PEM certificate: {e}"),
                })?;
                roots.add(cert).map_err(|e| ApiError::Config {
                    attribute: "ca_cert",
                    message: format!("unusable CA certificate: {e}"),
                })?;
            }
            if roots.is_empty() {
                return Err(ApiError::Config {
                    attribute: "ca_cert",
                    message: "no certificate found; expected PEM text with a '-----BEGIN CERTIFICATE-----' block".into(),
                });
            }
            webpki(roots, provider.clone())?
        }
        TlsTrust::Fingerprint(fp) => Arc::new(PinnedVerifier {
            pin: Some(*fp),
            provider: provider.clone(),
        }),
        TlsTrust::Insecure => Arc::new(PinnedVerifier {
            pin: None,
            provider: provider.clone(),
        }),
    };
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn webpki(
    roots: RootCertStore,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, ApiError> {
    let v = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| tls_err(e.to_string()))?;
    Ok(v)
}

fn tls_err(message: String) -> ApiError {
    ApiError::Config {
        attribute: "endpoint",
        message: format!("cannot set up TLS: {message}"),
    }
}

/// Accepts exactly the pinned certificate (or anything, when `pin` is `None`), and still
/// checks that the server owns the certificate's key via the handshake signature.
#[derive(Debug)]
struct PinnedVerifier {
    pin: Option<Fingerprint>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(pin) = self.pin else {
            return Ok(ServerCertVerified::assertion());
        };
        let got = Fingerprint::of_der(end_entity.as_ref());
        if got == pin {
            return Ok(ServerCertVerified::assertion());
        }
        if let Some(ca) = intermediates
            .iter()
            .find(|c| Fingerprint::of_der(c.as_ref()) == pin)
        {
            // A pinned CA: the chain must really lead to it.
            let mut roots = RootCertStore::empty();
            roots.add(ca.clone().into_owned())?;
            let verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                    .build()
                    .map_err(|e| rustls::Error::General(e.to_string()))?;
            verifier.verify_server_cert(end_entity, &[], server_name, ocsp_response, now)
        } else {
            Err(rustls::Error::General(format!(
                "server certificate fingerprint {got} does not match the pinned tls_fingerprint {pin}"
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_forms() {
        let colon = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
        let a = Fingerprint::parse(colon).unwrap();
        let b = Fingerprint::parse(&colon.replace(':', "").to_lowercase()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), colon);
        for bad in ["", "AB:CD", &"G".repeat(64), &"A".repeat(66)] {
            let e = Fingerprint::parse(bad).unwrap_err();
            assert!(e.to_string().starts_with("tls_fingerprint: "), "{e}");
        }
    }

    #[test]
    fn ca_pem_errors_name_the_attribute() {
        let e = client_config(&TlsTrust::CaPem("not a pem".into())).unwrap_err();
        assert!(e.to_string().starts_with("ca_cert: "), "{e}");
    }
}
