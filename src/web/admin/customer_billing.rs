//! The billing part of a customer's staff page: subscriptions, orders, invoices and receipts, each
//! linked, and the way to hire on the customer's behalf. 4 statements.

use crate::domain::billing::money::inr;
use crate::error::AppResult;
use crate::service::{billing, subscriptions};
use crate::web::AppState;
use crate::web::portal::{SubscriptionLine, subscription_lines};
use crate::web::view::Ts;

pub struct OrderLine {
    pub id: String,
    pub subscription_id: String,
    pub kind: &'static str,
    pub at: Ts,
    pub paid: String,
}

pub struct DocLine {
    pub id: String,
    pub number: String,
    pub at: Ts,
    pub total: String,
}

pub struct CustomerBilling {
    pub subscriptions: Vec<SubscriptionLine>,
    pub orders: Vec<OrderLine>,
    pub invoices: Vec<DocLine>,
    pub receipts: Vec<DocLine>,
}

pub async fn load(
    state: &AppState,
    customer_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<CustomerBilling> {
    let scope = crate::domain::actor::Scope::Staff;
    let subs = subscriptions::of_customer(&state.db, &scope, customer_id).await?;
    let orders = billing::orders(&state.db, &scope, customer_id, None).await?;
    let mut invoices = billing::invoices(&state.db, &scope, Some(customer_id)).await?;
    invoices.reverse();
    let receipts = billing::receipts(&state.db, &scope, Some(customer_id)).await?;
    Ok(CustomerBilling {
        subscriptions: subscription_lines(&subs, &state.settings.billing, now),
        orders: orders
            .into_iter()
            .map(|o| OrderLine {
                kind: if o.kind == "renewal" {
                    "Renewal"
                } else {
                    "Checkout"
                },
                at: Ts(o.created_at),
                paid: inr(o.amount),
                id: o.id,
                subscription_id: o.subscription_id,
            })
            .collect(),
        invoices: invoices
            .into_iter()
            .map(|i| DocLine {
                at: Ts(i.created_at),
                total: inr(i.total_amount),
                id: i.id,
                number: i.number,
            })
            .collect(),
        receipts: receipts
            .into_iter()
            .map(|r| DocLine {
                at: Ts(r.created_at),
                total: inr(r.total_amount),
                id: r.id,
                number: r.number,
            })
            .collect(),
    })
}
