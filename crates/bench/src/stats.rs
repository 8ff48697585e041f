//! Latency histograms that many tasks record into at once, and the summaries reported.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Sub-buckets per power of two: values are kept to within 1/64 (about 1.6 %).
const SUB_BUCKET_BITS: u32 = 6;
const SUB_BUCKETS: usize = 1 << SUB_BUCKET_BITS;
/// Values below this are exact.
const LINEAR_LIMIT: u64 = 2 * SUB_BUCKETS as u64;
/// Up to 2^40 µs (12 days) is plenty.
const BUCKETS: usize = LINEAR_LIMIT as usize + (40 - SUB_BUCKET_BITS as usize) * SUB_BUCKETS;

/// A log-linear histogram of microseconds, shared by reference between tasks: recording is
/// one relaxed atomic add, so thousands of receiver tasks need no lock.
pub struct Histogram {
    counts: Vec<AtomicU64>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

fn bucket_of(value: u64) -> usize {
    if value < LINEAR_LIMIT {
        return value as usize;
    }
    let magnitude = 63 - value.leading_zeros();
    let shift = magnitude - SUB_BUCKET_BITS;
    let sub = ((value >> shift) as usize) & (SUB_BUCKETS - 1);
    let index = LINEAR_LIMIT as usize
        + (magnitude as usize - SUB_BUCKET_BITS as usize - 1) * SUB_BUCKETS
        + sub;
    index.min(BUCKETS - 1)
}

/// The largest value that falls into `index`.
fn upper_value_of(index: usize) -> u64 {
    if index < LINEAR_LIMIT as usize {
        return index as u64;
    }
    let above = index - LINEAR_LIMIT as usize;
    let magnitude = (above / SUB_BUCKETS) as u32 + SUB_BUCKET_BITS + 1;
    let sub = (above % SUB_BUCKETS) as u64;
    let shift = magnitude - SUB_BUCKET_BITS;
    (((SUB_BUCKETS as u64) | sub) << shift) + (1 << shift) - 1
}

impl Histogram {
    pub fn record(&self, micros: u64) {
        self.counts[bucket_of(micros)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The value at quantile `q` (0–1), in microseconds; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count.load(Ordering::Relaxed);
            if seen >= rank {
                return upper_value_of(index);
            }
        }
        upper_value_of(BUCKETS - 1)
    }

    pub fn summary(&self) -> Latency {
        let ms = |q| self.quantile(q) as f64 / 1000.0;
        Latency {
            count: self.count(),
            p50_ms: ms(0.50),
            p99_ms: ms(0.99),
            p999_ms: ms(0.999),
            max_ms: ms(1.0),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize)]
pub struct Latency {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

/// The median of the values (the mean of the middle two for an even count); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.sort_by(|a, b| a.total_cmp(b));
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_values_within_two_percent() {
        for value in [0, 1, 127, 128, 129, 1_000, 12_345, 999_999, 123_456_789] {
            let upper = upper_value_of(bucket_of(value));
            assert!(upper >= value, "{value} → {upper}");
            assert!(
                upper as f64 <= value as f64 * 1.02 + 1.0,
                "{value} → {upper}"
            );
        }
    }

    #[test]
    fn quantiles_come_from_the_recorded_values() {
        let histogram = Histogram::default();
        for value in 1..=1000 {
            histogram.record(value);
        }
        assert_eq!(histogram.count(), 1000);
        // Values above 128 are kept to within 1/64: 500 reads back as its bucket's top, 503.
        let p50 = histogram.quantile(0.5);
        assert!((500..=510).contains(&p50), "{p50}");
        let p99 = histogram.quantile(0.99);
        assert!((990..=1010).contains(&p99), "{p99}");
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
