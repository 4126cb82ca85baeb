//! The `cachesim` binary: parse arguments, run the command, turn errors into a
//! message on stderr and an exit status (2: usage, 1: runtime; 0 when the
//! reader of stdout closed it early, as `head` does).

use clap::Parser;

fn main() {
    let cli = cachesim::cli::Cli::parse();
    if let Err(e) = cachesim::cmd::dispatch(cli) {
        if e.is_broken_pipe() {
            std::process::exit(0);
        }
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
