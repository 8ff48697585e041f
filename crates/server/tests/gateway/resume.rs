//! Ordering and resume on one node.
