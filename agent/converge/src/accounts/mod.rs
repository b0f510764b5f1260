//! Users and groups without NSS: the agent reads and writes `/etc/passwd`,
//! `/etc/group`, `/etc/shadow` and `/etc/gshadow` itself, so a static binary works
//! in any container and a no-op run launches no `getent`/`usermod`.

pub mod db;
pub mod lock;
pub mod ops;
pub mod store;

pub use db::{Accounts, ColonFile};
pub use ops::AccountOp;
