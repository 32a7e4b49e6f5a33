//! `cargo bench -p hookline-bench`: the micro-benchmarks of `hookline-bench micro`, under
//! criterion's own command line (filters, baselines, its reports in the target directory).

use criterion::Criterion;

fn main() -> std::process::ExitCode {
    let mut criterion = Criterion::default().configure_from_args();
    if let Err(e) = hookline_bench::micro::register(&mut criterion) {
        eprintln!("{e}");
        return std::process::ExitCode::FAILURE;
    }
    criterion.final_summary();
    std::process::ExitCode::SUCCESS
}
