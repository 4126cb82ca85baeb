//! Strategies and origins that talk to real servers. Each file is one server
//! kind; everything here fails with a message that names the URL.

pub mod postgres;
pub mod redis;
pub mod redis_cluster;
pub mod redis_fleet;
pub mod resp;
pub mod tiered;
