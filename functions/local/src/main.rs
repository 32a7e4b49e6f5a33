//! `hookline-local`: see `--help`.

use hookline_local::options::{self, Command};
use hookline_local::run;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    hookline_local::init_logging();

    let options = match options::parse(std::env::args().skip(1)) {
        Ok(Command::Run(options)) => options,
        Ok(Command::Help) => {
            println!("{}", options::USAGE);
            return std::process::ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("hookline-local: {e}\n\n{}", options::USAGE);
            return std::process::ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hookline-local: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
