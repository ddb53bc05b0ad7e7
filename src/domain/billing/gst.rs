//! 18 % GST on a taxable amount in paise: CGST + SGST (half each, the odd paisa to SGST) when the
//! customer is registered in the seller's state, IGST when in another state, none without a GSTIN.

use serde::Serialize;

/// GST rate in basis points (18 %).
pub const RATE_BASIS_POINTS: i64 = 1800;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaxType {
    CgstSgst,
    Igst,
    None,
}

impl TaxType {
    pub fn as_str(self) -> &'static str {
        match self {
            TaxType::CgstSgst => "cgst_sgst",
            TaxType::Igst => "igst",
            TaxType::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<TaxType> {
        [TaxType::CgstSgst, TaxType::Igst, TaxType::None]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// Every amount printed on an invoice, in paise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Amounts {
    pub subtotal_amount: i64,
    pub discount_amount: i64,
    pub taxable_amount: i64,
    pub cgst_amount: i64,
    pub sgst_amount: i64,
    pub igst_amount: i64,
    pub total_amount: i64,
    pub tax_type: TaxType,
}

impl Amounts {
    pub fn tax(&self) -> i64 {
        self.cgst_amount + self.sgst_amount + self.igst_amount
    }
}

/// The tax lines an invoice prints for a tax type: (label, paise).
pub fn tax_lines(tax_type: TaxType, cgst: i64, sgst: i64, igst: i64) -> Vec<(&'static str, i64)> {
    match tax_type {
        TaxType::CgstSgst => vec![("CGST 9 %", cgst), ("SGST 9 %", sgst)],
        TaxType::Igst => vec![("IGST 18 %", igst)],
        TaxType::None => vec![],
    }
}

/// The state code of a GSTIN: its first two characters.
pub fn state_code(gstin: &str) -> Option<&str> {
    gstin
        .get(..2)
        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
}

/// The invoice amounts for a line at `subtotal` less `discount` (clamped to the subtotal), for a
/// customer with `customer_gstin` and a seller in `seller_state_code`.
pub fn compute(
    subtotal: i64,
    discount: i64,
    customer_gstin: Option<&str>,
    seller_state_code: &str,
) -> Amounts {
    let subtotal = subtotal.max(0);
    let discount = discount.clamp(0, subtotal);
    let taxable = subtotal - discount;
    let tax = taxable * RATE_BASIS_POINTS / 10_000;
    let tax_type = match customer_gstin.and_then(state_code) {
        None => TaxType::None,
        Some(code) if code == seller_state_code => TaxType::CgstSgst,
        Some(_) => TaxType::Igst,
    };
    let (cgst, sgst, igst) = match tax_type {
        TaxType::None => (0, 0, 0),
        TaxType::CgstSgst => (tax / 2, tax - tax / 2, 0),
        TaxType::Igst => (0, 0, tax),
    };
    Amounts {
        subtotal_amount: subtotal,
        discount_amount: discount,
        taxable_amount: taxable,
        cgst_amount: cgst,
        sgst_amount: sgst,
        igst_amount: igst,
        total_amount: taxable + cgst + sgst + igst,
        tax_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_state_splits_other_state_integrates_no_gstin_is_untaxed() {
        let same = compute(1_200_000, 120_000, Some("27AAAAA0000A1Z5"), "27");
        assert_eq!(same.tax_type, TaxType::CgstSgst);
        assert_eq!(same.taxable_amount, 1_080_000);
        assert_eq!((same.cgst_amount, same.sgst_amount), (97_200, 97_200));
        assert_eq!(same.total_amount, 1_274_400);

        let other = compute(1_200_000, 120_000, Some("29AAAAA0000A1Z5"), "27");
        assert_eq!(other.tax_type, TaxType::Igst);
        assert_eq!(other.igst_amount, 194_400);
        assert_eq!(other.total_amount, 1_274_400);

        let none = compute(1_200_000, 120_000, None, "27");
        assert_eq!(none.tax_type, TaxType::None);
        assert_eq!(none.tax(), 0);
        assert_eq!(none.total_amount, 1_080_000);
    }

    #[test]
    fn the_odd_paisa_goes_to_sgst() {
        // 18 % of 1 001 paise is 180.18 → 180; of 1 003 is 180.54 → 180; of 1 006 is 181.08 → 181.
        let a = compute(1_006, 0, Some("27AAAAA0000A1Z5"), "27");
        assert_eq!((a.cgst_amount, a.sgst_amount), (90, 91));
    }

    #[test]
    fn a_full_coupon_leaves_nothing_to_tax() {
        let a = compute(1_200_000, 1_200_000, Some("27AAAAA0000A1Z5"), "27");
        assert_eq!((a.taxable_amount, a.tax(), a.total_amount), (0, 0, 0));
        assert_eq!(a.tax_type, TaxType::CgstSgst);
    }
}

#[cfg(test)]
mod properties {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// Over random amounts, discounts and GSTINs (seeded): the parts add up to the tax, the tax is
    /// 18 % of the taxable amount rounded down, and nothing drifts by a paisa.
    #[test]
    fn parts_always_add_up() {
        let mut rng = StdRng::seed_from_u64(0x657);
        const STATES: [&str; 5] = ["27", "29", "07", "33", "99"];
        for _ in 0..20_000 {
            let subtotal = rng.random_range(0..100_000_000_000i64);
            let discount = rng.random_range(0..=subtotal);
            let gstin = match rng.random_range(0..3) {
                0 => None,
                _ => Some(format!(
                    "{}ABCDE1234F1Z5",
                    STATES[rng.random_range(0..STATES.len())]
                )),
            };
            let seller = STATES[rng.random_range(0..2)];
            let a = compute(subtotal, discount, gstin.as_deref(), seller);
            assert_eq!(a.taxable_amount, subtotal - discount);
            assert_eq!(a.total_amount, a.taxable_amount + a.tax());
            let expected_tax = if gstin.is_some() {
                a.taxable_amount * 18 / 100
            } else {
                0
            };
            assert_eq!(a.tax(), expected_tax, "{a:?}");
            match a.tax_type {
                TaxType::CgstSgst => {
                    assert_eq!(a.igst_amount, 0);
                    assert!(
                        a.sgst_amount - a.cgst_amount == 0 || a.sgst_amount - a.cgst_amount == 1
                    );
                    assert_eq!(gstin.as_deref().map(|g| &g[..2]), Some(seller));
                }
                TaxType::Igst => {
                    assert_eq!(a.cgst_amount + a.sgst_amount, 0);
                    assert_ne!(gstin.as_deref().map(|g| &g[..2]), Some(seller));
                }
                TaxType::None => assert!(gstin.is_none()),
            }
        }
    }
}
