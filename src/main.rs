use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match revokd::cli::run(revokd::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("revokd: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
