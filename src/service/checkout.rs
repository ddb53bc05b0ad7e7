//! Coupon checkout (SPEC §4): one transaction creates the subscription, its (empty) hired agent,
//! its first order, receipt and GST invoice (through [`issue_period`], as renewals do), and their audit entries. An
//! idempotency key makes a repeated checkout replay the first answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::audit::{self, Change};
use crate::db::customers;
use crate::db::subscriptions::{self, NewSubscription};
use crate::db::{Conn, Db, agent_types, idempotency};
use crate::domain::actor::Actor;
use crate::domain::billing::settings::BillingSettings;
use crate::domain::billing::{self as rules, Duration, gst};
use crate::domain::ids::new_id;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::service::period_documents::issue_period;

/// What a checkout asks for, as typed (the form's and the API's fields).
#[derive(Debug, Clone, Default)]
pub struct CheckoutRequest {
    pub coupon_code: String,
    /// A Phase-1 listing id (`AGT-TRD-DELTA-001`), stored as given.
    pub agent_id: Option<String>,
    pub agent_type_id: Option<String>,
    pub duration: String,
    pub gstin: Option<String>,
    pub idempotency_key: Option<String>,
}

/// The Phase-1 checkout answer, plus the pinned version, the period and the documents. Amounts
/// in paise.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct CheckoutResponse {
    #[schema(example = "ORDER-5f0c…")]
    pub order_id: String,
    #[schema(example = "SUB-9a1e…")]
    pub subscription_id: String,
    /// Always `coupon`.
    pub payment_provider: String,
    /// What was charged, in paise (0 with the default coupon).
    pub amount: i64,
    /// Always `INR`.
    pub currency: String,
    pub coupon_code: String,
    /// The Phase-1 listing id, as given.
    pub agent_id: Option<String>,
    pub agent_type_id: String,
    /// The version the subscription is pinned to.
    pub agent_type_version: String,
    #[schema(value_type = Duration)]
    pub duration: String,
    /// `active`.
    pub subscription_status: String,
    /// `not_started` (a trial starts when the hired agent is activated).
    pub trial_status: String,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub invoice_id: String,
    #[schema(example = "INV-20261130-0001")]
    pub invoice_number: String,
    pub receipt_id: String,
    #[schema(example = "RCT-20261130-0001")]
    pub receipt_number: String,
}

/// The answer, and whether it is a replay of an earlier one.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub response: CheckoutResponse,
    pub replayed: bool,
}

impl Checkout {
    pub fn subscription_id(&self) -> &str {
        &self.response.subscription_id
    }
}

/// The request after its checks.
struct Checked {
    coupon_code: String,
    agent_id: Option<String>,
    agent_type_id: String,
    duration: Duration,
    gstin: Option<String>,
    key: Option<String>,
}

/// A GSTIN as stored (trimmed, upper-cased, a known state code), or the Phase-1 400
/// "Invalid GSTIN." with the reason in the log.
pub fn normalise_gstin(raw: &str) -> Result<String, AppError> {
    crate::domain::gstin::Gstin::parse(raw)
        .map(|g| g.into_string())
        .map_err(|why| {
            tracing::debug!(%why, "checkout GSTIN refused");
            AppError::bad_request(ErrorCode::InvalidGstin, "Invalid GSTIN.")
        })
}

fn check(settings: &BillingSettings, r: &CheckoutRequest) -> AppResult<Checked> {
    if !rules::coupon_matches(&r.coupon_code, &settings.coupon_code) {
        return Err(AppError::bad_request(
            ErrorCode::InvalidCoupon,
            "Invalid coupon code.",
        ));
    }
    let duration = Duration::parse(&r.duration).ok_or_else(|| {
        AppError::bad_request(ErrorCode::UnsupportedDuration, "Unsupported duration.")
    })?;
    let gstin = match r.gstin.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        Some(g) => Some(normalise_gstin(g)?),
        None => None,
    };
    let agent_id = r
        .agent_id
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(String::from);
    let agent_type_id = match r
        .agent_type_id
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(t) => t.to_string(),
        None => agent_id
            .as_deref()
            .and_then(rules::agent_type_from_listing_id)
            .ok_or_else(|| {
                AppError::bad_request(ErrorCode::AgentTypeRequired, "agent_type_id is required.")
            })?
            .to_string(),
    };
    let key = match &r.idempotency_key {
        None => None,
        Some(k) => Some(idempotency_key(k)?),
    };
    Ok(Checked {
        coupon_code: settings.coupon_code.clone(),
        agent_id,
        agent_type_id,
        duration,
        gstin,
        key,
    })
}

/// What makes two requests under one key "the same": everything that decides the result.
fn fingerprint(c: &Checked, customer_id: &str) -> String {
    json!({
        "coupon_code": c.coupon_code,
        "agent_id": c.agent_id,
        "agent_type_id": c.agent_type_id,
        "duration": c.duration.as_str(),
        "customer_id": customer_id,
        "gstin": c.gstin,
    })
    .to_string()
}

fn replay(stored: (String, String), fingerprint: &str) -> AppResult<Checkout> {
    let (stored_fingerprint, response) = stored;
    if stored_fingerprint != fingerprint {
        return Err(AppError::conflict(
            ErrorCode::IdempotencyKeyReused,
            "Idempotency-Key reuse with different payload.",
        ));
    }
    let response: CheckoutResponse = serde_json::from_str(&response)
        .map_err(|e| anyhow::anyhow!("stored checkout answer is unreadable: {e}"))?;
    Ok(Checkout {
        response,
        replayed: true,
    })
}

/// How long an idempotency key is remembered: retries come within minutes; a week is generous.
pub const IDEMPOTENCY_KEY_DAYS: i64 = 7;

/// Forgets idempotency keys older than [`IDEMPOTENCY_KEY_DAYS`] (a housekeeping job); how many.
pub async fn forget_old_keys(db: &Db, now: DateTime<Utc>) -> AppResult<u64> {
    let mut c = db.acquire().await?;
    Ok(
        idempotency::purge_before(c.conn(), now - chrono::Duration::days(IDEMPOTENCY_KEY_DAYS))
            .await?,
    )
}

/// The version a hire of `agent_type_id` pins: its newest published one.
async fn hireable(c: Conn<'_>, agent_type_id: &str) -> AppResult<agent_types::VersionRow> {
    agent_types::newest_published(c, agent_type_id)
        .await?
        .ok_or_else(|| {
            AppError::bad_request(
                ErrorCode::UnknownAgentType,
                format!("No published agent type {agent_type_id:?} can be hired."),
            )
        })
}

/// Hires an agent type for `customer_id`: the newest published version, pinned.
pub async fn checkout(
    db: &Db,
    settings: &BillingSettings,
    actor: &Actor,
    customer_id: &str,
    request: &CheckoutRequest,
) -> AppResult<Checkout> {
    let checked = check(settings, request)?;
    let fp = fingerprint(&checked, customer_id);
    if let Some(key) = &checked.key {
        let mut c = db.acquire().await?;
        if let Some(stored) = idempotency::get(c.conn(), customer_id, key).await? {
            return replay(stored, &fp);
        }
    }
    let mut tx = db.begin().await?;
    if let Some(key) = &checked.key
        && !idempotency::claim(tx.conn(), customer_id, key, &fp, actor.now).await?
    {
        // Another request under this key committed since we looked.
        let stored = idempotency::get(tx.conn(), customer_id, key).await?;
        drop(tx);
        return replay(
            stored.ok_or_else(|| anyhow::anyhow!("claimed key vanished"))?,
            &fp,
        );
    }
    let version = hireable(tx.conn(), &checked.agent_type_id).await?;
    // Read without locking the customer: a customer's checkouts must not queue on its row.
    let mut bill_to = customers::by_id(tx.conn(), customer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(g) = &checked.gstin
        && bill_to.gstin.as_ref() != Some(g)
    {
        // The GSTIN a checkout gives becomes the customer's (what the invoice prints).
        let values = customers::Values {
            name: &bill_to.name,
            email: &bill_to.email,
            gstin: Some(g),
            billing_address: bill_to.billing_address.as_deref(),
        };
        let after = customers::update(tx.conn(), customer_id, &values, actor.now)
            .await?
            .ok_or(AppError::NotFound)?;
        audit::record(
            tx.conn(),
            actor,
            Change {
                entity_type: "customer",
                entity_id: customer_id,
                action: "customer.updated",
                before: Some(bill_to.audit_json()),
                after: Some(after.audit_json()),
            },
        )
        .await?;
        bill_to = after;
    }
    let subscription_id = new_id("SUB");
    let period_start = actor.now;
    let period_end = checked.duration.period_end(period_start);
    subscriptions::insert(
        tx.conn(),
        &NewSubscription {
            id: &subscription_id,
            customer_id,
            agent_id: checked.agent_id.as_deref(),
            agent_type_id: &version.agent_type_id,
            agent_type_version: &version.version,
            duration: checked.duration.as_str(),
            period_start,
            period_end,
        },
        actor.now,
    )
    .await?;
    let sub = subscriptions::get(tx.conn(), &subscription_id, None)
        .await?
        .ok_or_else(|| anyhow::anyhow!("new subscription vanished"))?;
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "subscription",
            entity_id: &subscription_id,
            action: "subscription.created",
            before: None,
            after: Some(sub.audit_json()),
        },
    )
    .await?;
    // Its agent exists from the start, so staff can set it up for the customer too.
    crate::service::hired_agents::create_in(tx.conn(), actor, &sub, None).await?;
    let issued = issue_period(
        tx.conn(),
        settings,
        actor,
        &sub,
        &bill_to,
        "checkout",
        Some(&checked.coupon_code),
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("a new subscription already had an order"))?;
    let response = CheckoutResponse {
        order_id: issued.order.id.clone(),
        subscription_id: subscription_id.clone(),
        payment_provider: "coupon".into(),
        amount: issued.order.amount,
        currency: "INR".into(),
        coupon_code: checked.coupon_code.clone(),
        agent_id: checked.agent_id.clone(),
        agent_type_id: version.agent_type_id.clone(),
        agent_type_version: version.version.clone(),
        duration: checked.duration.as_str().into(),
        subscription_status: "active".into(),
        trial_status: "not_started".into(),
        current_period_start: period_start,
        current_period_end: period_end,
        invoice_id: issued.invoice.id.clone(),
        invoice_number: issued.invoice.number.clone(),
        receipt_id: issued.receipt.id.clone(),
        receipt_number: issued.receipt.number.clone(),
    };
    if let Some(key) = &checked.key {
        let stored = serde_json::to_string(&response).map_err(|e| anyhow::anyhow!("{e}"))?;
        idempotency::store_response(tx.conn(), customer_id, key, &stored).await?;
    }
    tx.commit().await?;
    Ok(Checkout {
        response,
        replayed: false,
    })
}

/// What a checkout would cost, for the summary before confirming.
#[derive(Debug, Clone)]
pub struct Quote {
    pub agent_type_id: String,
    pub agent_type_version: String,
    pub display_name: String,
    pub duration: Duration,
    pub amounts: gst::Amounts,
    pub customer_gstin: Option<String>,
}

/// Checks a checkout request as [`checkout`] would and prices it, changing nothing.
pub async fn quote(
    db: &Db,
    settings: &BillingSettings,
    customer_id: &str,
    request: &CheckoutRequest,
) -> AppResult<Quote> {
    let checked = check(settings, request)?;
    let mut c = db.acquire().await?;
    let version = hireable(c.conn(), &checked.agent_type_id).await?;
    let bill_to = customers::by_id(c.conn(), customer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let gstin = checked.gstin.or(bill_to.gstin);
    let list = checked.duration.list_price_paise();
    let discount = rules::coupon_discount(list, settings.coupon_discount_percent);
    Ok(Quote {
        agent_type_id: version.agent_type_id,
        agent_type_version: version.version,
        display_name: version.display_name,
        duration: checked.duration,
        amounts: gst::compute(
            list,
            discount,
            gstin.as_deref(),
            &settings.seller_state_code,
        ),
        customer_gstin: gstin,
    })
}

/// The form field a checkout refusal belongs to, so pages can show it next to that field.
pub fn field_of(code: ErrorCode) -> Option<&'static str> {
    match code {
        ErrorCode::InvalidCoupon => Some("coupon_code"),
        ErrorCode::UnsupportedDuration => Some("duration"),
        ErrorCode::InvalidGstin => Some("gstin"),
        ErrorCode::AgentTypeRequired | ErrorCode::UnknownAgentType => Some("agent_type_id"),
        _ => None,
    }
}

/// A client's idempotency key, trimmed: 1 to 200 visible ASCII characters.
pub fn idempotency_key(k: &str) -> AppResult<String> {
    let k = k.trim();
    if k.is_empty() || k.len() > 200 || !k.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::bad_request(
            ErrorCode::InvalidIdempotencyKey,
            "Idempotency-Key must be 1 to 200 visible ASCII characters.",
        ));
    }
    Ok(k.to_string())
}
