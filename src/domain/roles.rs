//! Staff roles: what one account may do. One role per account, each including the one
//! before it for staff work, so a check is "at least this role":
//! `customer` < `usher` (the door) < `box_office` (the counter, booking lookup) <
//! `manager` (the programme, refunds, devices) < `admin` (also accounts and roles).
//!
//! The web layer guards each group of routes with the least role it needs; the domain
//! checks again for the actions that matter (role changes, refunds of used tickets), so no
//! second HTTP path can skip the rule. The stored text is the snake_case name, mapped here
//! and nowhere else.

use serde::Serialize;
use strum::{EnumIter, EnumString, IntoStaticStr};

/// The role of an account.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    /// A moviegoer: no staff pages at all.
    #[default]
    Customer,
    /// Admits tickets at the door.
    Usher,
    /// Sells at the counter and looks up bookings; everything an usher does.
    BoxOffice,
    /// Runs the programme: catalogue, screens, showtimes, bookings and refunds, incidents,
    /// outbox, audit, scanner devices.
    Manager,
    /// Everything, including accounts and roles.
    Admin,
}

crate::text_enum!(Role);

impl Role {
    /// Every role, least first.
    pub const ALL: [Role; 5] = [
        Role::Customer,
        Role::Usher,
        Role::BoxOffice,
        Role::Manager,
        Role::Admin,
    ];

    /// The text stored in `users.role`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses the stored (or submitted) text.
    pub fn parse(value: &str) -> Option<Self> {
        value.parse().ok()
    }

    /// Whether this role includes everything `least` may do.
    pub fn includes(self, least: Role) -> bool {
        self >= least
    }

    /// Whether this is a staff role (anything above customer).
    pub fn is_staff(self) -> bool {
        self.includes(Role::Usher)
    }

    /// How the role reads to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Customer => "Customer",
            Role::Usher => "Usher",
            Role::BoxOffice => "Box office",
            Role::Manager => "Manager",
            Role::Admin => "Admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_includes_the_ones_before_it() {
        assert!(Role::Admin.includes(Role::Manager));
        assert!(Role::Manager.includes(Role::BoxOffice));
        assert!(Role::BoxOffice.includes(Role::Usher));
        assert!(!Role::Usher.includes(Role::BoxOffice));
        assert!(!Role::Customer.is_staff());
        assert!(Role::Usher.is_staff());
    }

    #[test]
    fn the_stored_text_round_trips_and_nothing_else_parses() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::BoxOffice.as_str(), "box_office");
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("staff"), None);
    }
}
