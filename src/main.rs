use std::process::ExitCode;

use clap::Parser;
use histoactive::cli::Cli;
use histoactive::commands;
use histoactive::progress;
use histoactive::slicer::{self, Route};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let cli = match slicer::route(&args) {
        Ok(Route::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Route::Task(argv)) => {
            progress::set_task_mode();
            Cli::parse_from(argv)
        }
        Ok(Route::Normal) => Cli::parse_from(args),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(commands::exit_code(&e))
        }
    }
}
