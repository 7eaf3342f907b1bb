//! Where a scenario's values were written, kept with the validated scenario so that a
//! problem found after reading (compiling the model, a trial's money leaving the exact
//! range) is located like a reading error: at the value its key names in the file, or in
//! the `--set` argument that gave it, found by the same path walk `--set` uses
//! (`paths::find`).
use super::paths;
use super::tree::Node;
use crate::diagnostic::{Diagnostic, Location, Severity, Sources};
use std::sync::Arc;

/// The texts (the file and each `--set` value) and the spanned tree after the overrides;
/// empty for a scenario not read from text, whose problems then go unlocated.
#[derive(Clone, Debug, Default)]
pub struct Origin(Option<Arc<(Sources, Node)>>);

impl Origin {
    pub fn new(sources: Sources, root: Node) -> Origin {
        Origin(Some(Arc::new((sources, root))))
    }

    /// Where `key` (a dotted path such as `metric.nea.cohort` or `risk.0.impact`) was
    /// written: its value, else the nearest enclosing entry or section; None if nothing in
    /// the text matches.
    pub fn locate(&self, key: &str) -> Option<Location> {
        let (sources, root) = self.0.as_deref()?;
        paths::find(root, key).map(|node| sources.locate(node.span))
    }

    /// An error about `key`, located as `locate` finds it.
    pub fn error(&self, key: &str, message: &str, hint: &str) -> Option<Diagnostic> {
        Some(Diagnostic {
            severity: Severity::Error,
            location: self.locate(key)?,
            key: key.to_string(),
            message: message.to_string(),
            hint: hint.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::load_str;

    const TEXT: &str = include_str!("../../scenarios/ealing-2014.toml");

    /// Line and column of the first `needle` at or after the first `after`.
    fn at(after: &str, needle: &str) -> (usize, usize) {
        let from = TEXT.find(after).unwrap();
        let offset = from + TEXT[from..].find(needle).unwrap();
        crate::diagnostic::line_col(TEXT, offset)
    }

    #[test]
    fn keys_are_located_at_their_values_or_nearest_enclosing_entry() {
        let loaded = load_str("e.toml", TEXT, &[]).unwrap();
        let origin = &loaded.scenario.origin;
        let place = |key: &str| {
            let l = origin.locate(key).unwrap();
            assert_eq!(l.file, "e.toml", "{key}");
            (l.line, l.column)
        };
        let cohort = at("cohort = 400", "400");
        assert_eq!(place("metric.reablement91.cohort"), cohort);
        assert_eq!(place("metric.3.cohort"), cohort);
        let impact = at("id = \"acute_overperformance\"", "{ dist");
        assert_eq!(place("risk.acute_overperformance.impact"), impact);
        assert_eq!(place("risk.0.impact"), impact);
        assert_eq!(place("fund.pot"), at("pot = ", "\"6300000\""));
        assert_eq!(place("partners.nhs"), at("nhs = ", "{"));
        // A key left at its default (Ealing's nea has no seasonality): its entry's header.
        assert_eq!(place("metric.nea.seasonality"), at("", "[[metric]]"));
        // A whole list (a scheme's budget lines, the correlations): its first header.
        assert_eq!(
            place("scheme.reablement.cost"),
            at("id = \"reablement\"", "[[scheme.cost]]")
        );
        assert_eq!(place("correlation"), at("", "[[correlation]]"));
        // An entry the file does not have: the list it would be in.
        assert_eq!(place("scheme.nope.cost"), at("", "[[scheme]]"));
        assert!(origin.locate("nothing.here").is_none());
        assert!(
            crate::scenario::Origin::default()
                .locate("fund.pot")
                .is_none()
        );
    }

    #[test]
    fn compile_and_check_locate_their_errors_alike() {
        let mut scenario = load_str("e.toml", TEXT, &[]).unwrap().scenario;
        scenario.metrics[3].cohort = 0.5;
        let checked = crate::model::check(&scenario).unwrap_err();
        let compiled = crate::model::compile(&scenario, 1).unwrap_err();
        let cohort = at("cohort = 400", "400");
        assert_eq!(
            compiled.to_string(),
            format!(
                "e.toml:{}:{}: error: `metric.reablement91.cohort`: the window of tranche `all_metrics_1516` observes no one (cohort 0.5 a year)\n  hint: raise the cohort or lengthen the window",
                cohort.0, cohort.1
            )
        );
        assert_eq!(checked.to_string(), compiled.to_string());
        // Without an origin the message is as before, unlocated.
        scenario.origin = crate::scenario::Origin::default();
        assert!(
            crate::model::compile(&scenario, 1)
                .unwrap_err()
                .to_string()
                .starts_with("`metric.reablement91.cohort`: the window")
        );
    }

    #[test]
    fn a_value_given_by_set_is_located_in_its_argument() {
        let sets = ["metric.reablement91.cohort=500".to_string()];
        let loaded = load_str("e.toml", TEXT, &sets).unwrap();
        let l = loaded
            .scenario
            .origin
            .locate("metric.reablement91.cohort")
            .unwrap();
        assert_eq!(l.to_string(), "--set metric.reablement91.cohort:1:1");
    }
}
