//! The `quire` binary: parse arguments, run, map the outcome to an exit code.

use clap::Parser;
use std::process::ExitCode;

// The build allocates and frees many short strings on every worker thread; mimalloc's
// per-thread free lists serve them faster than glibc's arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = quire::cli::Cli::parse();
    match quire::cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) if quire::cli::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(quire::cli::EXIT_FAILURE)
        }
    }
}
