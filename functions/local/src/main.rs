//! `hookline-local`: see `--help`.

use std::sync::Arc;

use hookline_local::options::{self, Command};
use hookline_local::{admin_key, build_services, demo, serve};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();

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

async fn run(options: options::Options) -> Result<(), String> {
    let (admin_key, generated) = admin_key();
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
    // With port 0 the system picks one: report the address actually bound.
    let options = options::Options { listen: listener.local_addr().map_err(|e| e.to_string())?, ..options };
    let services = Arc::new(build_services(&options, &admin_key).await?);
    let url = services.settings.public_url.clone();

    // Credentials go to stdout, once; logs (stderr) never carry them.
    println!("Hookline is running at {url}");
    if generated {
        println!("Admin key (set HOOKLINE_ADMIN_KEY to choose one): {admin_key}");
    }
    if options.demo {
        let credentials = demo::seed(&services).await.map_err(|e| format!("demo seed: {e}"))?;
        println!(
            "Demo realm ready: email {} api key {} stream #{}",
            credentials.email, credentials.api_key, credentials.stream
        );
        println!("Try: curl -u {}:{} {url}/api/v1/users/me", credentials.email, credentials.api_key);
    }
    tracing::info!(
        %url,
        store = ?options.store,
        queue = ?options.queue,
        durable = options.data_dir.is_some(),
        "listening"
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    };
    serve(listener, services, &options, shutdown).await.map_err(|e| e.to_string())
}
