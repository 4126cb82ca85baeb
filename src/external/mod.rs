//! Strategies and origins that talk to real servers. Each file is one server
//! kind; everything here fails with a message that names the URL.

pub mod postgres;
