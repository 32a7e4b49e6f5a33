//! What every [`Store`] must do for rate-limit counters.

use std::sync::Arc;

use futures::future::join_all;
use hookline_model::rate_limit::{RateKey, RateLimit};
use hookline_model::store::Store;

use crate::support::unique_name;

const NOW: i64 = 4_000_000_000_000;

pub async fn a_rate_window_counts_up_to_its_limit_under_concurrency(store: Arc<dyn Store>) {
    let limit = RateLimit::new(5, 60_000).unwrap();
    let window = limit.window_at(NOW);
    let key = RateKey { scope: "user", id: unique_name("caller") };
    let takes = (0..12).map(|_| store.take(&key, window, limit.limit));
    let results: Vec<bool> = join_all(takes).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(results.iter().filter(|taken| **taken).count(), 5, "{results:?}");
    assert_eq!(store.counted(&key, window).await.unwrap(), 5);
    assert!(!store.take(&key, window, limit.limit).await.unwrap());
    // Another key and the next window count from zero
    let other = RateKey { scope: "auth-failure", id: key.id.clone() };
    assert_eq!(store.counted(&other, window).await.unwrap(), 0);
    assert!(store.take(&other, window, limit.limit).await.unwrap());
    let next = limit.window_at(window.end);
    assert_eq!(store.counted(&key, next).await.unwrap(), 0);
    assert!(store.take(&key, next, limit.limit).await.unwrap());
    assert_eq!(store.counted(&key, next).await.unwrap(), 1);
}
