use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    revokd::cli::run(revokd::cli::Cli::parse()).await
}
