//! `rrae fmt`: print a file in canonical form. Comments are kept; layout is rebuilt.
pub fn format_source(name: &str, text: &str) -> Result<String, String> {
    rrae_lang::fmt::format(name, text)
}
