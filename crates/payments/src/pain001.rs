//! ISO 20022 customer credit transfer initiation (pain.001.001.03): the file a bank takes to
//! pay out many transfers from one account, and a CSV of the same payouts for people.
//!
//! [`pain001`] checks a [`PaymentBatch`] and writes it as one document: a group header, then
//! one payment information block (`PmtInf`) per currency, in the order the currencies first
//! appear among the transfers, each holding its transfers in batch order. A EUR block is
//! marked as SEPA (`PmtTpInf/SvcLvl/Cd` `SEPA`); every block asks for charges to follow the
//! service level (`ChrgBr` `SLEV`). A debtor without a BIC is written with the agent
//! `Othr/Id` `NOTPROVIDED`, as SEPA allows; a creditor without a BIC gets no `CdtrAgt`.
//!
//! What is refused and what is adapted. Money and account numbers are never adapted: a
//! batch without transfers, an amount that is not positive or larger than the format (or,
//! in EUR, SEPA) allows, an IBAN or BIC of the wrong shape or check digits, or sums that no
//! longer fit fail with [`Pain001Error`]. Identifiers (`MsgId`, `EndToEndId`) come back to
//! Innkeep in bank statements, so they are refused rather than changed when they are empty,
//! longer than 35 characters, or outside the SEPA character set. Free text is adapted
//! instead, since banks take only the SEPA Latin set (`a-z A-Z 0-9 / - ? : ( ) . , ' +` and
//! space): letters with diacritics lose them (`é` → `e`, `ß` → `ss`, `Ø` → `O`), common
//! punctuation maps to its nearest allowed character (`&` → `+`, `"` → `'`, `_` → `-`),
//! whitespace runs become one space, invisible format characters are dropped, and anything
//! else becomes `?`. Names are then cut to 70 characters and remittance text to 140. A name
//! that is empty after this fails; empty remittance text leaves out `RmtInf`.
//!
//! Amounts are written as decimals from integer minor units with the currency's number of
//! digits (`12345` EUR → `123.45`, `500` JPY → `500`); the group header's `CtrlSum` adds
//! every amount of every currency at the largest of their digit counts, as the standard
//! asks for a plain sum. The creation time is written in UTC to the second, without a zone
//! suffix, the form of the EPC's examples.

use innkeep_core::{Currency, Money};
use jiff::civil::{Date, DateTime};
use quick_xml::Writer;
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use std::fmt;
use std::io;

/// The pain.001.001.03 namespace URI.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03";

/// Longest name (`Max70Text`), in characters.
const MAX_NAME: usize = 70;
/// Longest unstructured remittance text (`Max140Text`), in characters.
const MAX_REMITTANCE: usize = 140;
/// Longest identifier (`Max35Text`), in characters.
const MAX_ID: usize = 35;
/// Amounts and sums are `totalDigits` 18 in the schema: below 10^18 minor units always fits.
const MAX_MINOR: i64 = 999_999_999_999_999_999;
/// The SEPA credit transfer scheme's largest amount, 999 999 999.99 EUR, in cents.
const MAX_SEPA_EUR_MINOR: i64 = 99_999_999_999;

/// An account holder: a name, an IBAN and, optionally, the BIC of the holder's bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// The holder's name as Innkeep knows it; adapted to the SEPA character set on output.
    pub name: String,
    /// The IBAN, in any case, with or without spaces.
    pub iban: String,
    /// The bank's BIC (8 or 11 characters), when known.
    pub bic: Option<String>,
}

/// One payment to one creditor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditTransfer {
    /// Innkeep's reference for this transfer; the bank returns it in statements.
    pub end_to_end_id: String,
    /// What to pay; must be positive.
    pub amount: Money,
    /// Who is paid.
    pub creditor: Party,
    /// Text for the creditor's statement; may be empty.
    pub remittance: String,
}

/// Transfers from one debtor account, to be executed on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentBatch {
    /// The file's unique id (`MsgId`); banks refuse a second file with the same id.
    pub message_id: String,
    /// When the file was made; the caller's clock, written as `CreDtTm`.
    pub created_at: jiff::Timestamp,
    /// The day the bank should execute the transfers (`ReqdExctnDt`).
    pub execution_date: Date,
    /// The account paying.
    pub debtor: Party,
    /// The payments, in the order they are written.
    pub transfers: Vec<CreditTransfer>,
}

/// Which party of a batch an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The batch's debtor.
    Debtor,
    /// The creditor of the transfer with this end-to-end id.
    Creditor { end_to_end_id: String },
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Debtor => f.write_str("the debtor"),
            Role::Creditor { end_to_end_id } => write!(f, "the creditor of transfer {end_to_end_id:?}"),
        }
    }
}

/// What is wrong with an identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdProblem {
    #[error("is empty")]
    Empty,
    #[error("is longer than 35 characters")]
    TooLong,
    #[error("has characters outside the SEPA set (a-z A-Z 0-9 / - ? : ( ) . , ' + space)")]
    Characters,
    #[error("starts or ends with '/' or contains '//'")]
    Slashes,
}

/// Why a batch cannot be written as pain.001.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Pain001Error {
    #[error("the batch has no transfers")]
    NoTransfers,
    #[error("{element} {id:?} {problem}")]
    InvalidId { element: &'static str, id: String, problem: IdProblem },
    #[error("transfer {end_to_end_id:?}: amount {amount} is not positive")]
    NonPositiveAmount { end_to_end_id: String, amount: Money },
    #[error("transfer {end_to_end_id:?}: amount {amount} is larger than {max}")]
    AmountTooLarge { end_to_end_id: String, amount: Money, max: Money },
    #[error("{role}: IBAN {iban:?} is not a valid IBAN")]
    InvalidIban { role: Role, iban: String },
    #[error("{role}: BIC {bic:?} is not a valid BIC")]
    InvalidBic { role: Role, bic: String },
    #[error("{role}: the name is empty")]
    EmptyName { role: Role },
    #[error("the {currency} transfers add up to more than a pain.001 sum can hold")]
    SumOverflow { currency: Currency },
    #[error("the transfers add up to more than a pain.001 control sum can hold")]
    TotalOverflow,
    #[error("{what} {value} is outside the years 1 to 9999")]
    DateOutOfRange { what: &'static str, value: String },
    /// Writing to memory does not fail; kept so that no error is swallowed.
    #[error("could not write the XML: {0}")]
    Write(String),
}

pub use innkeep_core::payment::{valid_bic, valid_iban};

/// Write `batch` as a pain.001.001.03 document (UTF-8, indented), after checking it; see the
/// module documentation for what is refused and what is adapted.
pub fn pain001(batch: &PaymentBatch) -> Result<String, Pain001Error> {
    let checked = Checked::new(batch)?;
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write_document(&mut w, &checked).map_err(|e| Pain001Error::Write(e.to_string()))?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    String::from_utf8(bytes).map_err(|e| Pain001Error::Write(e.to_string()))
}

/// The transfers of `batch` as CSV for people to review, one row per transfer in batch
/// order, under the header
/// `end_to_end_id,creditor,iban,bic,amount,currency,remittance,execution_date`.
///
/// Nothing is checked here: names and remittance text are as Innkeep holds them (not adapted
/// to the SEPA set), IBANs and BICs normalised when valid and as given otherwise, amounts as
/// decimals from minor units (`-` for a negative one). So that a spreadsheet never runs a
/// cell as a formula, every text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return gets a leading `'`; the amount column, always a number, is left as it is.
pub fn payouts_csv(batch: &PaymentBatch) -> String {
    // Records all have eight fields and the target is memory, so writing cannot fail; an
    // error would still give an empty text rather than a panic.
    write_csv(batch).map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default()
}

fn write_csv(batch: &PaymentBatch) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["end_to_end_id", "creditor", "iban", "bic", "amount", "currency", "remittance", "execution_date"])?;
    let execution_date = batch.execution_date.to_string();
    for t in &batch.transfers {
        let iban = valid_iban(&t.creditor.iban).unwrap_or_else(|| t.creditor.iban.clone());
        let bic = t.creditor.bic.as_deref().map(|b| valid_bic(b).unwrap_or_else(|| b.to_string())).unwrap_or_default();
        let amount = decimal(i128::from(t.amount.minor), t.amount.currency.exponent());
        w.write_record([
            inert_cell(&t.end_to_end_id).as_str(),
            inert_cell(&t.creditor.name).as_str(),
            inert_cell(&iban).as_str(),
            inert_cell(&bic).as_str(),
            amount.as_str(),
            inert_cell(t.amount.currency.code()).as_str(),
            inert_cell(&t.remittance).as_str(),
            inert_cell(&execution_date).as_str(),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// `cell` with a leading `'` when a spreadsheet would read it as a formula.
fn inert_cell(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_string() }
}

/// `minor` units as a decimal with `exponent` fraction digits (`-12345`, 2 → `-123.45`).
fn decimal(minor: i128, exponent: u8) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{magnitude}");
    }
    let scale = 10u128.pow(u32::from(exponent));
    format!("{sign}{}.{:0width$}", magnitude / scale, magnitude % scale, width = usize::from(exponent))
}

/// A batch that passed every check, with its text adapted for the file.
struct Checked<'a> {
    message_id: &'a str,
    created_at: String,
    execution_date: String,
    debtor: CheckedParty,
    blocks: Vec<Block<'a>>,
    count: usize,
    /// The plain sum of all amounts, in units of `10^-total_exponent`.
    total: i128,
    total_exponent: u8,
}

struct CheckedParty {
    name: String,
    iban: String,
    bic: Option<String>,
}

/// The transfers of one currency: one `PmtInf`.
struct Block<'a> {
    currency: Currency,
    transfers: Vec<CheckedTransfer<'a>>,
    sum: i128,
}

struct CheckedTransfer<'a> {
    end_to_end_id: &'a str,
    amount: Money,
    creditor: CheckedParty,
    remittance: String,
}

impl<'a> Checked<'a> {
    fn new(batch: &'a PaymentBatch) -> Result<Self, Pain001Error> {
        if batch.transfers.is_empty() {
            return Err(Pain001Error::NoTransfers);
        }
        check_id("MsgId", &batch.message_id)?;
        let created_at = civil_date_time(jiff::tz::TimeZone::UTC.to_datetime(batch.created_at)).ok_or_else(|| {
            Pain001Error::DateOutOfRange { what: "creation time", value: batch.created_at.to_string() }
        })?;
        let execution_date = civil_date(batch.execution_date).ok_or_else(|| Pain001Error::DateOutOfRange {
            what: "execution date",
            value: batch.execution_date.to_string(),
        })?;
        let debtor = check_party(&batch.debtor, Role::Debtor)?;

        let mut blocks: Vec<Block<'a>> = Vec::new();
        for t in &batch.transfers {
            let checked = check_transfer(t)?;
            let currency = t.amount.currency;
            let block = match blocks.iter().position(|b| b.currency == currency) {
                Some(i) => &mut blocks[i],
                None => {
                    blocks.push(Block { currency, transfers: Vec::new(), sum: 0 });
                    let last = blocks.len() - 1;
                    &mut blocks[last]
                }
            };
            block.sum = block
                .sum
                .checked_add(i128::from(checked.amount.minor))
                .filter(|sum| *sum <= i128::from(MAX_MINOR))
                .ok_or(Pain001Error::SumOverflow { currency })?;
            block.transfers.push(checked);
        }

        let total_exponent = blocks.iter().map(|b| b.currency.exponent()).max().unwrap_or(0);
        let mut total = 0i128;
        for b in &blocks {
            let scaled = 10i128
                .checked_pow(u32::from(total_exponent - b.currency.exponent()))
                .and_then(|factor| b.sum.checked_mul(factor))
                .ok_or(Pain001Error::TotalOverflow)?;
            total =
                total.checked_add(scaled).filter(|t| *t <= i128::from(MAX_MINOR)).ok_or(Pain001Error::TotalOverflow)?;
        }

        Ok(Checked {
            message_id: &batch.message_id,
            created_at,
            execution_date,
            debtor,
            count: batch.transfers.len(),
            blocks,
            total,
            total_exponent,
        })
    }
}

fn check_transfer(t: &CreditTransfer) -> Result<CheckedTransfer<'_>, Pain001Error> {
    check_id("EndToEndId", &t.end_to_end_id)?;
    let end_to_end_id = || t.end_to_end_id.clone();
    if t.amount.minor <= 0 {
        return Err(Pain001Error::NonPositiveAmount { end_to_end_id: end_to_end_id(), amount: t.amount });
    }
    let max = if t.amount.currency.code() == "EUR" { MAX_SEPA_EUR_MINOR } else { MAX_MINOR };
    if t.amount.minor > max {
        return Err(Pain001Error::AmountTooLarge {
            end_to_end_id: end_to_end_id(),
            amount: t.amount,
            max: Money::new(max, t.amount.currency),
        });
    }
    let creditor = check_party(&t.creditor, Role::Creditor { end_to_end_id: end_to_end_id() })?;
    Ok(CheckedTransfer {
        end_to_end_id: &t.end_to_end_id,
        amount: t.amount,
        creditor,
        remittance: sepa_text(&t.remittance, MAX_REMITTANCE),
    })
}

fn check_party(party: &Party, role: Role) -> Result<CheckedParty, Pain001Error> {
    let name = sepa_text(&party.name, MAX_NAME);
    if name.is_empty() {
        return Err(Pain001Error::EmptyName { role });
    }
    let Some(iban) = valid_iban(&party.iban) else {
        return Err(Pain001Error::InvalidIban { role, iban: party.iban.clone() });
    };
    let bic = match &party.bic {
        None => None,
        Some(bic) => match valid_bic(bic) {
            Some(valid) => Some(valid),
            None => return Err(Pain001Error::InvalidBic { role, bic: bic.clone() }),
        },
    };
    Ok(CheckedParty { name, iban, bic })
}

/// An identifier as the EPC's SEPA rules take it: 1 to 35 characters of the SEPA set, not
/// starting or ending with `/` and without `//`.
fn check_id(element: &'static str, id: &str) -> Result<(), Pain001Error> {
    let problem = if id.is_empty() {
        IdProblem::Empty
    } else if id.chars().count() > MAX_ID {
        IdProblem::TooLong
    } else if !id.chars().all(is_sepa_char) {
        IdProblem::Characters
    } else if id.starts_with('/') || id.ends_with('/') || id.contains("//") {
        IdProblem::Slashes
    } else {
        return Ok(());
    };
    Err(Pain001Error::InvalidId { element, id: id.to_string(), problem })
}

/// `xs:dateTime` without a zone, for years 1 to 9999 (the schema has no year 0).
fn civil_date_time(dt: DateTime) -> Option<String> {
    let date = civil_date(dt.date())?;
    Some(format!("{date}T{:02}:{:02}:{:02}", dt.hour(), dt.minute(), dt.second()))
}

/// `xs:date`, for years 1 to 9999.
fn civil_date(d: Date) -> Option<String> {
    (1..=9999).contains(&d.year()).then(|| format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
}

/// A character of the SEPA Latin set (EPC guidance on the character set).
fn is_sepa_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '?' | ':' | '(' | ')' | '.' | ',' | '\'' | '+' | ' ')
}

/// `raw` in the SEPA set, whitespace collapsed and trimmed, cut to `max` characters; see
/// the module documentation.
fn sepa_text(raw: &str, max: usize) -> String {
    let mut out = String::new();
    let mut space = false;
    for c in raw.chars() {
        if out.len() > max {
            break;
        }
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        let mapped = if is_sepa_char(c) { None } else { Some(transliteration(c)) };
        if mapped == Some("") {
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        match mapped {
            None => out.push(c),
            Some(text) => out.push_str(text),
        }
    }
    // Everything pushed is ASCII, so the byte count above is the character count; the cut
    // still goes by characters, which can never split one.
    if let Some((cut, _)) = out.char_indices().nth(max) {
        out.truncate(cut);
    }
    out.truncate(out.trim_end().len());
    out
}

/// The SEPA-set text standing for `c`, a character outside the set: a transliteration,
/// nothing (for invisible characters), or `?`.
fn transliteration(c: char) -> &'static str {
    match c {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ă' | 'Ą' | 'Ǎ' => "A",
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ǎ' | 'ª' => "a",
        'Æ' => "AE",
        'æ' => "ae",
        'Ç' | 'Ć' | 'Ĉ' | 'Ċ' | 'Č' => "C",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'Ð' | 'Ď' | 'Đ' => "D",
        'ð' | 'ď' | 'đ' => "d",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' => "E",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => "G",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'Ĥ' | 'Ħ' => "H",
        'ĥ' | 'ħ' => "h",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' | 'Ǐ' => "I",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'ǐ' => "i",
        'Ĳ' => "IJ",
        'ĳ' => "ij",
        'Ĵ' => "J",
        'ĵ' => "j",
        'Ķ' => "K",
        'ķ' | 'ĸ' => "k",
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ŀ' | 'Ł' => "L",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'Ñ' | 'Ń' | 'Ņ' | 'Ň' | 'Ŋ' => "N",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ŋ' => "n",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ŏ' | 'Ő' | 'Ơ' | 'Ǒ' => "O",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'ơ' | 'ǒ' | 'º' => "o",
        'Œ' => "OE",
        'œ' => "oe",
        'Ŕ' | 'Ŗ' | 'Ř' => "R",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'Ś' | 'Ŝ' | 'Ş' | 'Š' | 'Ș' => "S",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' | 'ſ' => "s",
        'ß' | 'ẞ' => "ss",
        'Ţ' | 'Ť' | 'Ŧ' | 'Ț' => "T",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'Þ' => "TH",
        'þ' => "th",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' | 'Ư' | 'Ǔ' => "U",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ư' | 'ǔ' => "u",
        'Ŵ' => "W",
        'ŵ' => "w",
        'Ý' | 'Ŷ' | 'Ÿ' => "Y",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'ź' | 'ż' | 'ž' => "z",
        '&' => "+",
        '"' | '`' | '´' | '‘' | '’' | '‚' | '‛' | '“' | '”' | '„' | '«' | '»' | '‹' | '›' => "'",
        '_' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' => "-",
        ';' => ",",
        '!' | '·' | '•' => ".",
        '…' => "...",
        '[' | '{' | '<' => "(",
        ']' | '}' | '>' => ")",
        '\\' | '|' => "/",
        '×' => "x",
        '€' => "EUR",
        '£' => "GBP",
        // Combining diacritics (a decomposed "é"), zero-width and direction marks, the byte
        // order mark and variation selectors: invisible, so nothing stands for them.
        '\u{0300}'..='\u{036F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' => "",
        _ => "?",
    }
}

type Xml = Writer<Vec<u8>>;

fn write_document(w: &mut Xml, batch: &Checked<'_>) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("Document").with_attribute(("xmlns", NAMESPACE)).write_inner_content(|w| {
        open(w, "CstmrCdtTrfInitn")?;
        open(w, "GrpHdr")?;
        leaf(w, &["MsgId"], batch.message_id)?;
        leaf(w, &["CreDtTm"], &batch.created_at)?;
        leaf(w, &["NbOfTxs"], &batch.count.to_string())?;
        leaf(w, &["CtrlSum"], &decimal(batch.total, batch.total_exponent))?;
        leaf(w, &["InitgPty", "Nm"], &batch.debtor.name)?;
        close(w, "GrpHdr")?;
        for block in &batch.blocks {
            write_block(w, batch, block)?;
        }
        close(w, "CstmrCdtTrfInitn")
    })?;
    Ok(())
}

fn write_block(w: &mut Xml, batch: &Checked<'_>, block: &Block<'_>) -> io::Result<()> {
    let code = block.currency.code();
    // Unique within the message (one block per currency) and within 35 characters; the
    // message id is checked to be ASCII, so cutting by bytes is cutting by characters.
    let prefix = batch.message_id.get(..MAX_ID - code.len() - 1).unwrap_or(batch.message_id);
    open(w, "PmtInf")?;
    leaf(w, &["PmtInfId"], &format!("{prefix}-{code}"))?;
    leaf(w, &["PmtMtd"], "TRF")?;
    leaf(w, &["NbOfTxs"], &block.transfers.len().to_string())?;
    leaf(w, &["CtrlSum"], &decimal(block.sum, block.currency.exponent()))?;
    if code == "EUR" {
        leaf(w, &["PmtTpInf", "SvcLvl", "Cd"], "SEPA")?;
    }
    leaf(w, &["ReqdExctnDt"], &batch.execution_date)?;
    leaf(w, &["Dbtr", "Nm"], &batch.debtor.name)?;
    leaf(w, &["DbtrAcct", "Id", "IBAN"], &batch.debtor.iban)?;
    match &batch.debtor.bic {
        Some(bic) => leaf(w, &["DbtrAgt", "FinInstnId", "BIC"], bic)?,
        None => leaf(w, &["DbtrAgt", "FinInstnId", "Othr", "Id"], "NOTPROVIDED")?,
    }
    leaf(w, &["ChrgBr"], "SLEV")?;
    for t in &block.transfers {
        write_transfer(w, t)?;
    }
    close(w, "PmtInf")
}

fn write_transfer(w: &mut Xml, t: &CheckedTransfer<'_>) -> io::Result<()> {
    open(w, "CdtTrfTxInf")?;
    leaf(w, &["PmtId", "EndToEndId"], t.end_to_end_id)?;
    open(w, "Amt")?;
    w.create_element("InstdAmt")
        .with_attribute(("Ccy", t.amount.currency.code()))
        .write_text_content(escaped(&decimal(i128::from(t.amount.minor), t.amount.currency.exponent())))?;
    close(w, "Amt")?;
    if let Some(bic) = &t.creditor.bic {
        leaf(w, &["CdtrAgt", "FinInstnId", "BIC"], bic)?;
    }
    leaf(w, &["Cdtr", "Nm"], &t.creditor.name)?;
    leaf(w, &["CdtrAcct", "Id", "IBAN"], &t.creditor.iban)?;
    if !t.remittance.is_empty() {
        leaf(w, &["RmtInf", "Ustrd"], &t.remittance)?;
    }
    close(w, "CdtTrfTxInf")
}

/// Text content with `<`, `>` and `&` escaped; quotes need no escaping in content.
fn escaped(text: &str) -> BytesText<'_> {
    BytesText::from_escaped(partial_escape(text))
}

fn open(w: &mut Xml, name: &str) -> io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))
}

fn close(w: &mut Xml, name: &str) -> io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}

/// `<a><b>text</b></a>` for `path` `["a", "b"]`, the text escaped.
fn leaf(w: &mut Xml, path: &[&str], text: &str) -> io::Result<()> {
    match path {
        [] => Ok(()),
        [name] => w.create_element(*name).write_text_content(escaped(text)).map(|_| ()),
        [name, rest @ ..] => {
            open(w, name)?;
            leaf(w, rest, text)?;
            close(w, name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::parse_minor;
    use crate::xml_tree::{self, Element};
    use proptest::prelude::*;

    const DEBTOR_IBAN: &str = "DE89 3704 0044 0532 0130 00";
    const CREDITOR_IBAN: &str = "FR1420041010050500013M02606";
    const GB_IBAN: &str = "GB29NWBK60161331926819";

    fn money(minor: i64, code: &str) -> Money {
        Money::new(minor, Currency::parse(code).unwrap())
    }

    fn party(name: &str, iban: &str, bic: Option<&str>) -> Party {
        Party { name: name.to_string(), iban: iban.to_string(), bic: bic.map(str::to_string) }
    }

    fn transfer(id: &str, amount: Money) -> CreditTransfer {
        CreditTransfer {
            end_to_end_id: id.to_string(),
            amount,
            creditor: party("Hotel Zur Post", CREDITOR_IBAN, None),
            remittance: format!("Payout {id}"),
        }
    }

    fn batch(transfers: Vec<CreditTransfer>) -> PaymentBatch {
        PaymentBatch {
            message_id: "MSG-2026-03-01".to_string(),
            created_at: "2026-03-01T09:30:47.123Z".parse().unwrap(),
            execution_date: jiff::civil::date(2026, 3, 2),
            debtor: party("Innkeep GmbH", DEBTOR_IBAN, Some("COBADEFFXXX")),
            transfers,
        }
    }

    fn document(batch: &PaymentBatch) -> Element {
        let xml = pain001(batch).unwrap();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\">"));
        let root = xml_tree::parse(xml.as_bytes()).unwrap();
        assert_eq!(root.name, "Document");
        root.children.into_iter().next().unwrap()
    }

    #[test]
    fn ibans_are_checked_and_normalised() {
        assert_eq!(valid_iban(DEBTOR_IBAN).as_deref(), Some("DE89370400440532013000"));
        assert_eq!(valid_iban("gb29 nwbk 6016 1331 9268 19").as_deref(), Some(GB_IBAN));
        assert_eq!(valid_iban(CREDITOR_IBAN).as_deref(), Some(CREDITOR_IBAN));
        assert_eq!(valid_iban("NO9386011117947").as_deref(), Some("NO9386011117947"));
        for bad in [
            "",
            "DE88370400440532013000",   // wrong check digits
            "DE8937040044053201300",    // a digit missing
            "D189370400440532013000",   // country not letters
            "DEAB370400440532013000",   // check digits not digits
            "DE89-3704-0044-0532-0130", // punctuation
            "NO938601111794",           // 14 characters
            "DE89370400440532013000123456789012345",
            "DE89370400440532013ß00",
        ] {
            assert_eq!(valid_iban(bad), None, "{bad}");
        }
    }

    #[test]
    fn bics_have_the_iso_9362_shape() {
        assert_eq!(valid_bic("cobadeff").as_deref(), Some("COBADEFF"));
        assert_eq!(valid_bic("COBADEFFXXX").as_deref(), Some("COBADEFFXXX"));
        assert_eq!(valid_bic("NWBK GB 2L").as_deref(), Some("NWBKGB2L"));
        for bad in ["", "COBADEF", "COBADEFFX", "COBADEFFXXXX", "C0BADEFF", "COBADE1F", "COBADEFO", "COBADEFF-XX"] {
            assert_eq!(valid_bic(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_eur_batch_has_the_sepa_shape() {
        let b = batch(vec![transfer("E2E-1", money(12345, "EUR")), transfer("E2E-2", money(5, "EUR"))]);
        let doc = document(&b);
        assert_eq!(doc.name, "CstmrCdtTrfInitn");
        assert_eq!(doc.text_at(&["GrpHdr", "MsgId"]), Some("MSG-2026-03-01"));
        assert_eq!(doc.text_at(&["GrpHdr", "CreDtTm"]), Some("2026-03-01T09:30:47"));
        assert_eq!(doc.text_at(&["GrpHdr", "NbOfTxs"]), Some("2"));
        assert_eq!(doc.text_at(&["GrpHdr", "CtrlSum"]), Some("123.50"));
        assert_eq!(doc.text_at(&["GrpHdr", "InitgPty", "Nm"]), Some("Innkeep GmbH"));
        let blocks: Vec<&Element> = doc.children("PmtInf").collect();
        assert_eq!(blocks.len(), 1);
        let p = blocks[0];
        assert_eq!(p.text_at(&["PmtInfId"]), Some("MSG-2026-03-01-EUR"));
        assert_eq!(p.text_at(&["PmtMtd"]), Some("TRF"));
        assert_eq!(p.text_at(&["CtrlSum"]), Some("123.50"));
        assert_eq!(p.text_at(&["PmtTpInf", "SvcLvl", "Cd"]), Some("SEPA"));
        assert_eq!(p.text_at(&["ReqdExctnDt"]), Some("2026-03-02"));
        assert_eq!(p.text_at(&["DbtrAcct", "Id", "IBAN"]), Some("DE89370400440532013000"));
        assert_eq!(p.text_at(&["DbtrAgt", "FinInstnId", "BIC"]), Some("COBADEFFXXX"));
        assert_eq!(p.text_at(&["ChrgBr"]), Some("SLEV"));
        let tx: Vec<&Element> = p.children("CdtTrfTxInf").collect();
        assert_eq!(tx[0].text_at(&["PmtId", "EndToEndId"]), Some("E2E-1"));
        let amount = tx[0].path(&["Amt", "InstdAmt"]).unwrap();
        assert_eq!((amount.attribute("Ccy"), amount.trimmed_text()), (Some("EUR"), Some("123.45")));
        assert_eq!(tx[1].text_at(&["Amt", "InstdAmt"]), Some("0.05"));
        assert!(tx[0].child("CdtrAgt").is_none());
        assert_eq!(tx[0].text_at(&["Cdtr", "Nm"]), Some("Hotel Zur Post"));
        assert_eq!(tx[0].text_at(&["RmtInf", "Ustrd"]), Some("Payout E2E-1"));
    }

    #[test]
    fn each_currency_gets_its_own_block_and_only_eur_is_sepa() {
        let mut gbp = transfer("E2E-2", money(2500, "GBP"));
        gbp.creditor = party("Inn Ltd", GB_IBAN, Some("NWBKGB2L"));
        let b = PaymentBatch {
            debtor: party("Innkeep GmbH", DEBTOR_IBAN, None),
            ..batch(vec![
                transfer("E2E-1", money(1000, "EUR")),
                gbp,
                transfer("E2E-3", money(700, "JPY")),
                transfer("E2E-4", money(1, "EUR")),
            ])
        };
        let doc = document(&b);
        // 10.00 + 25.00 + 700 + 0.01, a plain sum across currencies.
        assert_eq!(doc.text_at(&["GrpHdr", "CtrlSum"]), Some("735.01"));
        assert_eq!(doc.text_at(&["GrpHdr", "NbOfTxs"]), Some("4"));
        let blocks: Vec<&Element> = doc.children("PmtInf").collect();
        let summary: Vec<_> = blocks
            .iter()
            .map(|p| (p.text_at(&["PmtInfId"]), p.text_at(&["NbOfTxs"]), p.text_at(&["CtrlSum"])))
            .collect();
        assert_eq!(
            summary,
            [
                (Some("MSG-2026-03-01-EUR"), Some("2"), Some("10.01")),
                (Some("MSG-2026-03-01-GBP"), Some("1"), Some("25.00")),
                (Some("MSG-2026-03-01-JPY"), Some("1"), Some("700")),
            ]
        );
        assert!(blocks[0].child("PmtTpInf").is_some());
        assert!(blocks[1].child("PmtTpInf").is_none() && blocks[2].child("PmtTpInf").is_none());
        for p in &blocks {
            assert_eq!(p.text_at(&["DbtrAgt", "FinInstnId", "Othr", "Id"]), Some("NOTPROVIDED"));
        }
        let gbp_tx = blocks[1].child("CdtTrfTxInf").unwrap();
        assert_eq!(gbp_tx.text_at(&["CdtrAgt", "FinInstnId", "BIC"]), Some("NWBKGB2L"));
        assert_eq!(gbp_tx.text_at(&["CdtrAcct", "Id", "IBAN"]), Some(GB_IBAN));
    }

    #[test]
    fn free_text_is_adapted_to_the_sepa_set_and_cut() {
        assert_eq!(sepa_text("  Ærøskøbing  Kro & Café\n\"Zur Straße\"  ", 70), "AEroskobing Kro + Cafe 'Zur Strasse'");
        assert_eq!(sepa_text("Cafe\u{301} <b>50€</b>; ok!", 70), "Cafe (b)50EUR(/b), ok.");
        assert_eq!(sepa_text("東京 Hotel 🏨", 70), "?? Hotel ?");
        assert_eq!(sepa_text("\u{200B}\u{FEFF}\t\r\n", 70), "");
        assert_eq!(sepa_text(&"ß".repeat(100), 70), "s".repeat(70));
        assert_eq!(sepa_text(&format!("{} end", "a".repeat(69)), 70), "a".repeat(69));
        assert_eq!(sepa_text(&"é".repeat(200), 140).len(), 140);
    }

    #[test]
    fn special_characters_are_escaped_and_names_cut() {
        let mut t = transfer("E2E-1", money(100, "EUR"));
        t.creditor.name = format!("O'Brien & Söhne <Gasthof> {}", "x".repeat(100));
        t.remittance = "Booking #42 'late' \"checkout\" & <more>".to_string();
        let xml = pain001(&batch(vec![t])).unwrap();
        assert!(!xml.contains("<Gasthof>") && !xml.contains("& "));
        let root = xml_tree::parse(xml.as_bytes()).unwrap();
        let tx = root.path(&["CstmrCdtTrfInitn", "PmtInf", "CdtTrfTxInf"]).unwrap();
        let name = tx.text_at(&["Cdtr", "Nm"]).unwrap();
        assert_eq!(name.chars().count(), 70);
        assert!(name.starts_with("O'Brien + Sohne (Gasthof) xxx"), "{name}");
        assert_eq!(tx.text_at(&["RmtInf", "Ustrd"]), Some("Booking ?42 'late' 'checkout' + (more)"));
    }

    #[test]
    fn empty_remittance_leaves_out_rmtinf() {
        let mut t = transfer("E2E-1", money(100, "EUR"));
        t.remittance = " \u{200B} ".to_string();
        let doc = document(&batch(vec![t]));
        assert!(doc.path(&["PmtInf", "CdtTrfTxInf", "RmtInf"]).is_none());
    }

    #[test]
    fn long_message_ids_still_give_35_character_block_ids() {
        let mut b = batch(vec![transfer("E2E-1", money(100, "EUR"))]);
        b.message_id = "M".repeat(35);
        let doc = document(&b);
        assert_eq!(doc.text_at(&["PmtInf", "PmtInfId"]).map(str::len), Some(35));
    }

    #[test]
    fn bad_batches_are_refused_with_the_reason() {
        let ok = || batch(vec![transfer("E2E-1", money(100, "EUR"))]);
        assert_eq!(pain001(&batch(vec![])), Err(Pain001Error::NoTransfers));

        let mut b = ok();
        b.message_id = String::new();
        assert!(matches!(
            pain001(&b),
            Err(Pain001Error::InvalidId { element: "MsgId", problem: IdProblem::Empty, .. })
        ));
        b.message_id = "M".repeat(36);
        assert!(matches!(pain001(&b), Err(Pain001Error::InvalidId { problem: IdProblem::TooLong, .. })));
        b.message_id = "Über-1".to_string();
        assert!(matches!(pain001(&b), Err(Pain001Error::InvalidId { problem: IdProblem::Characters, .. })));
        b.message_id = "a//b".to_string();
        assert!(matches!(pain001(&b), Err(Pain001Error::InvalidId { problem: IdProblem::Slashes, .. })));

        let mut b = ok();
        b.transfers[0].end_to_end_id = "E".repeat(36);
        assert!(matches!(pain001(&b), Err(Pain001Error::InvalidId { element: "EndToEndId", .. })));

        for minor in [0, -1, i64::MIN] {
            let mut b = ok();
            b.transfers[0].amount.minor = minor;
            assert!(matches!(pain001(&b), Err(Pain001Error::NonPositiveAmount { .. })), "{minor}");
        }
        let mut b = ok();
        b.transfers[0].amount.minor = MAX_SEPA_EUR_MINOR + 1;
        let err = pain001(&b).unwrap_err();
        assert_eq!(err.to_string(), "transfer \"E2E-1\": amount 1000000000.00 EUR is larger than 999999999.99 EUR");
        b.transfers[0].amount = money(i64::MAX, "USD");
        assert!(matches!(pain001(&b), Err(Pain001Error::AmountTooLarge { .. })));

        let mut b = ok();
        b.debtor.iban = "DE00 0000".to_string();
        assert_eq!(pain001(&b).unwrap_err().to_string(), "the debtor: IBAN \"DE00 0000\" is not a valid IBAN");
        let mut b = ok();
        b.transfers[0].creditor.bic = Some("NOPE".to_string());
        assert_eq!(
            pain001(&b).unwrap_err().to_string(),
            "the creditor of transfer \"E2E-1\": BIC \"NOPE\" is not a valid BIC"
        );
        let mut b = ok();
        b.transfers[0].creditor.bic = Some(String::new());
        assert!(matches!(pain001(&b), Err(Pain001Error::InvalidBic { .. })));
        let mut b = ok();
        b.transfers[0].creditor.name = " \n ".to_string();
        assert!(matches!(pain001(&b), Err(Pain001Error::EmptyName { role: Role::Creditor { .. } })));

        let mut b = ok();
        b.execution_date = jiff::civil::date(0, 1, 1);
        assert!(matches!(pain001(&b), Err(Pain001Error::DateOutOfRange { .. })));
    }

    #[test]
    fn sums_that_no_longer_fit_are_refused() {
        let big = || transfer("E2E", money(MAX_MINOR, "USD"));
        assert!(pain001(&batch(vec![big()])).is_ok());
        assert_eq!(
            pain001(&batch(vec![big(), transfer("E2E-2", money(1, "USD"))])),
            Err(Pain001Error::SumOverflow { currency: Currency::parse("USD").unwrap() })
        );
        // Each block fits, but the plain sum over currencies does not.
        assert_eq!(pain001(&batch(vec![big(), transfer("E2E-2", money(1, "GBP"))])), Err(Pain001Error::TotalOverflow));
        // JPY counted at two decimals for the total: 10^16 yen is 10^18 hundredths.
        assert_eq!(
            pain001(&batch(vec![
                transfer("E2E-1", money(10_000_000_000_000_000, "JPY")),
                transfer("E2E-2", money(1, "USD"))
            ])),
            Err(Pain001Error::TotalOverflow)
        );
    }

    #[test]
    fn decimals_come_from_minor_units_and_the_exponent() {
        assert_eq!(decimal(12345, 2), "123.45");
        assert_eq!(decimal(5, 2), "0.05");
        assert_eq!(decimal(-5, 3), "-0.005");
        assert_eq!(decimal(700, 0), "700");
        assert_eq!(decimal(i128::from(i64::MIN), 2), "-92233720368547758.08");
    }

    #[test]
    fn payouts_csv_lists_transfers_and_defuses_formulas() {
        let mut evil = transfer("=HYPERLINK(\"x\")", money(-150, "EUR"));
        evil.creditor = party("+Mallory, \"the\" host", "fr14 2004 1010 0505 0001 3m02 606", Some(" cobadeff "));
        evil.remittance = "@SUM(A1)\nline two".to_string();
        let mut tab = transfer("E2E-2", money(700, "JPY"));
        tab.creditor.name = "\tTab".to_string();
        tab.remittance = "-1+1".to_string();
        let csv = payouts_csv(&batch(vec![evil, tab]));
        assert_eq!(
            csv,
            "end_to_end_id,creditor,iban,bic,amount,currency,remittance,execution_date\n\
             \"'=HYPERLINK(\"\"x\"\")\",\"'+Mallory, \"\"the\"\" host\",FR1420041010050500013M02606,COBADEFF,-1.50,EUR,\"'@SUM(A1)\nline two\",2026-03-02\n\
             E2E-2,'\tTab,FR1420041010050500013M02606,,700,JPY,'-1+1,2026-03-02\n"
        );
    }

    #[test]
    fn payouts_csv_of_an_empty_batch_is_the_header() {
        assert_eq!(
            payouts_csv(&batch(vec![])),
            "end_to_end_id,creditor,iban,bic,amount,currency,remittance,execution_date\n"
        );
    }

    /// Valid IBANs from the ISO 13616 registry examples, for generated batches.
    const IBANS: &[&str] = &[DEBTOR_IBAN, CREDITOR_IBAN, GB_IBAN, "NL91ABNA0417164300", "AT611904300234573201"];
    const CURRENCIES: &[&str] = &["EUR", "GBP", "JPY", "KWD", "CHF"];

    fn valid_transfer() -> impl Strategy<Value = CreditTransfer> {
        (
            "[A-Za-z0-9][A-Za-z0-9 .-]{0,33}[A-Za-z0-9]",
            1i64..=MAX_SEPA_EUR_MINOR,
            0..CURRENCIES.len(),
            "\\PC{1,100}",
            0..IBANS.len(),
            prop::option::of(Just("NWBKGB2L".to_string())),
            "\\PC{0,200}",
        )
            .prop_map(|(id, minor, currency, name, iban, bic, remittance)| CreditTransfer {
                end_to_end_id: id,
                amount: money(minor, CURRENCIES[currency]),
                creditor: Party { name: format!("N {name}"), iban: IBANS[iban].to_string(), bic },
                remittance,
            })
    }

    /// Arbitrary text, or often enough a valid value that the writer is reached.
    fn id() -> impl Strategy<Value = String> {
        prop_oneof!["[A-Za-z0-9]{1,35}", "(?s).{0,40}"]
    }

    fn iban() -> impl Strategy<Value = String> {
        prop_oneof![prop::sample::select(IBANS).prop_map(str::to_string), "(?s).{0,40}"]
    }

    fn bic() -> impl Strategy<Value = String> {
        prop_oneof![Just("NWBKGB2L".to_string()), "(?s).{0,12}"]
    }

    fn read_amount(el: &Element, exponent: u8) -> i128 {
        let minor = parse_minor(el.trimmed_text().unwrap(), exponent).unwrap();
        assert!(!minor.negative && !minor.truncated);
        i128::from(minor.magnitude)
    }

    proptest! {
        #[test]
        fn ctrlsum_is_the_sum_of_the_amounts(transfers in prop::collection::vec(valid_transfer(), 1..40)) {
            let doc = document(&batch(transfers.clone()));
            let mut total = 0i128;
            let mut count = 0;
            for p in doc.children("PmtInf") {
                let mut sum = 0i128;
                let mut exponent = 0;
                for tx in p.children("CdtTrfTxInf") {
                    let amount = tx.path(&["Amt", "InstdAmt"]).unwrap();
                    let currency = Currency::parse(amount.attribute("Ccy").unwrap()).unwrap();
                    exponent = currency.exponent();
                    let minor = read_amount(amount, exponent);
                    sum += minor;
                    total += minor * 10i128.pow(u32::from(3 - exponent));
                    count += 1;
                    let name = tx.text_at(&["Cdtr", "Nm"]).unwrap();
                    prop_assert!(name.chars().count() <= MAX_NAME && name.chars().all(is_sepa_char));
                    let remittance = tx.text_at(&["RmtInf", "Ustrd"]).unwrap_or("");
                    prop_assert!(remittance.chars().count() <= MAX_REMITTANCE && remittance.chars().all(is_sepa_char));
                }
                prop_assert_eq!(read_amount(p.child("CtrlSum").unwrap(), exponent), sum);
            }
            let expected: i128 = transfers
                .iter()
                .map(|t| i128::from(t.amount.minor) * 10i128.pow(u32::from(3 - t.amount.currency.exponent())))
                .sum();
            prop_assert_eq!(total, expected);
            prop_assert_eq!(count, transfers.len());
            prop_assert_eq!(read_amount(doc.path(&["GrpHdr", "CtrlSum"]).unwrap(), 3), expected);
        }

        #[test]
        fn arbitrary_text_never_panics(
            message_id in id(),
            debtor in (".{0,80}", iban(), prop::option::of(bic())),
            transfers in prop::collection::vec(
                (id(), any::<i64>(), 0..CURRENCIES.len(), ".{0,100}", iban(), prop::option::of(bic()), "(?s).{0,200}"),
                0..8,
            ),
        ) {
            let b = PaymentBatch {
                message_id,
                debtor: Party { name: debtor.0, iban: debtor.1, bic: debtor.2 },
                transfers: transfers
                    .into_iter()
                    .map(|(id, minor, currency, name, iban, bic, remittance)| CreditTransfer {
                        end_to_end_id: id,
                        amount: money(minor, CURRENCIES[currency]),
                        creditor: Party { name, iban, bic },
                        remittance,
                    })
                    .collect(),
                ..batch(vec![])
            };
            if let Ok(xml) = pain001(&b) {
                prop_assert!(xml_tree::parse(xml.as_bytes()).is_ok());
            }
            let csv = payouts_csv(&b);
            prop_assert!(csv.starts_with("end_to_end_id,"));
        }

        #[test]
        fn arbitrary_text_adapts_within_limits(text in "(?s).{0,300}", max in 1usize..200) {
            let out = sepa_text(&text, max);
            prop_assert!(out.chars().count() <= max);
            prop_assert!(out.chars().all(is_sepa_char));
            prop_assert_eq!(out.trim(), out.as_str());
            prop_assert!(!out.contains("  "));
        }
    }
}
