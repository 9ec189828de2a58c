//! Pure types and rules of revokd's model: no I/O here. A value of one of these
//! types has been validated once, at the edge, and needs no checking again.

pub mod audit;
mod client;
mod names;
pub mod policy;
pub mod revocation;
mod settings;
pub mod status_list;

pub use client::{ClientSpec, ClientType, GrantType};
pub use names::{ClientId, ConsentPublicId, DomainName, NameError, Scope, Scopes, Username, stored_scope_list};
pub use settings::{DomainSettings, SettingsPatch};
