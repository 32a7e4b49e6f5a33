//! The routes of one message: read it, edit it, delete it, react to it.

use hookline_edge::auth::Caller;
use hookline_edge::params::{Params, path_id};
use hookline_edge::{ApiError, Request, Services};
use hookline_messaging::access::access_message;
use hookline_messaging::edit::{self, Edit, EditError, PropagateMode};
use hookline_messaging::format::message_json;
use hookline_messaging::reactions::{self, EmojiRequest, ReactionError};
use hookline_messaging::send::Sender;
use lambda_http::http::StatusCode;
use serde_json::{Value, json};

pub async fn handle(
    services: &Services,
    sender: &Sender,
    route: &str,
    caller: &Caller,
    request: &Request,
) -> Result<Value, ApiError> {
    let params = Params::from_request(request)?;
    let store = services.store.as_ref();
    let id = || path_id(request, "message_id");
    match route {
        "GET /api/v1/messages/{message_id}" => {
            let message = access_message(store, &caller.user, id()?)
                .await?
                .ok_or_else(|| ApiError::bad_request(EditError::InvalidMessage.to_string()))?;
            let apply_markdown = params.optional_bool("apply_markdown")?.unwrap_or(true);
            let directory = sender.directory(&caller.realm).await?;
            Ok(json!({
                "message": message_json(&message, &directory, apply_markdown),
                "raw_content": message.content,
            }))
        }
        "PATCH /api/v1/messages/{message_id}" => {
            let propagate_mode = match params.optional_str("propagate_mode")? {
                Some(mode) => PropagateMode::parse(&mode).map_err(edit_error)?,
                None => PropagateMode::default(),
            };
            let change = Edit {
                content: params.optional_str("content")?,
                topic: params.optional_str_of(&["topic", "subject"])?,
                propagate_mode,
            };
            let now = services.clock.now();
            edit::edit_message(store, &caller.user, id()?, &change, now).await.map_err(edit_error)?;
            Ok(json!({}))
        }
        "DELETE /api/v1/messages/{message_id}" => {
            edit::delete_message(store, &caller.user, id()?).await.map_err(edit_error)?;
            Ok(json!({}))
        }
        "POST /api/v1/messages/{message_id}/reactions" => {
            let name = params.str("emoji_name")?;
            reactions::add_reaction(store, &caller.user, id()?, &name, &emoji_request(&params)?)
                .await
                .map_err(reaction_error)?;
            Ok(json!({}))
        }
        "DELETE /api/v1/messages/{message_id}/reactions" => {
            reactions::remove_reaction(store, &caller.user, id()?, &emoji_request(&params)?)
                .await
                .map_err(reaction_error)?;
            Ok(json!({}))
        }
        _ => Err(ApiError::endpoint_not_found()),
    }
}

fn emoji_request(params: &Params) -> Result<EmojiRequest, ApiError> {
    Ok(EmojiRequest {
        emoji_name: params.optional_str("emoji_name")?,
        emoji_code: params.optional_str("emoji_code")?,
        reaction_type: params.optional_str("reaction_type")?,
    })
}

fn edit_error(e: EditError) -> ApiError {
    match e {
        EditError::Store(why) => {
            tracing::error!(error = why, "changing a message failed");
            ApiError::internal()
        }
        other => ApiError::bad_request(other.to_string()),
    }
}

fn reaction_error(e: ReactionError) -> ApiError {
    match e {
        ReactionError::Store(why) => {
            tracing::error!(error = why, "changing a reaction failed");
            ApiError::internal()
        }
        ReactionError::AlreadyExists => {
            ApiError::new(StatusCode::BAD_REQUEST, "REACTION_ALREADY_EXISTS", e.to_string())
        }
        ReactionError::DoesNotExist => ApiError::new(StatusCode::BAD_REQUEST, "REACTION_DOES_NOT_EXIST", e.to_string()),
        other => ApiError::bad_request(other.to_string()),
    }
}
