//! A small element tree read with quick-xml: local names, attributes and text, nothing else.
//!
//! ISO 20022 documents change namespace with every version, so elements are known by their
//! local name only. Statements are small enough (kilobytes to a few megabytes) that a tree
//! is simpler to query than a streaming state machine.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// Deeper nesting is refused: a camt.053 is about 12 levels deep, and a bounded depth keeps
/// hostile input from exhausting the stack when the tree is dropped.
const MAX_DEPTH: usize = 64;

/// One element: its local name, attributes (local names), the text directly inside it
/// (untrimmed, entities resolved) and its child elements in document order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

/// Why bytes are not a well-formed XML document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum XmlError {
    #[error("{message} (at byte {position})")]
    Syntax { position: u64, message: String },
    #[error("elements nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("the document ends inside <{0}>")]
    UnexpectedEnd(String),
    #[error("no root element")]
    NoRoot,
    #[error("content after the root element (at byte {0})")]
    AfterRoot(u64),
    #[error("unknown entity &{0};")]
    UnknownEntity(String),
}

impl Element {
    /// The first child element named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child element named `name`.
    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element at `path`, following the first child of each name.
    pub fn path(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |el, name| el.child(name))
    }

    /// The trimmed text at `path`, when not empty.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.path(path).and_then(Element::trimmed_text)
    }

    /// This element's own text, trimmed, when not empty.
    pub fn trimmed_text(&self) -> Option<&str> {
        Some(self.text.trim()).filter(|t| !t.is_empty())
    }

    /// The value of the attribute with local name `name`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Read a whole document into its root element.
pub(crate) fn parse(bytes: &[u8]) -> Result<Element, XmlError> {
    let mut reader = Reader::from_reader(bytes);
    let mut open: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let syntax = |reader: &Reader<&[u8]>, e: &dyn std::fmt::Display| XmlError::Syntax {
        position: reader.error_position(),
        message: e.to_string(),
    };
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|e| syntax(&reader, &e))?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(XmlError::AfterRoot(position));
                }
                if open.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                open.push(element(&reader, &start).map_err(|e| syntax(&reader, &e))?);
            }
            Event::Empty(start) => {
                let el = element(&reader, &start).map_err(|e| syntax(&reader, &e))?;
                close(el, &mut open, &mut root, position)?;
            }
            Event::End(_) => {
                // quick-xml has already checked that the end tag matches the open one.
                let el = open.pop().ok_or(XmlError::Syntax { position, message: "unmatched end tag".into() })?;
                close(el, &mut open, &mut root, position)?;
            }
            Event::Text(text) => {
                let text = text.xml_content().map_err(|e| syntax(&reader, &e))?;
                push_text(&mut open, &text, position)?;
            }
            Event::CData(data) => {
                let text = data.xml_content().map_err(|e| syntax(&reader, &e))?;
                push_text(&mut open, &text, position)?;
            }
            Event::GeneralRef(entity) => {
                let resolved = match entity.resolve_char_ref().map_err(|e| syntax(&reader, &e))? {
                    Some(ch) => ch.to_string(),
                    None => {
                        let name = entity.decode().map_err(|e| syntax(&reader, &e))?;
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| XmlError::UnknownEntity(name.chars().take(40).collect()))?
                            .to_string()
                    }
                };
                push_text(&mut open, &resolved, position)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if let Some(el) = open.last() {
        return Err(XmlError::UnexpectedEnd(el.name.clone()));
    }
    root.ok_or(XmlError::NoRoot)
}

fn element(reader: &Reader<&[u8]>, start: &BytesStart<'_>) -> Result<Element, quick_xml::Error> {
    let decoder = reader.decoder();
    let name = decoder.decode(start.local_name().as_ref())?.into_owned();
    let mut attributes = Vec::new();
    for attr in start.attributes() {
        let attr = attr?;
        if attr.key.as_namespace_binding().is_some() {
            continue;
        }
        let key = decoder.decode(attr.key.local_name().as_ref())?.into_owned();
        let value = attr.decode_and_unescape_value(decoder)?.into_owned();
        attributes.push((key, value));
    }
    Ok(Element { name, attributes, text: String::new(), children: Vec::new() })
}

fn close(el: Element, open: &mut [Element], root: &mut Option<Element>, position: u64) -> Result<(), XmlError> {
    match open.last_mut() {
        Some(parent) => parent.children.push(el),
        None if root.is_none() => *root = Some(el),
        None => return Err(XmlError::AfterRoot(position)),
    }
    Ok(())
}

fn push_text(open: &mut [Element], text: &str, position: u64) -> Result<(), XmlError> {
    match open.last_mut() {
        Some(el) => el.text.push_str(text),
        // Whitespace between the prolog, the root and trailing comments is fine.
        None if text.trim().is_empty() => {}
        None => return Err(XmlError::Syntax { position, message: "text outside the root element".into() }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names_attributes_and_entities_are_read() {
        let doc = parse(
            br#"<?xml version="1.0"?><p:Doc xmlns:p="urn:x"><p:Amt p:Ccy="EUR" Other='a&amp;b'>1&#46;5&lt;<![CDATA[&x]]></p:Amt><Empty/></p:Doc>"#,
        )
        .unwrap();
        assert_eq!(doc.name, "Doc");
        let amt = doc.child("Amt").unwrap();
        assert_eq!(amt.attribute("Ccy"), Some("EUR"));
        assert_eq!(amt.attribute("Other"), Some("a&b"));
        assert_eq!(amt.text, "1.5<&x");
        assert!(doc.child("Empty").is_some());
        assert_eq!(doc.attributes, vec![]);
    }

    #[test]
    fn a_utf8_byte_order_mark_is_skipped() {
        assert_eq!(parse(b"\xEF\xBB\xBF<a>x</a>").unwrap().text, "x");
    }

    #[test]
    fn malformed_documents_are_refused() {
        assert!(matches!(parse(b"<a><b></a>"), Err(XmlError::Syntax { .. })));
        assert_eq!(parse(b"<a><b>"), Err(XmlError::UnexpectedEnd("b".into())));
        assert_eq!(parse(b""), Err(XmlError::NoRoot));
        assert_eq!(parse(b"  <!-- c -->  "), Err(XmlError::NoRoot));
        assert!(matches!(parse(b"<a/><b/>"), Err(XmlError::AfterRoot(_))));
        assert!(matches!(parse(b"<a>&nbsp;</a>"), Err(XmlError::UnknownEntity(_))));
        assert!(matches!(parse(b"text<a/>"), Err(XmlError::Syntax { .. })));
        assert!(matches!(parse(b"<a>\xFF</a>"), Err(XmlError::Syntax { .. })));
    }

    #[test]
    fn deep_nesting_is_refused_without_exhausting_the_stack() {
        let deep = "<a>".repeat(200_000);
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
        let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
    }
}
