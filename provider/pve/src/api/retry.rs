//! When a failed request may be sent again.
//!
//! Retrying is only safe when sending the request twice cannot do the work twice: reads,
//! digest-guarded config writes and status polls. A create is never resent blindly; the caller
//! checks by vmid whether it happened instead.

use std::time::Duration;

use crate::error::ErrorClass;

/// What happens if a request is delivered twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// Same effect once or twice (GET, PUT config with `digest`, DELETE of an absent object
    /// is reported as such): retried on every transient error.
    Idempotent,
    /// Must not run twice (create, start/stop tasks): retried only when PVE provably did
    /// nothing (not sent, or refused because of a lock).
    Once,
}

/// Backoff settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Whether attempt number `attempt` (1-based) that failed with `class` may be followed by
    /// another.
    pub fn should_retry(&self, attempt: u32, class: ErrorClass, idempotency: Idempotency) -> bool {
        if attempt >= self.max_attempts {
            return false;
        }
        match class {
            ErrorClass::Permanent => false,
            ErrorClass::NotSent | ErrorClass::Locked => true,
            ErrorClass::Transient => idempotency == Idempotency::Idempotent,
        }
    }

    /// Delay before attempt `attempt + 1`: exponential with a little jitter so parallel
    /// clients that hit the same lock do not retry in lockstep.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let base = exp.min(self.max_backoff);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = base.mul_f64(f64::from(nanos % 1000) / 4000.0);
        (base + jitter).min(self.max_backoff.saturating_add(self.max_backoff / 4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_matrix() {
        let p = RetryPolicy::default();
        use ErrorClass::*;
        use Idempotency::*;
        assert!(p.should_retry(1, Transient, Idempotent));
        assert!(!p.should_retry(1, Transient, Once));
        assert!(p.should_retry(1, NotSent, Once));
        assert!(p.should_retry(1, Locked, Once));
        assert!(!p.should_retry(1, Permanent, Idempotent));
        assert!(!p.should_retry(p.max_attempts, Transient, Idempotent));
        assert!(!RetryPolicy::none().should_retry(1, NotSent, Idempotent));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        assert!(p.backoff(1) >= Duration::from_millis(500));
        assert!(p.backoff(2) >= Duration::from_secs(1));
        assert!(p.backoff(30) <= Duration::from_millis(12_500));
    }
}
