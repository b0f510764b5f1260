//! The state a run carries from item to item.

use crate::accounts::Accounts;
use crate::dpkg::Packages;
use crate::view::View;
use pvelxc_spec::Spec;
use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Which pass the engine is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The validation pass before an apply: simulate everything, report nothing,
    /// stop the run on any spec/system contradiction.
    Preflight,
    /// `--check`: simulate and report.
    Check,
    /// Change the system.
    Apply,
}

impl Phase {
    /// Whether actions are simulated rather than executed.
    pub fn simulated(self) -> bool {
        !matches!(self, Phase::Apply)
    }
}

/// Run state.
pub struct Ctx<'s> {
    /// The spec being converged.
    pub spec: &'s Spec,
    /// Current pass.
    pub phase: Phase,
    /// Filesystem (with the check-mode overlay).
    pub view: View,
    /// Users and groups as of now (simulated in check mode).
    pub accounts: Accounts,
    /// Users and groups as on disk (for check items, which can only run as a user
    /// that really exists).
    pub disk_accounts: Accounts,
    /// Spec paths whose content changed earlier in this run (handlers, apt refresh).
    pub changed_paths: BTreeSet<PathBuf>,
    /// dpkg's status, read on first use and shared by the passes of a run.
    pub packages: Rc<OnceCell<Result<Packages, String>>>,
    /// Packages installed (true) or removed (false) by simulated actions.
    pub simulated_packages: std::collections::BTreeMap<String, bool>,
}

impl<'s> Ctx<'s> {
    /// A fresh context over `root`.
    pub fn new(
        spec: &'s Spec,
        phase: Phase,
        root: &Path,
        accounts: Accounts,
        packages: Rc<OnceCell<Result<Packages, String>>>,
    ) -> Self {
        Ctx {
            spec,
            phase,
            view: View::new(root),
            disk_accounts: accounts.clone(),
            accounts,
            changed_paths: BTreeSet::new(),
            packages,
            simulated_packages: Default::default(),
        }
    }

    /// dpkg's package database (loaded once per run).
    pub fn packages(&self) -> Result<&Packages, String> {
        self.packages
            .get_or_init(|| Packages::load(self.view.root()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether a package is installed, counting simulated installs.
    pub fn installed(&self, name: &str) -> Result<bool, String> {
        if let Some(&state) = self.simulated_packages.get(name) {
            return Ok(state);
        }
        Ok(self.packages()?.is_installed(name))
    }

    /// Whether `root` is the running system (so systemd and apt can be asked).
    pub fn live(&self) -> bool {
        self.view.root() == Path::new("/")
    }
}
