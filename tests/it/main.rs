//! The integration tests, in one binary: a module per area and one support
//! module. A test that needs an external tool or the optional real data
//! (`../shared/rootzone`) reports itself as ignored with the reason when
//! it is missing, and fails when `CI` is set. Run with `cargo test`
//! (`cargo test --test it -- NAME` for some).

mod cli;
mod dashboards;
mod demo;
mod durability;
mod e2e;
mod faults;
mod https_source;
mod interop;
mod layers;
mod pages;
mod real_rootzone;
mod record;
mod replication;
mod restart;
mod rules;
mod schema;
mod security;
mod serve;
mod support;
mod technical;
mod vantage;
mod zonemaster;

fn main() {
    support::quiet_skips();
    let args = libtest_mimic::Arguments::from_args();
    let mut trials = Vec::new();
    for module in [
        cli::trials,
        dashboards::trials,
        demo::trials,
        durability::trials,
        e2e::trials,
        faults::trials,
        https_source::trials,
        interop::trials,
        layers::trials,
        pages::trials,
        real_rootzone::trials,
        record::trials,
        replication::trials,
        restart::trials,
        rules::trials,
        schema::trials,
        security::trials,
        serve::trials,
        technical::trials,
        vantage::trials,
        zonemaster::trials,
    ] {
        trials.extend(module());
    }
    libtest_mimic::run(&args, trials).exit();
}
