//! `UpgradeResourceState`: stored JSON from any older schema version to the
//! current one.
//!
//! Terraform calls this for every resource instance on every run, even when
//! the version did not change, so the common path (same version) is a plain
//! decode with the current type. Older versions run through the resource's
//! upgraders one step at a time.

use pvelxc_cty::{Path, Type, Value};
use pvelxc_schema::Diagnostic;

use super::resource::StateUpgrader;

/// Upgrades `raw_json` stored at `version` to a value of `current_type`.
pub fn upgrade_state(
    type_name: &str,
    raw_json: &[u8],
    version: i64,
    current_version: i64,
    current_type: &Type,
    upgraders: &[StateUpgrader],
) -> Result<Value, Diagnostic> {
    if version > current_version {
        return Err(Diagnostic::error(
            Path::root(),
            "State written by a newer provider",
            format!(
                "The {type_name} state has schema version {version}, but this provider only \
                 knows versions up to {current_version}. Upgrade the provider to the version that \
                 wrote this state."
            ),
        ));
    }
    let mut json = raw_json.to_vec();
    if version < current_version {
        let mut doc: serde_json::Value = serde_json::from_slice(raw_json).map_err(|err| {
            Diagnostic::error(
                Path::root(),
                "Stored state is not valid JSON",
                format!("The {type_name} state cannot be read ({err}); restore the state file from a backup."),
            )
        })?;
        for step in version..current_version {
            let upgrader = upgraders
                .iter()
                .find(|u| u.from_version == step)
                .ok_or_else(|| {
                    Diagnostic::error(
                        Path::root(),
                        "No state upgrade path",
                        format!(
                        "The {type_name} state has schema version {step} and this provider has no \
                         upgrade from it. This is a bug in the provider; please report it."
                    ),
                    )
                })?;
            doc = (upgrader.upgrade)(doc)?;
        }
        json = doc.to_string().into_bytes();
    }
    pvelxc_cty::json::decode(&json, current_type).map_err(|err| {
        Diagnostic::error(
            Path::root(),
            "Stored state does not match the schema",
            format!(
                "The {type_name} state (schema version {version}) cannot be read with the current \
                 schema: {err}. This is a bug in the provider's state upgrade; please report it."
            ),
        )
    })
}
