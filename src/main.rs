//! The `cachesim` binary: parse arguments, run the command, turn errors into a
//! message on stderr and an exit status (2: usage, 1: runtime).

use clap::Parser;

fn main() {
    let cli = cachesim::cli::Cli::parse();
    if let Err(e) = cachesim::cmd::dispatch(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
