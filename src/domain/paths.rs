//! Field paths, written one way everywhere: `config.risk_limits.max_units_per_order`,
//! `platforms_enabled[2]`. Violations, form input names and diffs all name values with them.

/// `config` + `risk_limits` → `config.risk_limits`; an empty prefix gives the key alone.
pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// `platforms` + 2 → `platforms[2]`.
pub fn index(prefix: &str, i: usize) -> String {
    format!("{prefix}[{i}]")
}

#[cfg(test)]
mod tests {
    #[test]
    fn joins_and_indexes() {
        assert_eq!(super::join("", "a"), "a");
        assert_eq!(super::join("a.b", "c"), "a.b.c");
        assert_eq!(super::index("a", 3), "a[3]");
    }
}
