//! The source of "now". Production reads the system clock; tests move time forward to
//! expire holds and tokens without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// A clock that is the system clock plus an adjustable offset (zero outside tests).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> OffsetDateTime {
        let offset = self.offset_seconds.load(Ordering::Relaxed);
        OffsetDateTime::now_utc() + time::Duration::seconds(offset)
    }

    /// Unix seconds of `now()`, the form in which times are stored.
    pub fn unix_now(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// Moves this clock (and every clone of it) forward; used by tests.
    pub fn advance(&self, by: time::Duration) {
        self.offset_seconds
            .fetch_add(by.whole_seconds(), Ordering::Relaxed);
    }
}
