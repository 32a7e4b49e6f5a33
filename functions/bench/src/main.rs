//! `hookline-bench`: see `--help` and docs/BENCHMARKS.md.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use hookline_bench::report::Table;
use hookline_bench::{Scale, load};

#[derive(Parser)]
#[command(name = "hookline-bench", about = "Measures Hookline: starts the local stack itself and loads it")]
struct Cli {
    /// Run each scenario once at a tiny size, only to show that it works.
    #[arg(long, global = true)]
    tiny: bool,
    /// Repeat each measurement this many times and report the medians.
    #[arg(long, global = true, default_value_t = 3)]
    repeats: usize,
    /// Also append the Markdown report to this file.
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    #[command(subcommand)]
    command: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Every scenario below, one after the other (run under `scripts/aws-local run --`, with the
    /// functions' release binaries built: `scripts/bench` does both).
    All {
        /// Where the functions' binaries are [default: the directory of this binary].
        #[arg(long)]
        bin_dir: Option<PathBuf>,
    },
    /// 1 and 4: closed loops of 1–256 senders: throughput, send → POST latency, CPU, memory.
    Load,
    /// 2: an open loop of 20 messages a second: send → POST latency.
    OpenLoop,
    /// 3: 100 mentions at once to bots that answer after 200 ms.
    Burst,
    /// AWS calls per message sent and per delivery on a warm function, against DynamoDB Local
    /// and moto (run under `scripts/aws-local run --`).
    AwsCalls,
    /// Criterion micro-benchmarks: mention scanning, trigger matching, payloads, signing.
    Micro,
    /// Cold start of each Lambda function binary: exec to ready, to its first answer, peak memory.
    ColdStart {
        /// Where the functions' binaries are [default: the directory of this binary].
        #[arg(long)]
        bin_dir: Option<PathBuf>,
    },
    /// Run the local stack with `hookline-local`'s options (what the scenarios start).
    #[command(hide = true)]
    Stack {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let scale = Scale { tiny: cli.tiny, repeats: if cli.tiny { 1 } else { cli.repeats.max(1) } };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("hookline-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Scenario::All { bin_dir } => all(&scale, bin_dir.as_deref()).await,
            Scenario::Load => load::closed_loops(&scale).await,
            Scenario::OpenLoop => load::open_loop(&scale).await,
            Scenario::Burst => load::burst(&scale).await,
            Scenario::AwsCalls => hookline_bench::aws_calls::run(&scale).await,
            Scenario::Micro => hookline_bench::micro::run(&scale).await,
            Scenario::ColdStart { bin_dir } => hookline_bench::cold_start::run(&scale, bin_dir.as_deref()).await,
            Scenario::Stack { args } => run_stack(args).await.map(|()| Vec::new()),
        }
    });
    match result.and_then(|tables| report(&tables, cli.out.as_ref(), scale)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hookline-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Every scenario's tables, in the order.
async fn all(scale: &Scale, bin_dir: Option<&std::path::Path>) -> Result<Vec<Table>, String> {
    let mut tables = load::closed_loops(scale).await?;
    tables.extend(load::open_loop(scale).await?);
    tables.extend(load::burst(scale).await?);
    tables.extend(hookline_bench::aws_calls::run(scale).await?);
    tables.extend(hookline_bench::cold_start::run(scale, bin_dir).await?);
    tables.extend(hookline_bench::micro::run(scale).await?);
    Ok(tables)
}

/// The local stack, as `hookline-local` runs it.
async fn run_stack(args: Vec<String>) -> Result<(), String> {
    hookline_local::init_logging();
    match hookline_local::options::parse(args)? {
        hookline_local::options::Command::Run(options) => hookline_local::run(options).await,
        hookline_local::options::Command::Help => {
            println!("{}", hookline_local::options::USAGE);
            Ok(())
        }
    }
}

/// Prints the tables and appends them to `out`.
fn report(tables: &[Table], out: Option<&PathBuf>, scale: Scale) -> Result<(), String> {
    if tables.is_empty() {
        return Ok(());
    }
    let mut text = format!(
        "## hookline-bench, {}\n\n",
        if scale.tiny { "tiny run".to_owned() } else { format!("medians of {} runs", scale.repeats) }
    );
    for table in tables {
        text.push_str(&table.to_markdown());
        text.push('\n');
    }
    print!("{text}");
    if let Some(path) = out {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        file.write_all(text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
