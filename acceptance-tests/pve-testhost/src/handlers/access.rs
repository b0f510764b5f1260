//! `POST /access/ticket`.

use std::sync::Arc;

use serde_json::json;

use crate::app::App;
use crate::error::ApiError;
use crate::router::{Ctx, Reply};

/// Password login (or ticket renewal): ticket, CSRF token and the capabilities of root.
pub fn ticket(app: &Arc<App>, ctx: &Ctx) -> Result<Reply, ApiError> {
    let username = ctx.text("username").unwrap_or_default();
    let password = ctx.text("password").unwrap_or_default();
    let realm = ctx.text("realm");
    let user = app.auth.login(&username, &password, realm.as_deref())?;
    let all = json!({
        "VM.Allocate": 1, "VM.Audit": 1, "VM.Config.CPU": 1, "VM.Config.Disk": 1,
        "VM.Config.Memory": 1, "VM.Config.Network": 1, "VM.Config.Options": 1,
        "VM.PowerMgmt": 1, "Datastore.AllocateSpace": 1, "Datastore.Audit": 1,
        "Sys.Audit": 1, "Sys.Modify": 1
    });
    Ok(json!({
        "username": user,
        "ticket": app.auth.issue_ticket(&user),
        "CSRFPreventionToken": app.auth.issue_csrf(&user),
        "cap": {"vms": all, "storage": all, "nodes": all, "access": {}, "dc": {}, "sdn": {}, "mapping": {}}
    })
    .into())
}
