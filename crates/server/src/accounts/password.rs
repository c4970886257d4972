//! Password hashing (argon2id, PHC strings) off the async runtime: a hash takes tens of
//! milliseconds by design.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// A well-formed hash of a password nobody has, verified against when the account does not
/// exist, so a wrong name costs as long as a wrong password.
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2RaMVXZVcX47qVw3U0tYZfzgHVdMaV8RiwSNgZq6M9k";

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least {0} characters")]
    TooShort(usize),
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

pub fn check_policy(password: &str, min_len: usize) -> Result<(), PasswordError> {
    if password.chars().count() < min_len {
        return Err(PasswordError::TooShort(min_len));
    }
    Ok(())
}

/// The PHC string of `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches `phc` (`None`: no such account — still does the work).
pub fn verify(password: &str, phc: Option<&str>) -> bool {
    let stored = phc.unwrap_or(DUMMY);
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && phc.is_some()
}

pub async fn hash_blocking(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))?
}

pub async fn verify_blocking(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, phc.as_deref()))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", Some(&h)));
        assert!(!verify("correct horsf", Some(&h)));
        assert!(!verify("correct horse", None));
        assert!(PasswordHash::new(DUMMY).is_ok());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_policy("1234567", 8).is_err());
        assert!(check_policy("12345678", 8).is_ok());
    }
}
