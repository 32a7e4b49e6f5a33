//! The `gitlab` integration as its own Lambda function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hookline_incoming::lambda::run("gitlab").await
}
