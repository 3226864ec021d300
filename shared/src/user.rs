//! People who use Đồng Hành, their roles and the area each works in.

use crate::{Text, Validate, ValidationErrors};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    VillageHead,
    Cadre,
    CommuneOfficer,
    CommuneLeader,
    ProvinceViewer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::VillageHead,
        Role::Cadre,
        Role::CommuneOfficer,
        Role::CommuneLeader,
        Role::ProvinceViewer,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::VillageHead => "village_head",
            Role::Cadre => "cadre",
            Role::CommuneOfficer => "commune_officer",
            Role::CommuneLeader => "commune_leader",
            Role::ProvinceViewer => "province_viewer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Roles whose work is at the commune office or above: the web console is their app
    /// (the field app stays open to officers and leaders for work on a phone).
    pub fn uses_console(self) -> bool {
        matches!(
            self,
            Role::CommuneOfficer | Role::CommuneLeader | Role::ProvinceViewer | Role::Admin
        )
    }

    /// Roles with no field work at all: sync refuses them, so the field app sends them on.
    pub fn console_only(self) -> bool {
        matches!(self, Role::ProvinceViewer | Role::Admin)
    }

    pub fn label(self) -> Text {
        match self {
            Role::VillageHead => Text::new("Trưởng thôn/bản", "Village head"),
            Role::Cadre => Text::new("Cán bộ kèm cặp", "Mentoring cadre"),
            Role::CommuneOfficer => Text::new("Công chức VH-XH xã", "Commune officer"),
            Role::CommuneLeader => Text::new("Lãnh đạo UBND xã", "Commune leader"),
            Role::ProvinceViewer => Text::new("Cán bộ cấp tỉnh", "Province viewer"),
            Role::Admin => Text::new("Quản trị hệ thống", "Administrator"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    /// The area the user works in; their scope is this area and everything below it.
    pub area_id: String,
    pub active: bool,
}

/// What an administrator sends to create a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub area_id: String,
    pub password: String,
}

pub const MIN_PASSWORD_CHARS: usize = 10;

impl Validate for NewUser {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.required_text("username", &self.username, 50);
        if !self
            .username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            e.push(
                "username",
                "invalid_username",
                Text::new(
                    "Tên đăng nhập chỉ gồm chữ không dấu, số và . _ -",
                    "A username holds only plain letters, digits and . _ -",
                ),
            );
        }
        e.required_text("full_name", &self.full_name, 100);
        e.required_text("area_id", &self.area_id, 64);
        if self.password.chars().count() < MIN_PASSWORD_CHARS {
            e.push(
                "password",
                "too_short",
                Text::new(
                    format!("Mật khẩu phải có ít nhất {MIN_PASSWORD_CHARS} ký tự."),
                    format!("The password needs at least {MIN_PASSWORD_CHARS} characters."),
                ),
            );
        }
        e.max_len("password", &self.password, 200);
        e.into_result()
    }
}

/// What an administrator may change on a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub full_name: Option<String>,
    pub role: Option<Role>,
    pub area_id: Option<String>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

impl Validate for UserUpdate {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        if let Some(n) = &self.full_name {
            e.required_text("full_name", n, 100);
        }
        if let Some(p) = &self.password
            && p.chars().count() < MIN_PASSWORD_CHARS
        {
            e.push(
                "password",
                "too_short",
                Text::new(
                    format!("Mật khẩu phải có ít nhất {MIN_PASSWORD_CHARS} ký tự."),
                    format!("The password needs at least {MIN_PASSWORD_CHARS} characters."),
                ),
            );
        }
        e.into_result()
    }
}
