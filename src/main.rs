//! The `quire` binary: parse arguments, run, map the outcome to an exit code.

use clap::Parser;
use std::process::ExitCode;

// mimalloc, with huge buffers mapped on their own (see `quire::alloc`).
#[global_allocator]
static GLOBAL: quire::alloc::Allocator = quire::alloc::Allocator;

fn main() -> ExitCode {
    quire::alloc::Allocator::keep_freed_memory();
    quire::alloc::Allocator::small_pages();
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
