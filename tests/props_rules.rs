//! Property test: damaged rule files are load errors that name the file, never a panic.
//! (Seeds: the embedded knowledge base's own files.)

use mailsleuth::kb::embedded_files;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12), ..ProptestConfig::default() })]

    /// A real rule file, damaged anywhere (a cut, an inserted character), is loaded or
    /// refused with an error naming it: never a panic, never half-loaded.
    #[test]
    fn a_damaged_rule_file_is_refused_cleanly(pick in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), cut in 0usize..40, insert in "\\PC{0,3}") {
        let files = embedded_files();
        let rules: Vec<usize> = (0..files.len()).filter(|&i| files[i].0.starts_with("rules/")).collect();
        prop_assume!(!rules.is_empty());
        let i = rules[pick.index(rules.len())];
        let mut files = files;
        let text = &files[i].1;
        let mut pos = at.index(text.len().max(1));
        while !text.is_char_boundary(pos) {
            pos -= 1;
        }
        let mut end = (pos + cut).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let damaged = format!("{}{insert}{}", &text[..pos], &text[end..]);
        let name = files[i].0.clone();
        files[i].1 = damaged;
        if let Err(errs) = mailsleuth::knowledge_from_files(files) {
            prop_assert!(!errs.is_empty());
            prop_assert!(errs.iter().any(|e| e.to_string().contains(&name) || e.to_string().contains("rule")), "{:?}", errs.iter().map(ToString::to_string).collect::<Vec<_>>());
        }
    }
}
