//! Reference data the knowledge base holds beside rules and signatures: what `log_values`
//! counts per signature (`knowledge/log-values.ron`), Postfix's defaults
//! (`knowledge/postfix/defaults.ron`), the DNS block lists (`knowledge/blocklists.ron`).
//! Each file is embedded; [`check`] makes a broken one a load error of the knowledge base
//! instead of an empty table.

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub const DEFAULTS_RON: &str = include_str!("../../knowledge/postfix/defaults.ron");

const TALLY_RON: &str = include_str!("../../knowledge/log-values.ron");

/// What is counted for one signature.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallySpec {
    /// Captures (or `program`) whose values are counted.
    pub fields: Vec<String>,
    /// A capture that splits the lines into groups counted apart (e.g. the lookup table).
    #[serde(default)]
    pub by: Option<String>,
}

/// Signature id → what is counted for it.
pub fn tallies() -> &'static BTreeMap<String, TallySpec> {
    static T: OnceLock<BTreeMap<String, TallySpec>> = OnceLock::new();
    // The file is part of the binary and checked by a unit test; an error here is a build defect.
    T.get_or_init(|| super::ron_options().from_str(TALLY_RON).unwrap_or_default())
}

/// Compiled-in defaults of the parameters mailsleuth reasons about.
pub fn postfix_defaults() -> &'static BTreeMap<String, String> {
    static D: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    // The file is part of the binary and checked by a unit test; an error here is a build defect.
    D.get_or_init(|| ron::from_str(DEFAULTS_RON).unwrap_or_default())
}

#[derive(Debug, serde::Deserialize)]
pub struct Blocklist {
    pub name: String,
    #[serde(rename = "match")]
    pub words: Vec<String>,
    #[serde(default)]
    pub zone: Option<String>,
    pub delist: String,
}

const BLOCKLISTS_RON: &str = include_str!("../../knowledge/blocklists.ron");

/// The block lists of `knowledge/blocklists.ron` (checked by a unit test).
pub fn blocklists() -> &'static [Blocklist] {
    static B: OnceLock<Vec<Blocklist>> = OnceLock::new();
    B.get_or_init(|| super::ron_options().from_str(BLOCKLISTS_RON).unwrap_or_default())
}

/// Parse a reference file with its schema: the error says what is wrong, `Ok` for files
/// that are not reference data this mailsleuth reads.
pub fn check(path: &str, text: &str) -> Result<(), ron::error::SpannedError> {
    let opts = super::ron_options();
    match path {
        "knowledge/log-values.ron" => opts.from_str::<BTreeMap<String, TallySpec>>(text).map(|_| ()),
        "knowledge/postfix/defaults.ron" => ron::from_str::<BTreeMap<String, String>>(text).map(|_| ()),
        "knowledge/blocklists.ron" => opts.from_str::<Vec<Blocklist>>(text).map(|_| ()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::kb::Knowledge;

    #[test]
    fn a_broken_reference_file_is_a_load_error_not_an_empty_table() {
        let files = vec![("knowledge/blocklists.ron".to_string(), "[ (name: ".to_string())];
        let errs = Knowledge::from_files(Vec::new(), files).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].file, "knowledge/blocklists.ron");
        assert!(super::check("knowledge/log-values.ron", "{}").is_ok());
    }
}
