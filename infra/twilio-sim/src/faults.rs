//! Injected faults, consumed one create at a time.

use std::time::Duration;

use axum::http::StatusCode;

use crate::config::Faults;
use crate::error::ApiError;

#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pending: Faults,
    /// Server errors served so far: they alternate 500 and 503, as both reach clients in practice.
    server_errors_served: u64,
}

impl FaultState {
    pub(crate) fn new(faults: Faults) -> Self {
        Self {
            pending: faults,
            server_errors_served: 0,
        }
    }

    pub(crate) fn set(&mut self, faults: Faults) {
        self.pending = faults;
    }

    /// The error this create must answer instead of being processed, if a fault is pending.
    pub(crate) fn refuse(&mut self) -> Option<ApiError> {
        if self.pending.server_errors > 0 {
            self.pending.server_errors -= 1;
            let status = if self.server_errors_served.is_multiple_of(2) {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            self.server_errors_served += 1;
            return Some(ApiError::Server { status });
        }
        if self.pending.too_many_requests > 0 {
            self.pending.too_many_requests -= 1;
            return Some(ApiError::TooManyRequests);
        }
        None
    }

    /// How long to hold the answer of a create that was just accepted, if a hang is pending.
    pub(crate) fn hang(&mut self) -> Option<Duration> {
        if self.pending.accept_then_hang == 0 {
            return None;
        }
        self.pending.accept_then_hang -= 1;
        Some(self.pending.hang_for)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_fire_once_each_then_stop() {
        let mut faults = FaultState::new(Faults {
            server_errors: 3,
            too_many_requests: 1,
            accept_then_hang: 1,
            hang_for: Duration::from_secs(2),
        });
        let statuses: Vec<_> = std::iter::from_fn(|| faults.refuse())
            .map(|error| error.status().as_u16())
            .collect();
        assert_eq!(statuses, [500, 503, 500, 429]);
        assert_eq!(faults.hang(), Some(Duration::from_secs(2)));
        assert_eq!(faults.hang(), None);
        assert!(faults.refuse().is_none());
    }
}
