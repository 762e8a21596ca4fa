//! The XML document of a request, read by quick-xml's `NsReader` into a small tree of
//! elements named by namespace and local name (so prefixes do not matter), within limits.

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

/// Deepest nesting read: OTA messages inside a SOAP envelope nest about 16 deep.
pub(crate) const MAX_DEPTH: usize = 64;
/// Most elements in one document (a year of daily inventory for a dozen room types fits).
pub(crate) const MAX_ELEMENTS: usize = 100_000;
/// Most attributes on one element; quick-xml checks duplicates in quadratic time.
pub(crate) const MAX_ATTRIBUTES: usize = 64;

pub(crate) const OTA_NS: &str = "http://www.opentravel.org/OTA/2003/05";
pub(crate) const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub(crate) const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
pub(crate) const WSSE_NS: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";

/// The namespaces the reader tells apart; every other one is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ns {
    /// No namespace (an OTA document sent without `xmlns`).
    None,
    Ota,
    Soap11,
    Soap12,
    Wsse,
    Other,
}

impl Ns {
    fn of(resolved: &ResolveResult<'_>) -> Ns {
        match resolved {
            ResolveResult::Unbound => Ns::None,
            ResolveResult::Bound(ns) => match ns.as_ref() {
                b if b == OTA_NS.as_bytes() => Ns::Ota,
                b if b == SOAP11_NS.as_bytes() => Ns::Soap11,
                b if b == SOAP12_NS.as_bytes() => Ns::Soap12,
                b if b == WSSE_NS.as_bytes() => Ns::Wsse,
                _ => Ns::Other,
            },
            ResolveResult::Unknown(_) => Ns::Other,
        }
    }
}

/// One element: its namespace, local name, unprefixed attributes, child elements and the
/// text directly inside it.
#[derive(Debug)]
pub(crate) struct Element {
    pub ns: Ns,
    pub name: String,
    attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    /// The value of an unprefixed attribute, trimmed; `None` when absent or blank.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// The first child element named `name` in this element's namespace.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.ns == self.ns && c.name == name)
    }

    /// The child elements named `name` in this element's namespace.
    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.ns == self.ns && c.name == name)
    }

    /// The first element down the path of names, each in this element's namespace.
    pub fn path(&self, names: &[&str]) -> Option<&Element> {
        names.iter().try_fold(self, |at, name| at.child(name))
    }

    /// The first child element named `name` in namespace `ns`.
    pub fn child_in(&self, ns: Ns, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.ns == ns && c.name == name)
    }

    /// The first element named `name` below this one (depth first, same namespace).
    pub fn descendant(&self, name: &str) -> Option<&Element> {
        let mut stack: Vec<&Element> = self.children.iter().rev().collect();
        while let Some(at) = stack.pop() {
            if at.ns == self.ns && at.name == name {
                return Some(at);
            }
            stack.extend(at.children.iter().rev());
        }
        None
    }

    /// The text inside, trimmed; `None` when blank.
    pub fn text(&self) -> Option<&str> {
        Some(self.text.trim()).filter(|t| !t.is_empty())
    }
}

/// Reads `body` into its root element, or says why it is not a document this reader takes:
/// not UTF-8, not well-formed, a `DOCTYPE` (entities are never expanded), an entity other
/// than the five predefined ones, or past the limits above.
pub(crate) fn parse(body: &[u8]) -> Result<Element, String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8 text".to_owned())?;
    let mut reader = NsReader::from_str(text);
    let mut open: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(|e| format!("not well-formed XML: {e}"))?;
        let ns = Ns::of(&resolved);
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err("more than one root element".to_owned());
            }
            Event::Start(start) => {
                count += 1;
                if count > MAX_ELEMENTS || open.len() >= MAX_DEPTH {
                    return Err(too_big(count));
                }
                open.push(element(ns, &start)?);
            }
            Event::Empty(start) => {
                count += 1;
                if count > MAX_ELEMENTS || open.len() >= MAX_DEPTH {
                    return Err(too_big(count));
                }
                let done = element(ns, &start)?;
                close(done, &mut open, &mut root);
            }
            Event::End(_) => {
                // quick-xml has checked that the end tag matches the open one.
                let done = open.pop().ok_or_else(|| "an end tag without its start".to_owned())?;
                close(done, &mut open, &mut root);
            }
            Event::Text(t) => {
                let t = t.xml10_content().map_err(|e| format!("unreadable text: {e}"))?;
                match open.last_mut() {
                    Some(parent) => parent.text.push_str(&t),
                    None if t.trim().is_empty() => {}
                    None => return Err("text outside the root element".to_owned()),
                }
            }
            Event::CData(t) => {
                let t = t.xml10_content().map_err(|e| format!("unreadable CDATA: {e}"))?;
                match open.last_mut() {
                    Some(parent) => parent.text.push_str(&t),
                    None => return Err("CDATA outside the root element".to_owned()),
                }
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| format!("unreadable reference: {e}"))?;
                let resolved = match r.resolve_char_ref().map_err(|e| format!("bad character reference: {e}"))? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| format!("unknown entity &{name};"))?
                        .to_owned(),
                };
                match open.last_mut() {
                    Some(parent) => parent.text.push_str(&resolved),
                    None => return Err("a reference outside the root element".to_owned()),
                }
            }
            Event::DocType(_) => return Err("a DOCTYPE is not accepted".to_owned()),
            Event::Decl(decl) => {
                if let Some(encoding) = decl.encoding() {
                    let encoding = encoding.map_err(|e| format!("unreadable XML declaration: {e}"))?;
                    if !encoding.eq_ignore_ascii_case(b"utf-8") && !encoding.eq_ignore_ascii_case(b"us-ascii") {
                        return Err(format!(
                            "encoding {} is not accepted: send UTF-8",
                            String::from_utf8_lossy(&encoding)
                        ));
                    }
                }
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !open.is_empty() {
        return Err(format!("the document ends inside {} open element(s)", open.len()));
    }
    root.ok_or_else(|| "no root element".to_owned())
}

fn too_big(count: usize) -> String {
    if count > MAX_ELEMENTS {
        format!("more than {MAX_ELEMENTS} elements")
    } else {
        format!("elements nested deeper than {MAX_DEPTH}")
    }
}

/// Attaches a finished element to its parent, or makes it the root.
fn close(done: Element, open: &mut [Element], root: &mut Option<Element>) {
    match open.last_mut() {
        Some(parent) => parent.children.push(done),
        None => *root = Some(done),
    }
}

fn element(ns: Ns, start: &BytesStart<'_>) -> Result<Element, String> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    if start.attributes().with_checks(false).take(MAX_ATTRIBUTES + 1).count() > MAX_ATTRIBUTES {
        return Err(format!("more than {MAX_ATTRIBUTES} attributes on {name}"));
    }
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| format!("bad attribute on {name}: {e}"))?;
        // Namespace declarations and prefixed attributes (xsi:, soap:mustUnderstand, wsu:Id)
        // carry nothing this reader uses.
        if attribute.key.as_namespace_binding().is_some() || attribute.key.prefix().is_some() {
            continue;
        }
        let key = String::from_utf8_lossy(attribute.key.local_name().as_ref()).into_owned();
        let value = attribute.unescape_value().map_err(|e| format!("bad value of {name}/@{key}: {e}"))?;
        attributes.push((key, value.into_owned()));
    }
    Ok(Element { ns, name, attributes, children: Vec::new(), text: String::new() })
}
