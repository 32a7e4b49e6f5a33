//! The one binary every incoming-integration function runs; its configuration
//! (`HOOKLINE_INTEGRATION`) says which integration it serves.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hookline_incoming::lambda::run().await
}
