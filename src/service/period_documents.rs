//! The documents of one bought period: the paid order, the GST invoice and the receipt, with
//! their audit entries, in the caller's transaction. Checkout issues a subscription's first period
//! here, the period-end pass each renewal; the order's unique period makes it exactly once.

use crate::db::Conn;
use crate::db::audit::{self, Change};
use crate::db::billing::{self, Invoice, Order, Receipt};
use crate::db::customers::Customer;
use crate::db::subscriptions::Subscription;
use crate::domain::actor::Actor;
use crate::domain::billing::numbers::{self, DocumentKind};
use crate::domain::billing::settings::BillingSettings;
use crate::domain::billing::{self as rules, Duration, gst};
use crate::domain::ids::new_id;
use crate::error::AppResult;
use serde_json::json;

/// The documents of one bought period.
pub struct Issued {
    pub order: Order,
    pub invoice: Invoice,
    pub receipt: Receipt,
}

/// Issues the order, invoice and receipt of `sub`'s current period, with their audit entries, in
/// the caller's transaction. `None` when that period has its order already (exactly once).
pub async fn issue_period(
    mut c: Conn<'_>,
    settings: &BillingSettings,
    actor: &Actor,
    sub: &Subscription,
    bill_to: &Customer,
    kind: &str,
    coupon_code: Option<&str>,
) -> AppResult<Option<Issued>> {
    let duration = Duration::parse(&sub.duration)
        .ok_or_else(|| anyhow::anyhow!("subscription {} has an unknown duration", sub.id))?;
    let list = duration.list_price_paise();
    let discount = rules::coupon_discount(list, settings.coupon_discount_percent);
    let amounts = gst::compute(
        list,
        discount,
        bill_to.gstin.as_deref(),
        &settings.seller_state_code,
    );
    let order = Order {
        id: new_id("ORDER"),
        customer_id: sub.customer_id.clone(),
        subscription_id: sub.id.clone(),
        kind: kind.into(),
        payment_provider: "coupon".into(),
        coupon_code: coupon_code
            .map(String::from)
            .or_else(|| Some(settings.coupon_code.clone())),
        duration: duration.as_str().into(),
        period_start: sub.current_period_start,
        period_end: sub.current_period_end,
        list_amount: list,
        amount: amounts.total_amount,
        currency: "INR".into(),
        status: "paid".into(),
        created_at: actor.now,
    };
    if !billing::insert_order(c.reborrow(), &order).await? {
        return Ok(None);
    }
    let description = format!(
        "Agent hire: {} ({}@{}), {}, {} days",
        sub.display_name,
        sub.agent_type_id,
        sub.agent_type_version,
        duration.as_str(),
        duration.days()
    );
    // Numbers are taken last: the counter rows stay locked until this transaction commits.
    let day = numbers::billing_day(actor.now, settings.timezone);
    let invoice_n =
        billing::next_number(c.reborrow(), DocumentKind::Invoice.as_str(), &day).await?;
    let receipt_n =
        billing::next_number(c.reborrow(), DocumentKind::Receipt.as_str(), &day).await?;
    let invoice = Invoice {
        id: new_id("INV-ID"),
        number: numbers::number(DocumentKind::Invoice, &day, invoice_n),
        customer_id: sub.customer_id.clone(),
        order_id: order.id.clone(),
        subscription_id: sub.id.clone(),
        currency: "INR".into(),
        seller_legal_name: settings.seller_legal_name.clone(),
        seller_gstin: settings.seller_gstin.clone(),
        seller_state_code: settings.seller_state_code.clone(),
        customer_business_name: bill_to.name.clone(),
        customer_business_address: bill_to.billing_address.clone(),
        customer_gstin: bill_to.gstin.clone(),
        customer_state_code: bill_to
            .gstin
            .as_deref()
            .and_then(gst::state_code)
            .map(String::from),
        description: description.clone(),
        period_start: order.period_start,
        period_end: order.period_end,
        subtotal_amount: amounts.subtotal_amount,
        discount_amount: amounts.discount_amount,
        taxable_amount: amounts.taxable_amount,
        cgst_amount: amounts.cgst_amount,
        sgst_amount: amounts.sgst_amount,
        igst_amount: amounts.igst_amount,
        total_amount: amounts.total_amount,
        tax_type: amounts.tax_type.as_str().into(),
        created_at: actor.now,
    };
    let receipt = Receipt {
        id: new_id("RCT-ID"),
        number: numbers::number(DocumentKind::Receipt, &day, receipt_n),
        customer_id: sub.customer_id.clone(),
        order_id: order.id.clone(),
        subscription_id: sub.id.clone(),
        currency: "INR".into(),
        description,
        total_amount: amounts.total_amount,
        payment_status: "paid".into(),
        created_at: actor.now,
    };
    billing::insert_invoice(c.reborrow(), &invoice).await?;
    billing::insert_receipt(c.reborrow(), &receipt).await?;
    for (entity_type, entity_id, action, after) in [
        (
            "order",
            &order.id,
            "order.paid",
            json!({"kind": kind, "subscription_id": sub.id, "amount": order.amount, "list_amount": list}),
        ),
        (
            "invoice",
            &invoice.id,
            "invoice.issued",
            json!({"number": invoice.number, "order_id": order.id, "total_amount": invoice.total_amount, "tax_type": invoice.tax_type}),
        ),
        (
            "receipt",
            &receipt.id,
            "receipt.issued",
            json!({"number": receipt.number, "order_id": order.id, "total_amount": receipt.total_amount}),
        ),
    ] {
        audit::record(
            c.reborrow(),
            actor,
            Change {
                entity_type,
                entity_id,
                action,
                before: None,
                after: Some(after),
            },
        )
        .await?;
    }
    Ok(Some(Issued {
        order,
        invoice,
        receipt,
    }))
}
