//! The `rootguard` binary: parses arguments, starts logging, runs the
//! command and exits with its status (0 ok, 1 degraded, 2 threat, 3 bad
//! input, 4 a failure of this machine; see `rootguard::cli`).

use std::process::ExitCode;

use clap::Parser;
use rootguard::cli::Cli;

fn main() -> ExitCode {
    // clap exits with 2 on usage errors, which would read as "threat".
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 3 } else { 0 });
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ROOTGUARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rootguard: cannot start the async runtime: {e}");
            return ExitCode::from(4);
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("rootguard: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
