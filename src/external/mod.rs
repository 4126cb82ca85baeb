//! Strategies and origins that talk to real servers. Each file is one server
//! kind; everything here fails with a message that names the URL.

pub mod postgres;
pub mod redis;

// The Redis protocol and cluster client, by the paths they had before the
// Redis backend became a folder.
pub use redis::{cluster as redis_cluster, resp};
