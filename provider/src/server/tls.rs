//! AutoMTLS as go-plugin does it: a fresh self-signed server certificate per
//! process, and the client certificate Terraform passes in
//! `PLUGIN_CLIENT_CERT` pinned byte for byte.
//!
//! Terraform's client certificate is an ECDSA P-521 *CA* certificate used as
//! a leaf. Stock rustls/webpki client verification refuses CA certificates as
//! end entities, and `ring` cannot verify P-521 at all, so the verifier here
//! compares the DER exactly and checks the handshake signature with the
//! aws-lc-rs provider's algorithms. Nobody but the Terraform process that
//! launched us can complete a handshake.
//!
//! Everything else (key generation, key exchange, record encryption, the
//! random numbers) runs on `ring`. aws-lc seeds its generator with CPU jitter
//! entropy on first use, which costs tens of milliseconds of pure CPU, and
//! Terraform launches the provider several times per command: verifying a
//! signature needs no randomness, so aws-lc never pays that cost here.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyUsagePurpose, PublicKeyData, SanType, SerialNumber, SigningKey,
};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, ServerConfig, SignatureScheme};
use thiserror::Error;

/// Environment variable carrying Terraform's client certificate (PEM).
pub const CLIENT_CERT_ENV: &str = "PLUGIN_CLIENT_CERT";

/// Why TLS could not be set up.
#[derive(Debug, Error)]
pub enum TlsSetupError {
    /// PLUGIN_CLIENT_CERT holds no usable certificate.
    #[error("{CLIENT_CERT_ENV} does not contain a PEM certificate: {0}")]
    BadClientCert(String),
    /// Generating or assembling the server side failed.
    #[error("cannot create the provider's TLS certificate: {0}")]
    ServerCert(String),
}

/// The provider's own certificate and key for this process.
pub struct ServerIdentity {
    /// DER of the self-signed certificate (printed in the handshake line).
    pub cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

impl ServerIdentity {
    /// A self-signed certificate shaped like go-plugin's own: CN and SAN
    /// `localhost`, CA flag, key usages digitalSignature, keyEncipherment,
    /// keyAgreement and certSign, EKU serverAuth + clientAuth. Go's client
    /// trusts exactly this certificate and checks the `localhost` name and
    /// the serverAuth usage.
    pub fn generate() -> Result<Self, TlsSetupError> {
        let err = |e: rcgen::Error| TlsSetupError::ServerCert(e.to_string());
        let key = RingP256Key::generate()?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::OrganizationName, "pvelxc");
        name.push(DnType::CommonName, "localhost");
        params.distinguished_name = name;
        params.subject_alt_names = vec![SanType::DnsName("localhost".try_into().map_err(err)?)];
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        // Clock skew between Terraform and us is zero (same host) but keep
        // go-plugin's 30 s margin anyway.
        params.not_before = now - time::Duration::seconds(30);
        params.not_after = now + time::Duration::days(3650);
        let mut serial = [0u8; 16];
        ring::rand::SecureRandom::fill(&key.rng, &mut serial)
            .map_err(|_| TlsSetupError::ServerCert("no randomness for the serial".into()))?;
        serial[0] &= 0x7f;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        let cert = params.self_signed(&key).map_err(err)?;
        Ok(ServerIdentity {
            cert_der: cert.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(key.pkcs8),
        })
    }
}

/// The server's P-256 key, generated and used for signing with `ring` (rcgen
/// only assembles the certificate; which crypto backend it would pick depends
/// on feature unification across the workspace, so it is not asked to).
struct RingP256Key {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    rng: SystemRandom,
}

impl RingP256Key {
    fn generate() -> Result<Self, TlsSetupError> {
        let rng = SystemRandom::new();
        let err = |what: &str| TlsSetupError::ServerCert(format!("P-256 key {what} failed"));
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| err("generation"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| err("parsing"))?;
        Ok(RingP256Key {
            pair,
            pkcs8: pkcs8.as_ref().to_vec(),
            rng,
        })
    }
}

impl PublicKeyData for RingP256Key {
    fn der_bytes(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl SigningKey for RingP256Key {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.pair
            .sign(&self.rng, msg)
            .map(|sig| sig.as_ref().to_vec())
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// Parses the first certificate out of `PLUGIN_CLIENT_CERT`.
pub fn parse_client_cert(pem: &str) -> Result<CertificateDer<'static>, TlsSetupError> {
    use rustls::pki_types::pem::PemObject as _;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| TlsSetupError::BadClientCert(e.to_string()))
}

/// The `ring` provider for the handshake itself (see the module docs).
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Signature verification algorithms for the client's handshake signature:
/// aws-lc-rs's, the only set that includes ECDSA P-521.
pub fn client_signature_algorithms() -> WebPkiSupportedAlgorithms {
    rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms
}

/// TLS 1.2 + 1.3 server config with ALPN `h2` (grpc-go refuses TLS without
/// ALPN) that accepts only the pinned client certificate.
pub fn server_config(
    identity: &ServerIdentity,
    client_cert: CertificateDer<'static>,
) -> Result<ServerConfig, TlsSetupError> {
    let provider = crypto_provider();
    let verifier = Arc::new(PinnedClientCert::new(
        client_cert,
        client_signature_algorithms(),
    ));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsSetupError::ServerCert(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![identity.cert_der.clone()],
            PrivateKeyDer::Pkcs8(identity.key_der.clone_key()),
        )
        .map_err(|e| TlsSetupError::ServerCert(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Accepts exactly one client certificate, compared by DER.
#[derive(Debug)]
pub struct PinnedClientCert {
    pinned: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCert {
    /// Pins `cert`; `algorithms` verify the handshake signatures.
    pub fn new(cert: CertificateDer<'static>, algorithms: WebPkiSupportedAlgorithms) -> Self {
        PinnedClientCert {
            pinned: cert,
            algorithms,
        }
    }

    fn ensure_pinned(&self, cert: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        if cert.as_ref() == self.pinned.as_ref() {
            Ok(())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        // No hints: Go's client then offers its certificate unconditionally.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if !intermediates.is_empty() {
            tracing::warn!(
                count = intermediates.len(),
                "refusing TLS client that sent a certificate chain"
            );
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ));
        }
        self.ensure_pinned(end_entity).inspect_err(|_| {
            tracing::warn!(
                "refusing TLS client whose certificate is not the one Terraform announced"
            );
        })?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.ensure_pinned(cert)?;
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.ensure_pinned(cert)?;
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
