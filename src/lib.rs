//! rootguard: a DNS root zone delegation guard.
//!
//! It reads the root zone ([`zone`]), probes every ccTLD's name servers
//! directly ([`probe`]), turns what it sees into findings ([`checks`]) and
//! serves fault-injecting test name servers ([`lab`]).

#![warn(missing_docs)]

pub mod app;
pub mod checks;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod http;
#[cfg(feature = "lab")]
pub mod lab;
pub mod ledger;
pub mod metrics;

pub mod policy;
pub mod probe;
pub mod store;
pub mod time;
pub mod zone;
