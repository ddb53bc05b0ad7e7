//! Semantic versions of agent types, parsed by the `semver` crate (`MAJOR.MINOR.PATCH[-pre]`, no
//! build metadata), with a text sort key the database orders by ("newest version" queries).

/// A version as agent types use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(semver::Version);

/// Numbers (and numeric pre-release identifiers) are padded to this many digits in the sort key.
const KEY_DIGITS: usize = 10;

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let v = semver::Version::parse(s).ok()?;
        let fits = |n: u64| n.to_string().len() < KEY_DIGITS;
        let pre_fits = v.pre.is_empty()
            || v.pre
                .as_str()
                .split('.')
                .all(|id| !id.bytes().all(|b| b.is_ascii_digit()) || id.len() <= KEY_DIGITS);
        (v.build.is_empty() && fits(v.major) && fits(v.minor) && fits(v.patch) && pre_fits)
            .then_some(Version(v))
    }

    /// A text key that sorts like the versions: numbers zero-padded, a pre-release before its
    /// release (`~` sorts after `-` and every digit and letter bytewise).
    pub fn sort_key(&self) -> String {
        let v = &self.0;
        let base = format!("{:010}.{:010}.{:010}", v.major, v.minor, v.patch);
        if v.pre.is_empty() {
            return format!("{base}~");
        }
        let ids: Vec<String> = v
            .pre
            .as_str()
            .split('.')
            .map(|id| {
                if id.bytes().all(|b| b.is_ascii_digit()) {
                    format!("{id:0>10}")
                } else {
                    format!("~{id}")
                }
            })
            .collect();
        format!("{base}-{}", ids.join("."))
    }

    pub fn bump_minor(&self) -> Version {
        Version(semver::Version::new(self.0.major, self.0.minor + 1, 0))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_sort_semantically() {
        let mut vs: Vec<Version> = [
            "1.10.0",
            "1.9.0",
            "1.0.0-rc.1",
            "1.0.0",
            "0.9.12",
            "1.0.0-alpha",
            "2.0.0",
        ]
        .iter()
        .map(|s| Version::parse(s).unwrap())
        .collect();
        vs.sort_by_key(|v| v.sort_key());
        let order: Vec<String> = vs.iter().map(|v| v.to_string()).collect();
        // The key orders exactly as semver's own precedence does.
        let mut by_semver = vs.clone();
        by_semver.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(by_semver, vs);
        assert_eq!(
            order,
            [
                "0.9.12",
                "1.0.0-alpha",
                "1.0.0-rc.1",
                "1.0.0",
                "1.9.0",
                "1.10.0",
                "2.0.0"
            ]
        );
        for bad in [
            "1",
            "1.0",
            "1.0.0.0",
            "01.0.0",
            "1.a.0",
            "",
            "1.0.0-",
            "v1.0.0",
            "1.0.0-a..b",
            "1.12345678901.0",
            "1.0.0+build.5",
        ] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
    }
}
