//! Every client with their balance (`/desk/clients`), and one client's
//! charges, payments and balance (`/clients/{id}/billing`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use kapchart_views::{AccountRow, ChargeRow, PaymentRow, kinds};
use serde::Deserialize;

use super::format::{balance, clock, money, word_of};
use super::{client_of_path, staff_name, staff_of};
use crate::WebState;
use crate::page::{self, Layout, PageError, render};
use crate::session::SignedIn;

/// A client's line on the list.
#[derive(Debug)]
struct ClientLine {
    client_id: String,
    name: String,
    date_of_birth: String,
    therapist: String,
    charges: String,
    payments: String,
    balance: String,
    billing_href: String,
    payment_href: String,
    superbill_href: String,
    book_href: String,
}

#[derive(Template)]
#[template(path = "desk/clients.html")]
struct ClientsPage {
    layout: Layout,
    clients: Vec<ClientLine>,
    may_write: bool,
}

/// `GET /desk/clients`: every client with their balance.
pub(super) async fn clients(
    State(state): State<WebState>,
    user: SignedIn,
) -> Result<Response, PageError> {
    let accounts = state
        .app
        .read_accounts(&user.caller, &user.source, user.purpose)
        .await?;
    let staff = staff_of(&state).await?;
    let clients = accounts
        .iter()
        .map(|a| ClientLine {
            client_id: a.client_id.clone(),
            name: a.name.clone().unwrap_or_default(),
            date_of_birth: a.date_of_birth.map(|d| d.to_string()).unwrap_or_default(),
            therapist: a
                .therapist
                .as_deref()
                .map(|t| staff_name(&staff, t))
                .unwrap_or_default(),
            charges: a.charges_cents.map_or_else(String::new, money),
            payments: a.payments_cents.map_or_else(String::new, money),
            balance: balance(a.balance_cents),
            billing_href: format!("/clients/{}/billing", a.client_id),
            payment_href: payment_path(&a.client_id),
            superbill_href: format!("/clients/{}/superbill", a.client_id),
            book_href: format!("/desk?client={}#book", a.client_id),
        })
        .collect();
    render(&ClientsPage {
        layout: Layout::new("Clients and billing", &user, "/desk/clients"),
        clients,
        may_write: user.caller.role == kapchart_domain::Role::FrontDesk,
    })
}

/// The payment form for `client`, coming back to the client's billing.
fn payment_path(client: &str) -> String {
    format!(
        "{}&return_to=/clients/{client}/billing",
        page::form_path("record-payment", client)
    )
}

/// `?done=`: the form that just succeeded.
#[derive(Debug, Default, Deserialize)]
pub(super) struct DoneQuery {
    done: Option<String>,
}

/// The account summary at the top of the billing page.
#[derive(Debug)]
struct Summary {
    name: String,
    date_of_birth: String,
    therapist: String,
    diagnoses: String,
    charges: String,
    charges_count: u32,
    payments: String,
    payments_count: u32,
    balance: String,
}

#[derive(Debug)]
struct ChargeLine {
    date: String,
    time: String,
    service: String,
    session: String,
    cpt_code: String,
    units: u32,
    minutes: i64,
    therapist: String,
    fee_schedule_version: u32,
    amount: String,
}

#[derive(Debug)]
struct PaymentLine {
    date: String,
    payment: String,
    method: String,
    payer: String,
    session: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "desk/billing.html")]
struct BillingPage {
    layout: Layout,
    client_id: String,
    summary: Option<Summary>,
    charges: Vec<ChargeLine>,
    payments: Vec<PaymentLine>,
    payment_href: String,
    superbill_href: String,
    csv_href: String,
    may_write: bool,
    time_zone: String,
}

/// `GET /clients/{id}/billing`: the client's charges, payments and
/// balance.
pub(super) async fn billing(
    State(state): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let client = client_of_path(&id)?;
    let reply = state
        .app
        .read_billing(&user.caller, &user.source, &client, user.purpose)
        .await?;
    let tz = state.time_zone();
    let staff = staff_of(&state).await?;
    let unreadable = |e: serde_json::Error| PageError::internal("reading a billing row", &e);
    let mut summary = None;
    let mut charges: Vec<ChargeRow> = Vec::new();
    let mut payments: Vec<PaymentRow> = Vec::new();
    for row in reply.rows {
        match row.kind.as_str() {
            kinds::ACCOUNT => {
                let a: AccountRow = serde_json::from_value(row.data).map_err(unreadable)?;
                summary = Some(Summary {
                    name: a.name.unwrap_or_default(),
                    date_of_birth: a.date_of_birth.map(|d| d.to_string()).unwrap_or_default(),
                    therapist: a
                        .therapist
                        .as_deref()
                        .map(|t| staff_name(&staff, t))
                        .unwrap_or_default(),
                    diagnoses: a.diagnoses.join(", "),
                    charges: a.charges_cents.map_or_else(String::new, money),
                    charges_count: a.charges,
                    payments: a.payments_cents.map_or_else(String::new, money),
                    payments_count: a.payments,
                    balance: balance(a.balance_cents),
                });
            }
            kinds::CHARGE => charges.push(serde_json::from_value(row.data).map_err(unreadable)?),
            kinds::PAYMENT => payments.push(serde_json::from_value(row.data).map_err(unreadable)?),
            _ => {}
        }
    }
    charges.sort_by_key(|c| (c.start, c.sequence));
    payments.sort_by_key(|p| (p.received_on, p.sequence));
    let charges = charges
        .into_iter()
        .map(|c| ChargeLine {
            date: c.service_date.to_string(),
            time: clock(c.start, tz),
            service: word_of(&c.service),
            session: c.session,
            cpt_code: c.cpt_code.unwrap_or_else(|| "none".to_owned()),
            units: c.units,
            minutes: c.minutes,
            therapist: staff_name(&staff, &c.therapist),
            fee_schedule_version: c.fee_schedule_version,
            amount: money(c.amount_cents),
        })
        .collect();
    let payments = payments
        .into_iter()
        .map(|p| PaymentLine {
            date: p.received_on.to_string(),
            payment: p.payment,
            method: word_of(&p.method),
            payer: word_of(&p.payer),
            session: p.session.unwrap_or_default(),
            amount: money(p.amount_cents),
        })
        .collect();
    let client_id = client.to_string();
    render(&BillingPage {
        layout: Layout::new(format!("Billing for {client_id}"), &user, "/desk/clients")
            .with_notice(page::done_notice(q.done.as_deref())),
        summary,
        charges,
        payments,
        payment_href: payment_path(&client_id),
        superbill_href: format!("/clients/{client_id}/superbill"),
        csv_href: format!("/clients/{client_id}/superbill.csv"),
        may_write: user.caller.role == kapchart_domain::Role::FrontDesk,
        time_zone: tz.name().to_owned(),
        client_id,
    })
}
