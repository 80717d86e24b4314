//! The engine and the RON loader, on small hand-made knowledge bases and fact sets:
//! joins, negation, alternatives, ordering, cycle and dangling-read rejection, ranking
//! ties, outcomes (fired / passed / skipped / error), and loader errors with positions.

use mailsleuth::engine::{self, Status};
use mailsleuth::kb::{KbError, Knowledge};
use mailsleuth::model::{Fact, FactSet};

fn kb(files: &[(&str, &str)]) -> Result<Knowledge, Vec<KbError>> {
    mailsleuth::knowledge_from_files(files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect())
}

fn ok_kb(files: &[(&str, &str)]) -> Knowledge {
    kb(files).unwrap_or_else(|e| panic!("{}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")))
}

fn errors(files: &[(&str, &str)]) -> String {
    match kb(files) {
        Ok(_) => panic!("expected the knowledge base to be rejected"),
        Err(e) => e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"),
    }
}

fn dir(path: &str, mode: u32, owner: &str) -> Fact {
    Fact::new("path_stat")
        .with("path", path)
        .with("kind", "dir")
        .with("mode", mode)
        .with("owner", owner)
        .evidence(format!("stat {path}"), format!("{mode:o} {owner} {path}"))
}

fn postconf(name: &str, value: &str) -> Fact {
    Fact::new("postconf").with("name", name).with("value", value).with("is_default", false)
}

fn sig(id: &str, category: &str, count: i64) -> Fact {
    Fact::new("log_signature").with("id", id).with("category", category).with("severity", "error").with("count", count)
}

fn set(facts: Vec<Fact>) -> FactSet {
    let mut s = FactSet::new();
    s.extend(facts);
    s
}

const JOIN_RULE: &str = r#"(
    id: "permissions.owned_by_mail_owner",
    title: "{d.path} is owned by {user}",
    description: "test rule: a directory owned by the mail_owner account",
    kind: RootCause,
    when: [
        Match(fact: "postconf", where: {"name": Eq("mail_owner"), "value": Eq("$user")}),
        Match(fact: "path_stat", as: "d", where: {"owner": Eq("$user")}),
    ],
    fix: ["chown root {d.path}"],
    references: ["test"],
)"#;

#[test]
fn a_variable_bound_in_one_condition_joins_another() {
    let k = ok_kb(&[("rules/permissions/owned_by_mail_owner.ron", JOIN_RULE)]);
    let facts = set(vec![dir("/a", 0o700, "postfix"), dir("/b", 0o700, "root"), postconf("mail_owner", "postfix")]);
    let ev = engine::run(&k, facts);
    let titles: Vec<&str> = ev.diagnoses.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles, ["/a is owned by postfix"]);
    assert_eq!(ev.diagnoses[0].fix, ["chown root /a"]);
    // Evidence is the matched facts' own (the postconf fact has none; the stat line).
    assert_eq!(ev.diagnoses[0].evidence[0].source, "stat /a");
}

#[test]
fn values_from_the_inspected_system_are_shell_quoted_in_fixes() {
    let k = ok_kb(&[("rules/permissions/owned_by_mail_owner.ron", JOIN_RULE)]);
    let facts = set(vec![dir("/var/mail/x; rm -rf /", 0o700, "postfix"), postconf("mail_owner", "postfix")]);
    let ev = engine::run(&k, facts);
    assert_eq!(ev.diagnoses[0].fix, ["chown root '/var/mail/x; rm -rf /'"]);
}

const NEG_RULE: &str = r#"(
    id: "permissions.tmp_latent",
    title: "{t.path} is {t.mode|octal}",
    description: "test rule: /tmp wrong with no log evidence",
    kind: RootCause,
    when: [
        Match(fact: "path_stat", as: "t", where: {"path": Eq("/tmp"), "mode": LacksBits(0o1777)}),
        Not(Match(fact: "log_signature", where: {"category": Eq("tmp-file-failure")})),
    ],
    fix: ["chmod 1777 {t.path}"],
    references: ["test"],
)"#;

#[test]
fn negation_holds_only_when_no_fact_matches() {
    let k = ok_kb(&[("rules/permissions/tmp_latent.ron", NEG_RULE)]);
    let without = engine::run(&k, set(vec![dir("/tmp", 0o700, "root"), sig("x.other", "disk-full", 3)]));
    assert_eq!(without.diagnoses.len(), 1);
    assert_eq!(without.diagnoses[0].title, "/tmp is 0700");
    let with = engine::run(&k, set(vec![dir("/tmp", 0o700, "root"), sig("maildrop.tmpfile", "tmp-file-failure", 3)]));
    assert!(with.diagnoses.is_empty());
    assert_eq!(with.outcome("permissions.tmp_latent").map(|o| o.status), Some(Status::Passed));
    // Mode tests: 1777 has every bit, so LacksBits(0o1777) fails.
    let fine = engine::run(&k, set(vec![dir("/tmp", 0o1777, "root")]));
    assert!(fine.diagnoses.is_empty());
}

#[test]
fn any_and_optional() {
    let rule = r#"(
        id: "delivery.any_opt",
        title: "{s.id} seen",
        description: "test rule",
        kind: Symptom,
        when: [
            Any([
                Match(fact: "log_signature", as: "s", where: {"category": Eq("disk-full")}),
                Match(fact: "log_signature", as: "s", where: {"category": Eq("tmp-file-failure"), "count": Ge(5)}),
            ]),
            Optional(Match(fact: "path_stat", as: "t", where: {"path": Eq("/tmp")})),
        ],
        evidence: ["tmp is {t.mode|octal}"],
        references: ["test"],
    )"#;
    let k = ok_kb(&[("rules/delivery/any_opt.ron", rule)]);
    let ev = engine::run(&k, set(vec![sig("a.tmp", "tmp-file-failure", 4), sig("b.disk", "disk-full", 1)]));
    let titles: Vec<&str> = ev.diagnoses.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles, ["b.disk seen"]);
    // Without /tmp the optional sentence is left out; with it, it is cited.
    assert!(ev.diagnoses[0].evidence.iter().all(|e| !e.text.starts_with("tmp is")));
    let ev = engine::run(&k, set(vec![sig("b.disk", "disk-full", 1), dir("/tmp", 0o700, "root")]));
    assert!(ev.diagnoses[0].evidence.iter().any(|e| e.text == "tmp is 0700"));
}

#[test]
fn all_inside_any() {
    // Either a full disk, or /tmp without its sticky bit *and* no tmp-file failure logged.
    let rule = r#"(
        id: "delivery.all_in_any",
        title: "something is wrong",
        description: "test rule",
        kind: Symptom,
        when: [
            Any([
                Match(fact: "log_signature", as: "s", where: {"category": Eq("disk-full")}),
                All([
                    Match(fact: "path_stat", as: "t", where: {"path": Eq("/tmp"), "mode": LacksBits(0o1000)}),
                    Not(Match(fact: "log_signature", where: {"category": Eq("tmp-file-failure")})),
                ]),
            ]),
        ],
        evidence: ["{s.id} logged", "tmp is {t.mode|octal}"],
        references: ["test"],
    )"#;
    let k = ok_kb(&[("rules/delivery/all_in_any.ron", rule)]);
    let ev = engine::run(&k, set(vec![dir("/tmp", 0o777, "root")]));
    assert_eq!(ev.diagnoses.len(), 1);
    // The alias bound by the other alternative is not cited; this one is.
    let texts: Vec<&str> = ev.diagnoses[0].evidence.iter().map(|e| e.text.as_str()).collect();
    assert!(texts.contains(&"tmp is 0777"), "{texts:?}");
    assert!(!texts.iter().any(|t| t.ends_with(" logged")), "{texts:?}");
    // Both parts of All must hold.
    let ev = engine::run(&k, set(vec![dir("/tmp", 0o777, "root"), sig("a.tmp", "tmp-file-failure", 1)]));
    assert!(ev.diagnoses.is_empty());
    let ev = engine::run(&k, set(vec![dir("/tmp", 0o1777, "root")]));
    assert!(ev.diagnoses.is_empty());
    let ev = engine::run(&k, set(vec![sig("b.disk", "disk-full", 1)]));
    assert_eq!(ev.diagnoses.len(), 1);
}

#[test]
fn a_fix_command_citing_an_absent_optional_fact_is_left_out() {
    let rule = r#"(
        id: "delivery.opt_fix",
        title: "{s.id} seen",
        description: "test rule",
        kind: RootCause,
        when: [
            Match(fact: "log_signature", as: "s", where: {"category": Eq("disk-full")}),
            Optional(Match(fact: "path_stat", as: "t", where: {"path": Eq("/tmp")})),
        ],
        fix: ["df -h /", "chmod 1777 {t.path}"],
        references: ["test"],
    )"#;
    let k = ok_kb(&[("rules/delivery/opt_fix.ron", rule)]);
    let ev = engine::run(&k, set(vec![sig("b.disk", "disk-full", 1)]));
    assert_eq!(ev.diagnoses[0].fix, ["df -h /"]);
    let ev = engine::run(&k, set(vec![sig("b.disk", "disk-full", 1), dir("/tmp", 0o700, "root")]));
    assert_eq!(ev.diagnoses[0].fix, ["df -h /", "chmod 1777 /tmp"]);
    // A required alias whose field is missing is still a rule defect, never silently dropped.
    let broken = rule.replace("{t.path}", "{s.min_size}");
    let k = ok_kb(&[("rules/delivery/opt_fix.ron", broken.as_str())]);
    let ev = engine::run(&k, set(vec![sig("b.disk", "disk-full", 1)]));
    assert_eq!(ev.outcome("delivery.opt_fix").map(|o| o.status), Some(Status::Error));
}

fn derived(id: &str, reads: &str, concludes: &str) -> String {
    format!(
        r#"(id: "{id}", title: "t", description: "d", kind: Derived,
            when: [Match(fact: "{reads}", as: "x")],
            derive: (fact: "{concludes}", fields: {{"from": "{id}"}}))"#
    )
}

#[test]
fn rules_run_in_dependency_order_whatever_their_names() {
    // z.first concludes k1; m.second reads k1, concludes k2; a.third reads k2.
    let first = derived("z.first", "path_stat", "k1");
    let second = derived("m.second", "k1", "k2");
    let third = r#"(id: "a.third", title: "chain reached {x.from}", description: "d", kind: Symptom,
        when: [Match(fact: "k2", as: "x")], references: ["t"])"#;
    let k = ok_kb(&[("rules/z/first.ron", &first), ("rules/m/second.ron", &second), ("rules/a/third.ron", third)]);
    let order: Vec<&str> = k.order.iter().map(|&i| k.rules[i].rule.id.as_str()).collect();
    assert_eq!(order, ["z.first", "m.second", "a.third"]);
    let ev = engine::run(&k, set(vec![dir("/tmp", 0o700, "root")]));
    assert_eq!(ev.diagnoses.len(), 1);
    assert_eq!(ev.diagnoses[0].title, "chain reached m.second");
}

#[test]
fn a_cycle_between_rules_is_rejected_naming_them() {
    let a = derived("x.a", "k2", "k1");
    let b = derived("x.b", "k1", "k2");
    let e = errors(&[("rules/x/a.ron", &a), ("rules/x/b.ron", &b)]);
    assert!(e.contains("cycle"), "{e}");
    assert!(e.contains("x.a") && e.contains("x.b"), "{e}");
}

#[test]
fn reading_a_kind_nothing_produces_is_rejected_with_a_hint() {
    let r = r#"(id: "x.dangling", title: "t", description: "d", kind: Symptom,
        when: [Match(fact: "path_stats", where: {"path": Eq("/tmp")})], references: ["t"])"#;
    let e = errors(&[("rules/x/dangling.ron", r)]);
    assert!(e.contains("rules/x/dangling.ron"), "{e}");
    assert!(e.contains("`path_stats`, which nothing produces — did you mean `path_stat`?"), "{e}");
    let r = r#"(id: "x.field", title: "t", description: "d", kind: Symptom,
        when: [Match(fact: "postconf", where: {"nmae": Eq("relayhost")})], references: ["t"])"#;
    let e = errors(&[("rules/x/field.ron", r)]);
    assert!(e.contains("did you mean `postconf.name`?"), "{e}");
}

#[test]
fn unbound_variables_duplicate_ids_and_mismatched_files_are_rejected() {
    let r = r#"(id: "x.unbound", title: "{nobody}", description: "d", kind: Symptom,
        when: [Match(fact: "path_stat", where: {"owner": Ne("$user")})], references: ["t"])"#;
    let e = errors(&[("rules/x/unbound.ron", r)]);
    assert!(e.contains("`user` is used before it is bound"), "{e}");
    assert!(e.contains("`nobody` is used before it is bound"), "{e}");
    let dup = derived("x.same", "path_stat", "k9");
    let e = errors(&[("rules/x/same.ron", &dup), ("extra/same.ron", &dup)]);
    assert!(e.contains("duplicate rule id"), "{e}");
    let e = errors(&[("rules/x/other_name.ron", &dup)]);
    assert!(e.contains("expected `same.ron`"), "{e}");
}

#[test]
fn broken_rule_files_report_file_line_column_and_what_was_expected() {
    let unknown_field = "(\n    id: \"x.y\",\n    titel: \"typo\",\n)";
    let e = errors(&[("rules/x/y.ron", unknown_field)]);
    assert!(e.starts_with("rules/x/y.ron:3:"), "{e}");
    assert!(e.contains("titel") && e.contains("title"), "{e}");

    let syntax = "(\n    id: \"x.y\"\n    title: \"missing comma above\",\n)";
    let e = errors(&[("rules/x/y.ron", syntax)]);
    assert!(e.starts_with("rules/x/y.ron:3:"), "{e}");
    assert!(e.to_lowercase().contains("expected"), "{e}");

    let regex = "(id: \"x.y\", title: \"t\", description: \"d\", kind: Symptom,\n  when: [Match(fact: \"postconf\", where: {\"value\": Matches(\"([unclosed\")})])";
    let e = errors(&[("rules/x/y.ron", regex)]);
    assert!(e.starts_with("rules/x/y.ron:2:"), "{e}");
    assert!(e.contains("invalid regex"), "{e}");

    // Nothing half-loaded: one bad file rejects the whole set.
    let good = derived("x.good", "path_stat", "k3");
    assert!(kb(&[("rules/x/good.ron", &good), ("rules/x/y.ron", syntax)]).is_err());
}

fn diag_rule(id: &str, kind: &str, priority: i32, extra_tests: &str, explains: &str) -> String {
    format!(
        r#"(id: "{id}", title: "{id}", description: "d", kind: {kind}, priority: {priority}, confidence: 0.5,
            when: [Match(fact: "path_stat", where: {{"path": Eq("/tmp") {extra_tests}}})],
            fix: ["true"], explains: [{explains}], references: ["t"])"#
    )
}

#[test]
fn ranking_is_priority_then_root_cause_then_explanations_then_specificity_then_id() {
    let files = [
        ("rules/r/b_tie.ron", diag_rule("r.b_tie", "RootCause", 0, "", "")),
        ("rules/r/a_tie.ron", diag_rule("r.a_tie", "RootCause", 0, "", "")),
        ("rules/r/specific.ron", diag_rule("r.specific", "RootCause", 0, r#", "kind": Eq("dir")"#, "")),
        ("rules/r/explainer.ron", diag_rule("r.explainer", "RootCause", 0, "", r#""s.symptom""#)),
        ("rules/s/symptom.ron", diag_rule("s.symptom", "Symptom", 0, r#", "kind": Eq("dir"), "mode": Exists"#, "")),
        ("rules/s/urgent.ron", diag_rule("s.urgent", "Symptom", 5, "", "")),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let k = ok_kb(&files);
    let ev = engine::run(&k, set(vec![dir("/tmp", 0o700, "root")]));
    let ids: Vec<&str> = ev.diagnoses.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["s.urgent", "r.explainer", "r.specific", "r.a_tie", "r.b_tie", "s.symptom"]);
    let ranks: Vec<usize> = ev.diagnoses.iter().map(|d| d.rank).collect();
    assert_eq!(ranks, [1, 2, 3, 4, 5, 6]);
    assert_eq!(ev.diagnoses[5].explained_by, ["r.explainer"]);
    // Deterministic: the same input gives the same order every time.
    let again = engine::run(&k, set(vec![dir("/tmp", 0o700, "root")]));
    assert_eq!(again.diagnoses.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ids);
}

#[test]
fn a_rule_whose_input_could_not_be_observed_is_skipped_not_passed() {
    let k = ok_kb(&[("rules/permissions/tmp_latent.ron", NEG_RULE)]);
    let mut facts = FactSet::new();
    facts.unavailable("path_stat", "stat /tmp", "permission denied");
    let ev = engine::run(&k, facts);
    let o = ev.outcome("permissions.tmp_latent").expect("outcome");
    assert_eq!(o.status, Status::Skipped);
    assert_eq!(o.missing[0].what, "stat /tmp");
    assert_eq!(o.missing[0].why, "permission denied");
}

#[test]
fn a_rule_that_fails_before_reaching_an_unobservable_kind_is_passed() {
    // No /tmp problem at all: that the logs could not be read does not matter.
    let r = r#"(id: "x.order", title: "t", description: "d", kind: Symptom,
        when: [Match(fact: "path_stat", where: {"path": Eq("/tmp"), "mode": LacksBits(0o1777)}),
               Match(fact: "log_signature", where: {"category": Eq("tmp-file-failure")})], references: ["t"])"#;
    let k = ok_kb(&[("rules/x/order.ron", r)]);
    let mut facts = set(vec![dir("/tmp", 0o1777, "root")]);
    facts.unavailable("log_signature", "mail logs", "permission denied");
    assert_eq!(engine::run(&k, facts).outcome("x.order").map(|o| o.status), Some(Status::Passed));
    let mut facts = set(vec![dir("/tmp", 0o700, "root")]);
    facts.unavailable("log_signature", "mail logs", "permission denied");
    assert_eq!(engine::run(&k, facts).outcome("x.order").map(|o| o.status), Some(Status::Skipped));
}

#[test]
fn absence_of_an_unobservable_kind_is_not_proof() {
    // /tmp is wrong, but the logs could not be read: "no tmp-file-failure line" is unknown.
    let k = ok_kb(&[("rules/permissions/tmp_latent.ron", NEG_RULE)]);
    let mut facts = set(vec![dir("/tmp", 0o700, "root")]);
    facts.unavailable("log_signature", "mail logs", "permission denied");
    let ev = engine::run(&k, facts);
    let o = ev.outcome("permissions.tmp_latent").expect("outcome");
    assert_eq!(o.status, Status::Skipped);
    assert!(ev.diagnoses.is_empty());
}

#[test]
fn a_type_error_in_a_test_is_an_error_outcome_not_a_panic() {
    let r = r#"(id: "x.bad", title: "t", description: "d", kind: Symptom,
        when: [Match(fact: "path_stat", where: {"owner": Gt(5)})], references: ["t"])"#;
    let k = ok_kb(&[("rules/x/bad.ron", r)]);
    let ev = engine::run(&k, set(vec![dir("/tmp", 0o700, "root")]));
    let o = ev.outcome("x.bad").expect("outcome");
    assert_eq!(o.status, Status::Error);
    assert!(o.detail.contains("not a number"), "{}", o.detail);
}

#[test]
fn the_embedded_knowledge_base_loads_and_lints_without_errors() {
    let k = mailsleuth::load_knowledge(&[], false).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(k.rules.len() >= 7);
    let errors: Vec<String> = mailsleuth::kb::lint::check(&k).into_iter().filter(|d| d.error).map(|d| d.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let dot = mailsleuth::kb::graph::to_dot(&k);
    assert!(dot.starts_with("digraph mailsleuth {") && dot.contains("\"permissions.tmp_blocks_maildrop\""));
}
