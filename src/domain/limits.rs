//! How large a definition may be: every id, name, label, option and pattern has a length the
//! database and the pages can hold, and a definition has a bounded number of fields and templates
//! (an unbounded one rendered a 63 MB editor page). Checked by meta-validation, each with its path.

use super::definition::{Definition, Field, Schema};
use crate::error::Violation;

pub const MAX_VERSION_CHARS: usize = 64;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
pub const MAX_OPTIONS: usize = 200;
pub const MAX_OPTION_CHARS: usize = 200;
/// Fields in one schema, counting sub-fields at every depth.
pub const MAX_FIELDS: usize = 200;
pub const MAX_DEPTH: usize = 4;
pub const MAX_TEMPLATES: usize = 50;
pub const MAX_PATTERN_CHARS: usize = 1_000;
/// The largest `max_length` a text field may declare.
pub const MAX_TEXT_CHARS: u64 = 100_000;

fn too_long(out: &mut Vec<Violation>, path: String, what: &str, text: &str, max: usize) {
    if text.chars().count() > max {
        out.push(Violation::new(
            path,
            format!("Keep the {what} to at most {max} characters."),
        ));
    }
}

/// Every size problem of a definition.
pub fn check(d: &Definition) -> Vec<Violation> {
    let mut out = vec![];
    too_long(
        &mut out,
        "version".into(),
        "version",
        &d.version,
        MAX_VERSION_CHARS,
    );
    if let Some(n) = &d.display_name {
        too_long(
            &mut out,
            "display_name".into(),
            "display name",
            n,
            MAX_NAME_CHARS,
        );
    }
    if let Some(t) = &d.description {
        too_long(
            &mut out,
            "description".into(),
            "description",
            t,
            MAX_DESCRIPTION_CHARS,
        );
    }
    check_schema(&d.config_schema, "config_schema", &mut out);
    if d.goal_templates.len() > MAX_TEMPLATES {
        out.push(Violation::new(
            "goal_templates",
            format!("A definition has at most {MAX_TEMPLATES} goal templates."),
        ));
    }
    for (i, t) in d.goal_templates.iter().enumerate().take(MAX_TEMPLATES) {
        let p = format!("goal_templates[{i}]");
        too_long(
            &mut out,
            format!("{p}.name"),
            "name",
            &t.name,
            MAX_NAME_CHARS,
        );
        if let Some(text) = &t.description {
            too_long(
                &mut out,
                format!("{p}.description"),
                "description",
                text,
                MAX_DESCRIPTION_CHARS,
            );
        }
        check_schema(
            &t.settings_schema,
            &format!("{p}.settings_schema"),
            &mut out,
        );
    }
    out
}

fn count(fields: &[Field]) -> usize {
    fields
        .iter()
        .map(|f| 1 + f.sub_fields().map_or(0, count))
        .sum()
}

fn check_schema(s: &Schema, path: &str, out: &mut Vec<Violation>) {
    if count(&s.fields) > MAX_FIELDS {
        out.push(Violation::new(
            format!("{path}.fields"),
            format!("A form has at most {MAX_FIELDS} fields, sub-fields included."),
        ));
        return;
    }
    check_fields(&s.fields, &format!("{path}.fields"), 1, out);
}

fn check_fields(fields: &[Field], path: &str, depth: usize, out: &mut Vec<Violation>) {
    for (i, f) in fields.iter().enumerate() {
        let p = format!("{path}[{i}]");
        too_long(out, format!("{p}.label"), "label", &f.label, MAX_NAME_CHARS);
        if let Some(t) = &f.description {
            too_long(
                out,
                format!("{p}.description"),
                "description",
                t,
                MAX_DESCRIPTION_CHARS,
            );
        }
        if let Some(options) = &f.options {
            if options.len() > MAX_OPTIONS {
                out.push(Violation::new(
                    format!("{p}.options"),
                    format!("A field has at most {MAX_OPTIONS} options."),
                ));
            }
            for (j, o) in options.iter().enumerate().take(MAX_OPTIONS) {
                too_long(
                    out,
                    format!("{p}.options[{j}]"),
                    "option",
                    o,
                    MAX_OPTION_CHARS,
                );
            }
        }
        if let Some(pattern) = &f.pattern {
            too_long(
                out,
                format!("{p}.pattern"),
                "pattern",
                pattern,
                MAX_PATTERN_CHARS,
            );
        }
        if f.max_length.is_some_and(|n| n > MAX_TEXT_CHARS)
            || f.min_length.is_some_and(|n| n > MAX_TEXT_CHARS)
        {
            out.push(Violation::new(
                format!("{p}.max_length"),
                format!("A text field holds at most {MAX_TEXT_CHARS} characters."),
            ));
        }
        if let Some(sub) = f.sub_fields() {
            if depth >= MAX_DEPTH {
                out.push(Violation::new(
                    format!("{p}.fields"),
                    format!("Groups nest at most {MAX_DEPTH} deep."),
                ));
            } else {
                check_fields(sub, &format!("{p}.fields"), depth + 1, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::definition::{Definition, FieldType};

    fn base() -> Definition {
        crate::domain::builtin::definitions()
            .into_iter()
            .next()
            .unwrap()
    }

    #[test]
    fn the_built_ins_fit() {
        for d in crate::domain::builtin::definitions() {
            assert_eq!(check(&d), vec![], "{}", d.id());
        }
    }

    #[test]
    fn oversized_parts_are_named_by_path() {
        let mut d = base();
        d.version = format!("1.0.0-{}", "a".repeat(3000));
        d.config_schema.fields[0].label = "L".repeat(201);
        d.config_schema.fields[0].pattern = Some("a".repeat(1001));
        let paths: Vec<String> = check(&d).into_iter().map(|v| v.path).collect();
        assert!(paths.contains(&"version".to_string()), "{paths:?}");
        assert!(
            paths.contains(&"config_schema.fields[0].label".to_string()),
            "{paths:?}"
        );
        assert!(
            paths.contains(&"config_schema.fields[0].pattern".to_string()),
            "{paths:?}"
        );
    }

    #[test]
    fn too_many_fields_is_one_clear_problem() {
        let mut d = base();
        d.config_schema.fields = (0..10_000)
            .map(|i| Field::new(&format!("f{i}"), "F", FieldType::Text))
            .collect();
        let problems = check(&d);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "config_schema.fields");
    }

    #[test]
    fn patterns_that_could_backtrack_are_refused_and_accepted_ones_run_in_linear_time() {
        use crate::domain::definition::meta_validate;
        use crate::domain::schema::{Mode, validate};
        let with_pattern = |pattern: &str| {
            let mut d = base();
            let mut f = Field::new("code", "Code", FieldType::Text);
            f.pattern = Some(pattern.into());
            d.config_schema.fields.push(f);
            d
        };
        for refused in ["(?<=a)(a*)*$", "(a)\\1", "(?=a)b", "(unclosed"] {
            let problems = meta_validate(&with_pattern(refused));
            assert!(
                problems.iter().any(|v| v.path.ends_with(".pattern")),
                "{refused}: {problems:?}"
            );
        }
        // The classic catastrophic shapes are fine on a linear-time engine: accepted, and fast.
        let worst = "^(a*)*(a|aa)+$";
        let d = with_pattern(worst);
        assert!(
            !meta_validate(&d)
                .iter()
                .any(|v| v.path.ends_with(".pattern")),
            "{worst} is accepted"
        );
        let mut value = "a".repeat(1 << 20);
        value.push('!');
        let config = serde_json::json!({ "code": value });
        let started = std::time::Instant::now();
        let problems = validate(&d.config_schema, &config, Mode::Draft);
        // A backtracking engine takes longer than the age of the universe here; this bound is a
        // hundred times what the linear engine needs even in a debug build.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(problems.iter().any(|v| v.path == "code"), "{problems:?}");
    }
}
