//! Reference data the knowledge base holds beside rules and signatures: what `log_values`
//! counts per signature (`knowledge/log-values.ron`), Postfix's defaults
//! (`knowledge/postfix/defaults.ron`).

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
