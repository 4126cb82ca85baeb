//! The `cachesim` binary: parse arguments, run the command, turn errors into a
//! message on stderr and an exit status (2: usage, 1: runtime; 0 when the
//! reader of stdout closed it early, as `head` does; 128 + the signal when
//! `run` was interrupted and saved what had finished).

use clap::Parser;

fn main() {
    let cli = cachesim::cli::Cli::parse();
    // `run` stops cleanly on Ctrl-C; every other command dies of it, after
    // removing the temporary file it was writing (src/interrupt.rs).
    let graceful = matches!(cli.command, cachesim::cli::Command::Run(_));
    cachesim::interrupt::install(graceful);
    if let Err(e) = cachesim::cmd::dispatch(cli) {
        if e.is_broken_pipe() {
            std::process::exit(0);
        }
        if e.is_interrupt() {
            eprintln!("{e}");
        } else {
            eprintln!("error: {e}");
        }
        std::process::exit(e.exit_code());
    }
}
