//! Which properties of a field its type uses: the editor shows only those inputs, and a field that
//! changes type drops the others.

use crate::domain::definition::{Field, FieldType};

/// Whether a field of type `t` (a list: with items of `item_type`) uses property `prop` (a key of
/// [`crate::domain::definition::FIELD_KEYS`]).
pub fn used(prop: &str, t: FieldType, item_type: Option<FieldType>) -> bool {
    use FieldType::*;
    match prop {
        "key" | "label" | "type" | "required" | "description" | "default" => true,
        "options" => t == Enum || (t == List && item_type == Some(Enum)),
        "item_type" | "min_items" | "max_items" => t == List,
        "min" | "max" | "exclusive_min" => matches!(t, Number | Integer),
        "min_length" | "max_length" | "pattern" | "secret_ref" => t == Text,
        "fields" => t == Object,
        _ => false,
    }
}

/// Whether `f` holds a value for `prop` (the key, label and type always count).
pub fn holds(f: &Field, prop: &str) -> bool {
    match prop {
        "key" | "label" | "type" => true,
        "required" => f.required,
        "description" => f.description.is_some(),
        "default" => f.default.is_some(),
        "options" => f.options.as_ref().is_some_and(|o| !o.is_empty()),
        "item_type" => f.item_type.is_some(),
        "min" => f.min.is_some(),
        "max" => f.max.is_some(),
        "exclusive_min" => f.exclusive_min,
        "min_length" => f.min_length.is_some(),
        "max_length" => f.max_length.is_some(),
        "pattern" => f.pattern.is_some(),
        "min_items" => f.min_items.is_some(),
        "max_items" => f.max_items.is_some(),
        "secret_ref" => f.secret_ref,
        "fields" => f.fields.as_ref().is_some_and(|s| !s.is_empty()),
        _ => false,
    }
}

/// Drops every property the field's type does not use (after a change of type: options of a former
/// enum, bounds of a former number, …).
pub fn clear_unused(f: &mut Field) {
    let (t, it) = (f.field_type, f.item_type);
    let unused = |p: &str| !used(p, t, it);
    if unused("options") {
        f.options = None;
    }
    if unused("item_type") {
        f.item_type = None;
    }
    if unused("min") {
        f.min = None;
        f.max = None;
        f.exclusive_min = false;
    }
    if unused("min_length") {
        f.min_length = None;
        f.max_length = None;
        f.pattern = None;
        f.secret_ref = false;
    }
    if unused("min_items") {
        f.min_items = None;
        f.max_items = None;
    }
    if unused("fields") {
        f.fields = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::definition::FIELD_KEYS;

    #[test]
    fn each_type_uses_its_own_properties() {
        let shown = |t, it| -> Vec<&str> {
            FIELD_KEYS
                .iter()
                .copied()
                .filter(|p| used(p, t, it))
                .collect()
        };
        let common = ["key", "label", "type", "required", "description", "default"];
        let with = |extra: &[&'static str]| -> Vec<&'static str> {
            FIELD_KEYS
                .iter()
                .copied()
                .filter(|p| common.contains(p) || extra.contains(p))
                .collect()
        };
        use FieldType::*;
        assert_eq!(shown(Number, None), with(&["min", "max", "exclusive_min"]));
        assert_eq!(
            shown(Text, None),
            with(&["min_length", "max_length", "pattern", "secret_ref"])
        );
        assert_eq!(shown(Enum, None), with(&["options"]));
        assert_eq!(
            shown(List, Some(Text)),
            with(&["item_type", "min_items", "max_items"])
        );
        assert_eq!(
            shown(List, Some(Enum)),
            with(&["options", "item_type", "min_items", "max_items"])
        );
        assert_eq!(shown(Object, None), with(&["fields"]));
        assert_eq!(shown(Boolean, None), with(&[]));
    }

    #[test]
    fn a_new_type_drops_what_it_does_not_use() {
        let mut f = Field::new("coin", "Coin", FieldType::Enum);
        f.options = Some(vec!["BTC".into()]);
        f.min = Some(1.0);
        f.required = true;
        f.field_type = FieldType::Number;
        clear_unused(&mut f);
        assert_eq!(f.options, None);
        assert_eq!(f.min, Some(1.0));
        assert!(f.required);
        f.field_type = FieldType::Text;
        f.pattern = Some("^a".into());
        clear_unused(&mut f);
        assert_eq!((f.min, f.pattern.as_deref()), (None, Some("^a")));
        // Whatever a field held, after a change of type it holds only what the type uses.
        let mut full = Field::new("k", "K", FieldType::Text);
        full.options = Some(vec!["a".into()]);
        full.item_type = Some(FieldType::Enum);
        (full.min, full.max, full.exclusive_min) = (Some(0.0), Some(1.0), true);
        (full.min_length, full.max_length) = (Some(1), Some(2));
        full.pattern = Some("x".into());
        (full.min_items, full.max_items) = (Some(1), Some(2));
        full.secret_ref = true;
        full.fields = Some(vec![Field::new("s", "S", FieldType::Text)]);
        for t in FieldType::ALL {
            let mut f = Field {
                field_type: t,
                ..full.clone()
            };
            clear_unused(&mut f);
            for p in FIELD_KEYS {
                assert!(!holds(&f, p) || used(p, t, f.item_type), "{t:?} holds {p}");
            }
        }
    }
}
