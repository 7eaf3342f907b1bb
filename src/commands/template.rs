//! `itfsim template`: a complete, valid, commented starter scenario.

/// The template text (validated by the test suite).
pub const TEMPLATE: &str = include_str!("../template.toml");

pub fn template() -> Result<(), super::Failure> {
    // Through `emit`, as every command's output: a full disk is exit 73, a closed pipe
    // is not an error.
    super::emit(None, TEMPLATE.as_bytes())
}
