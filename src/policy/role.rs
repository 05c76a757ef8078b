//! The roles in which actors act (`docs/RULES.md#actors`).

use serde::{Deserialize, Serialize};

/// Roles of actors (`docs/RULES.md#actors`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// A text that names no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a role: operator, manager, panel-member, public or guard")]
pub struct UnknownRole(pub String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        match s {
            "operator" => Ok(Role::Operator),
            "manager" => Ok(Role::Manager),
            "panel-member" => Ok(Role::PanelMember),
            "public" => Ok(Role::Public),
            "guard" => Ok(Role::Guard),
            other => Err(UnknownRole(other.to_string())),
        }
    }
}
