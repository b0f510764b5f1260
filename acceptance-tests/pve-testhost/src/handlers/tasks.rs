//! `GET /nodes/{node}/tasks/{upid}/status|log`.

use std::sync::Arc;

use crate::app::App;
use crate::error::ApiError;
use crate::router::{Ctx, Reply};
use crate::tasks::Upid;

fn upid_of(app: &App, ctx: &Ctx) -> Result<String, ApiError> {
    app.check_node(&ctx.node())?;
    let upid = ctx.text("upid").unwrap_or_default();
    if Upid::decode(&upid).is_none() {
        return Err(ApiError::internal(format!(
            "unable to parse worker upid '{upid}'\n"
        )));
    }
    Ok(upid)
}

pub fn status(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    let upid = upid_of(app, ctx)?;
    app.tasks
        .status(&upid)
        .map(Reply::from)
        .ok_or_else(|| ApiError::internal("no such task\n"))
}

pub fn log(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    let upid = upid_of(app, ctx)?;
    let start = ctx.text("start").and_then(|v| v.parse().ok()).unwrap_or(0);
    let limit = ctx.text("limit").and_then(|v| v.parse().ok()).unwrap_or(50);
    let (lines, total) = app
        .tasks
        .log(&upid, start, limit)
        .ok_or_else(|| ApiError::internal("no such task\n"))?;
    Ok(Reply {
        data: lines,
        total: Some(total),
    })
}
