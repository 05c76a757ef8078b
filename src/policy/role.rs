//! The roles in which actors act (`docs/RULES.md#actors`).

use serde::{Deserialize, Serialize};

/// Roles of actors (`docs/RULES.md#actors`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// IANA staff.
    Operator,
    /// Manager of a ccTLD.
    Manager,
    /// Member of a panel or tribunal.
    PanelMember,
    /// Anyone.
    Public,
    /// The guard itself.
    Guard,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Operator => "operator",
            Role::Manager => "manager",
            Role::PanelMember => "panel-member",
            Role::Public => "public",
            Role::Guard => "guard",
        })
    }
}
