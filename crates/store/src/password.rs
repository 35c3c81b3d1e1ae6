//! Password hashing: argon2id, PHC strings (`$argon2id$v=19$m=...`).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Hash a password with argon2id and a random salt (the crate's default parameters, which
/// follow the OWASP recommendation: m=19 MiB, t=2, p=1). Returns a PHC string.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        // Only fails for invalid parameters or an over-long salt; ours are fixed and valid.
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

/// Check a password against a PHC string. A malformed string verifies nothing.
/// The parameters are read from the string, so older hashes keep working if the defaults
/// change.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}
