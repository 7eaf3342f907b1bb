//! `itfsim template`: a complete, valid, commented starter scenario.

/// The template text (validated by the test suite).
pub const TEMPLATE: &str = include_str!("../template.toml");

pub fn template() -> Result<(), super::Failure> {
    print!("{TEMPLATE}");
    Ok(())
}
