//! Who an MQTT connection acts as: the same credentials as HTTP. The CONNECT password is an API
//! token (a configured service token or a personal token; the username is then free, e.g. the
//! device's name) or, failing that, the password of the account named by the username (argon2,
//! with the login throttling of the HTTP login). Roles decide topics as they decide HTTP:
//! creating an observation needs `operator` (an STA write), subscribing needs the read right.

use crate::accounts::{Accounts, Role, password};
use crate::config::Config;
use crate::http::constant_time_eq;
use std::sync::Arc;

/// The principal of a connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Who {
    Anonymous,
    /// No credentials on a `--open` server: may publish, as anonymous HTTP writes may there.
    Open,
    Service,
    /// A personal token: re-resolved before each publish, so a revoked token stops at once.
    Token {
        token: String,
        name: String,
    },
    /// A login by password: the account's role at CONNECT.
    User {
        name: String,
        role: Role,
    },
}

/// Why a CONNECT is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    BadCredentials,
    Throttled,
}

impl Who {
    /// The role the connection acts with now (`None`: only what is public).
    pub fn role(&self, accounts: &Accounts) -> Option<Role> {
        match self {
            Who::Anonymous => None,
            Who::Open => Some(Role::Reviewer),
            Who::Service => Some(Role::Admin),
            Who::Token { token, .. } => accounts
                .token(token, store::clock::now_millis())
                .and_then(|p| p.role()),
            Who::User { role, .. } => Some(*role),
        }
    }

    /// May store observations (the HTTP STA write rule: operator or above).
    pub fn may_write(&self, accounts: &Accounts) -> bool {
        self.role(accounts).is_some_and(|r| r >= Role::Operator)
    }

    /// May subscribe (reads are public unless `[auth] read_public = false`).
    pub fn may_read(&self, accounts: &Accounts, config: &Config) -> bool {
        config.auth.read_public || config.auth.open || self.role(accounts).is_some()
    }

    /// Sees station MNs in what it receives: a credential of the operator role or above, as
    /// over HTTP (never `--open`).
    pub fn sees_mn(&self, accounts: &Accounts) -> bool {
        !matches!(self, Who::Open) && self.may_write(accounts)
    }

    pub fn label(&self) -> String {
        match self {
            Who::Anonymous => "anonymous".into(),
            Who::Open => "anonymous (--open)".into(),
            Who::Service => "service".into(),
            Who::Token { token, name } => {
                format!("token:{}…({name})", token.get(..8).unwrap_or(""))
            }
            Who::User { name, .. } => format!("user:{name}"),
        }
    }
}

/// Resolves a CONNECT's username and password; `peer` keys the address throttle.
pub async fn authenticate(
    accounts: &Arc<Accounts>,
    config: &Config,
    login: Option<(&str, &str)>,
    peer: &str,
) -> Result<Who, Refusal> {
    let Some((user, pass)) = login else {
        return Ok(if config.auth.open {
            Who::Open
        } else {
            Who::Anonymous
        });
    };
    // Every configured token is compared in full, so timing tells nothing about any of them.
    let service = config.auth.tokens.iter().fold(false, |found, k| {
        found | constant_time_eq(pass.as_bytes(), k.as_bytes())
    });
    if service {
        return Ok(Who::Service);
    }
    if let Some(p) = accounts.token(pass, store::clock::now_millis()) {
        let name = match p {
            crate::accounts::Principal::User { name, .. } => name,
            other => other.label(),
        };
        return Ok(Who::Token {
            token: pass.to_string(),
            name,
        });
    }
    let name_key = [format!("name:{user}")];
    let addr_key = [format!("addr:{peer}")];
    let (by_name, by_addr) = (&accounts.throttle, &accounts.throttle_addr);
    if by_name
        .blocked(&name_key)
        .max(by_addr.blocked(&addr_key))
        .is_some()
    {
        return Err(Refusal::Throttled);
    }
    let record = match &accounts.store {
        Some(store) => store
            .user_by_name(user)
            .await
            .ok()
            .flatten()
            .filter(|u| !u.disabled),
        None => None,
    };
    let ok = password::verify_blocking(
        pass.to_string(),
        record.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    match record.filter(|_| ok) {
        Some(u) => {
            by_name.succeeded(&name_key);
            let role = Role::parse(&u.role).ok_or(Refusal::BadCredentials)?;
            Ok(Who::User { name: u.name, role })
        }
        None => {
            by_name.failed(&name_key);
            by_addr.failed(&addr_key);
            Err(Refusal::BadCredentials)
        }
    }
}
