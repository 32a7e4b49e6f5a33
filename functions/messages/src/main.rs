//! The send-message function as a Lambda function behind API Gateway.

use std::sync::Arc;

use hookline_edge::Services;
use hookline_messages::MessagesApp;
use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    hookline_edge::services::init_lambda_tracing();
    let app = Arc::new(MessagesApp::new(Arc::new(Services::from_env().await?)));
    run(service_fn(move |request: Request| {
        let app = app.clone();
        async move { Ok::<_, Error>(app.handle(request).await) }
    }))
    .await
}
