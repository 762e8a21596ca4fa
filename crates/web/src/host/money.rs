//! The host's money: the balance the platform owes (or is owed), where payouts go, the
//! payouts made, and the monthly commission invoices (each printable).

use super::*;
use innkeep_app::billing;

#[derive(Template)]
#[template(path = "host_money.html")]
struct MoneyPage {
    ctx: Ctx,
    /// (currency, what the platform owes the host, or "you owe ..." when negative)
    balances: Vec<(String, String)>,
    account_name: String,
    account_iban: String,
    account_bic: String,
    /// (date, amount, account)
    payouts: Vec<(String, String, String)>,
    /// (id, number, month, total)
    invoices: Vec<(String, String, String, String)>,
    error: String,
    flash: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MoneyQuery {
    saved: String,
}

async fn money_page(
    s: &AppState,
    v: &Visitor,
    a: &Actor,
    error: String,
    flash: String,
) -> Result<MoneyPage, PageError> {
    let tenant = a.host_tenant(innkeep_core::Duty::SeeMoney)?;
    let account = innkeep_core::ledger::Account::HostPayable(tenant).code();
    let balances = s
        .ports
        .store
        .ledger_balances(&account)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .filter(|(code, _)| *code == account)
        .map(|(_, m)| {
            // The host's account is a credit balance when the platform owes it.
            let owed = innkeep_core::Money::new(m.minor.saturating_neg(), m.currency);
            let text = if owed.minor >= 0 {
                format!("{} owed to you", money(owed))
            } else {
                format!("you owe {}", money(innkeep_core::Money::new(m.minor, m.currency)))
            };
            (m.currency.code().to_string(), text)
        })
        .collect();
    let acct = s.ports.store.payout_account(tenant).await.map_err(AppError::from)?;
    let payouts = billing::payouts(&s.ports, a)
        .await?
        .into_iter()
        .map(|p| (day(p.created_at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()), money(p.amount), p.iban))
        .collect();
    let invoices = billing::invoices(&s.ports, a)
        .await?
        .into_iter()
        .map(|i| (i.id.to_string(), i.number, i.month, money(i.total)))
        .collect();
    Ok(MoneyPage {
        ctx: v.ctx("Payouts and invoices"),
        balances,
        account_name: acct.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
        account_iban: acct.as_ref().map(|x| x.iban.clone()).unwrap_or_default(),
        account_bic: acct.and_then(|x| x.bic).unwrap_or_default(),
        payouts,
        invoices,
        error,
        flash,
    })
}

/// GET /host/money
pub async fn money_overview(State(s): State<AppState>, v: Visitor, Query(q): Query<MoneyQuery>) -> PageResult {
    let a = host(&v)?;
    let flash = if q.saved.is_empty() { String::new() } else { crate::i18n::t("Payout account saved.").into() };
    Ok(render(&money_page(&s, &v, &a, String::new(), flash).await?))
}

/// POST /host/money: set where payouts go.
pub async fn payout_account_set(State(s): State<AppState>, v: Visitor, fields: Fields) -> PageResult {
    let a = host(&v)?;
    let bic = fields.get("bic");
    let bic = Some(bic.as_str()).filter(|b| !b.trim().is_empty());
    match billing::set_payout_account(&s.ports, &a, &fields.get("name"), &fields.get("iban"), bic).await {
        Ok(_) => Ok(crate::redirect::to("/host/money?saved=1")),
        Err(e @ AppError::Invalid { .. }) => {
            // The form again with what was typed, and why it was refused.
            let mut page = money_page(&s, &v, &a, crate::page::words(&e), String::new()).await?;
            page.account_name = fields.get("name");
            page.account_iban = fields.get("iban");
            page.account_bic = fields.get("bic");
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "host_invoice.html")]
struct InvoicePage {
    ctx: Ctx,
    number: String,
    month: String,
    issued: String,
    platform: String,
    platform_iban: String,
    /// (stay, base, rate, net, tax)
    lines: Vec<(String, String, String, String, String)>,
    net: String,
    vat: String,
    tax: String,
    total: String,
}

/// GET /host/invoices/{id}: a printable invoice.
pub async fn invoice_page(State(s): State<AppState>, v: Visitor, Path(id): Path<String>) -> PageResult {
    let a = host(&v)?;
    let id: uuid::Uuid = id.parse().map_err(|_| PageError::NotFound)?;
    let i = billing::invoice(&s.ports, &a, id).await?;
    let pct = |bp: i64| format!("{}.{:02}%", bp / 100, bp % 100);
    let bank = &s.ports.settings.payments.bank;
    Ok(render(&InvoicePage {
        ctx: v.ctx(crate::i18n::tf("Invoice {}", &[&i.number])),
        number: i.number,
        month: i.month,
        issued: day(i.issued_at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()),
        platform: bank.beneficiary.clone(),
        platform_iban: bank.iban.clone(),
        lines: i
            .lines
            .iter()
            .map(|c| {
                (
                    format!("{} → {}", day(c.check_in), day(c.check_out)),
                    money(c.base),
                    pct(c.rate_bp),
                    money(c.net),
                    money(c.tax),
                )
            })
            .collect(),
        net: money(i.net),
        vat: pct(i.vat_bp),
        tax: money(i.tax),
        total: money(i.total),
    }))
}
